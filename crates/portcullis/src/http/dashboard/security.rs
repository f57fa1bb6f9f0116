//! Settings > Security: every control of an environment on one page, in
//! the order of docs/dashboard.md, each section saved on its own with its
//! own message. Changes go through the services the management API calls.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::page::{DashError, Fields, Layout, Member, Message, render};
use crate::domain::events::NOTIFIABLE;
use crate::domain::expiration;
use crate::domain::origin_list::OriginWarning;
use crate::domain::roles::Role;
use crate::domain::settings::{MfaEnrollment, MfaMethod, TokenStorage};
use crate::services::Services;
use crate::services::environments::EnvironmentRuntime;
use crate::services::lock::EnvironmentInfo;
use crate::services::origins::ListedOrigin;

/// The messages of the page's sections, each beside its own.
#[derive(Default)]
pub struct SectionMessages {
    pub mfa: Option<Message>,
    pub origins: Option<Message>,
    pub jwt: Option<Message>,
    pub storage: Option<Message>,
    pub notifications: Option<Message>,
    pub sessions: Option<Message>,
    pub lock: Option<Message>,
}

pub struct MfaForm {
    pub totp: bool,
    pub passkey: bool,
    pub enrollment: &'static str,
    pub session_enforcement: bool,
    pub action_enforcement: bool,
    pub scopes: String,
    pub recovery_codes: bool,
}

pub struct Finding {
    pub severity: String,
    pub message: String,
    /// The section that fixes it; `None` for what the dashboard cannot
    /// change yet (tokens, webhooks: the management API).
    pub link: Option<String>,
}

#[derive(Template)]
#[template(path = "security.html")]
pub struct SecurityPage {
    pub layout: Option<Layout>,
    pub env: EnvironmentInfo,
    pub base: String,
    pub csrf: String,
    pub can_edit: bool,
    /// Revoking takes access away: open on a locked environment too.
    pub can_revoke: bool,
    pub is_owner: bool,
    pub messages: SectionMessages,
    pub findings: Vec<Finding>,
    pub mfa: MfaForm,
    pub origins: Vec<ListedOrigin>,
    pub origin_warnings: Vec<OriginWarning>,
    pub origin_input: String,
    pub origin_error: bool,
    pub jwt_seconds: u32,
    pub jwt_number: u64,
    pub jwt_unit: &'static str,
    pub jwt_input: String,
    pub jwt_unit_input: String,
    /// `in_app` or `cookie`, as chosen or as entered.
    pub storage: &'static str,
    pub cookie_domain: String,
    pub notifications: Vec<(&'static str, bool)>,
    pub recipients: String,
}

pub fn base(environment_id: &str) -> String {
    format!("/dashboard/environments/{environment_id}/settings/security")
}

/// The page for `env` as it is now, with nothing entered yet.
pub async fn security_page(
    services: &Services,
    member: &Member,
    env: &EnvironmentRuntime,
) -> Result<SecurityPage, DashError> {
    let s = &env.settings;
    let (jwt_number, jwt_unit) = expiration::split(s.jwt_expiration_seconds);
    let listed = env.listed();
    Ok(SecurityPage {
        layout: Some(member.layout(services, Some(env)).await?),
        env: EnvironmentInfo::of(env),
        base: base(env.id()),
        csrf: member.session.csrf_token.clone(),
        can_edit: member.may(Role::Developer) && !env.is_locked(),
        can_revoke: member.may(Role::Developer),
        is_owner: member.session.role == Role::Owner,
        messages: SectionMessages::default(),
        findings: findings(services, member, env).await?,
        mfa: MfaForm {
            totp: s.mfa.methods.contains(&MfaMethod::Totp),
            passkey: s.mfa.methods.contains(&MfaMethod::Passkey),
            enrollment: match s.mfa.enrollment {
                MfaEnrollment::Off => "off",
                MfaEnrollment::Optional => "optional",
                MfaEnrollment::Required => "required",
            },
            session_enforcement: s.mfa.session_enforcement,
            action_enforcement: s.mfa.action_enforcement.enabled,
            scopes: s.mfa.action_enforcement.scopes.join(" "),
            recovery_codes: s.mfa.recovery_codes,
        },
        origin_warnings: env.origin_warnings(),
        origins: listed,
        origin_input: String::new(),
        origin_error: false,
        jwt_seconds: s.jwt_expiration_seconds,
        jwt_number,
        jwt_unit,
        jwt_input: jwt_number.to_string(),
        jwt_unit_input: jwt_unit.to_string(),
        storage: match s.token_storage {
            TokenStorage::InApp => "in_app",
            TokenStorage::Cookie => "cookie",
        },
        cookie_domain: s.cookie_domain.clone().unwrap_or_default(),
        notifications: NOTIFIABLE
            .iter()
            .map(|k| {
                (
                    *k,
                    crate::domain::events::notifies(&s.notifications.events, k),
                )
            })
            .collect(),
        recipients: s.notifications.recipients.join(", "),
    })
}

/// The advisor's findings, each with the link to what fixes it.
async fn findings(
    services: &Services,
    member: &Member,
    env: &EnvironmentRuntime,
) -> Result<Vec<Finding>, DashError> {
    use crate::domain::advisor::Setting;
    Ok(services
        .advisor
        .findings(&member.caller(), env)
        .await?
        .into_iter()
        .map(|f| Finding {
            severity: f.severity.as_str().to_string(),
            message: f.message,
            link: match f.setting {
                // A member's own TOTP is set up on their account page.
                Setting::Members => Some("/dashboard/account#totp".into()),
                Setting::Tokens | Setting::Webhooks => None,
                s => Some(format!("{}#{}", base(env.id()), s.as_str())),
            },
        })
        .collect())
}

pub async fn page(
    State(services): State<Arc<Services>>,
    member: Member,
    Path(environment_id): Path<String>,
) -> Result<Response, DashError> {
    let env = member.environment(&services, &environment_id).await?;
    Ok(render(
        StatusCode::OK,
        &security_page(&services, &member, &env).await?,
    ))
}

/// The environment for a change by a `developer` or above; refused on a
/// locked environment (as the API refuses it).
async fn for_change(
    services: &Services,
    member: &Member,
    environment_id: &str,
) -> Result<Arc<EnvironmentRuntime>, DashError> {
    member.require(Role::Developer)?;
    let env = member.environment(services, environment_id).await?;
    env.refuse_if_locked()?;
    Ok(env)
}

/// Applies a settings patch and renders the page with the section's
/// message; `edit` puts what was entered back when it is refused.
async fn save_settings(
    services: &Services,
    member: &Member,
    env: &EnvironmentRuntime,
    patch: serde_json::Value,
    section: fn(&mut SectionMessages) -> &mut Option<Message>,
    saved: &str,
    edit: impl FnOnce(&mut SecurityPage),
) -> Result<Response, DashError> {
    match services
        .settings
        .update(env.id(), &patch, &member.actor())
        .await
    {
        Ok(_) => {
            let env = services.environments.get(env.id()).await?;
            let mut page = security_page(services, member, &env).await?;
            *section(&mut page.messages) = Some(Message::success(saved));
            Ok(render(StatusCode::OK, &page))
        }
        Err(e) => {
            let (status, message) = Message::of(e);
            let mut page = security_page(services, member, env).await?;
            edit(&mut page);
            *section(&mut page.messages) = Some(message);
            Ok(render(status, &page))
        }
    }
}

pub async fn save_mfa(
    State(services): State<Arc<Services>>,
    member: Member,
    Path(environment_id): Path<String>,
    form: Fields,
) -> Result<Response, DashError> {
    let env = for_change(&services, &member, &environment_id).await?;
    let mut methods = vec![];
    if form.flag("method_totp") {
        methods.push("totp");
    }
    if form.flag("method_passkey") {
        methods.push("passkey");
    }
    let scopes: Vec<&str> = form.get("scopes").split_whitespace().collect();
    let patch = json!({ "mfa": {
        "methods": methods,
        "enrollment": form.get("enrollment"),
        "session_enforcement": form.flag("session_enforcement"),
        "action_enforcement": { "enabled": form.flag("action_enforcement"), "scopes": scopes },
        "recovery_codes": form.flag("recovery_codes"),
    }});
    save_settings(
        &services,
        &member,
        &env,
        patch,
        |m| &mut m.mfa,
        "Multi-factor settings saved.",
        |_| {},
    )
    .await
}

pub async fn save_expiration(
    State(services): State<Arc<Services>>,
    member: Member,
    Path(environment_id): Path<String>,
    form: Fields,
) -> Result<Response, DashError> {
    let env = for_change(&services, &member, &environment_id).await?;
    let (number, unit) = (form.get("number").to_string(), form.get("unit").to_string());
    let keep = |p: &mut SecurityPage| {
        p.jwt_input = number.clone();
        p.jwt_unit_input = unit.clone();
    };
    match expiration::parse(&number, &unit) {
        Ok(seconds) => {
            let patch = json!({ "jwt_expiration_seconds": seconds });
            let saved = format!("JWT expiration saved: {number} {unit} ({seconds} seconds).");
            save_settings(
                &services,
                &member,
                &env,
                patch,
                |m| &mut m.jwt,
                &saved,
                keep,
            )
            .await
        }
        Err(why) => {
            let mut page = security_page(&services, &member, &env).await?;
            keep(&mut page);
            page.messages.jwt = Some(Message::error(format!("JWT expiration {why}.")));
            Ok(render(StatusCode::BAD_REQUEST, &page))
        }
    }
}

/// Where session tokens live (docs/sdk.md): in the application, or in an
/// `HttpOnly` cookie on `cookie_domain` (empty: Portcullis's host alone).
pub async fn save_token_storage(
    State(services): State<Arc<Services>>,
    member: Member,
    Path(environment_id): Path<String>,
    form: Fields,
) -> Result<Response, DashError> {
    let env = for_change(&services, &member, &environment_id).await?;
    let storage = match form.get("token_storage") {
        "cookie" => "cookie",
        _ => "in_app",
    };
    let domain = form.get("cookie_domain").trim().to_string();
    let patch = json!({
        "token_storage": storage,
        "cookie_domain": (!domain.is_empty()).then_some(domain.as_str()),
    });
    save_settings(
        &services,
        &member,
        &env,
        patch,
        |m| &mut m.storage,
        "Token storage saved.",
        |p| {
            p.storage = storage;
            p.cookie_domain = domain.clone();
        },
    )
    .await
}

pub async fn save_notifications(
    State(services): State<Arc<Services>>,
    member: Member,
    Path(environment_id): Path<String>,
    form: Fields,
) -> Result<Response, DashError> {
    let env = for_change(&services, &member, &environment_id).await?;
    let on = form.all("event");
    let events: serde_json::Map<String, serde_json::Value> = NOTIFIABLE
        .iter()
        .map(|k| (k.to_string(), json!(on.contains(k))))
        .collect();
    let recipients: Vec<&str> = form
        .get("recipients")
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .collect();
    let typed = form.get("recipients").to_string();
    let patch = json!({ "notifications": { "recipients": recipients, "events": events } });
    save_settings(
        &services,
        &member,
        &env,
        patch,
        |m| &mut m.notifications,
        "Notification settings saved.",
        |p| {
            p.recipients = typed;
        },
    )
    .await
}

pub async fn add_origin(
    State(services): State<Arc<Services>>,
    member: Member,
    Path(environment_id): Path<String>,
    form: Fields,
) -> Result<Response, DashError> {
    let env = for_change(&services, &member, &environment_id).await?;
    let input = form.get("origin").to_string();
    match services.origins.add(&env, &input, &member.actor()).await {
        Ok(added) => {
            let env = services.environments.get(env.id()).await?;
            let mut page = security_page(&services, &member, &env).await?;
            page.messages.origins =
                Some(Message::success(format!("Origin {} added.", added.origin)));
            Ok(render(StatusCode::CREATED, &page))
        }
        Err(e) => {
            let (status, message) = Message::of(e);
            let mut page = security_page(&services, &member, &env).await?;
            page.origin_input = input;
            page.origin_error = true;
            page.messages.origins = Some(message);
            Ok(render(status, &page))
        }
    }
}
