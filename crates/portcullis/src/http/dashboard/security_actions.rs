//! The security page's actions that ask first: delete an origin, revoke
//! every session (on `live`, typing the environment's name), lock and
//! unlock (the owner). Owner actions and revoking all sessions on `live`
//! ask for the member's TOTP code again when they have TOTP.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::page::{DashError, Fields, Layout, Member, Message, render};
use super::security::{base, security_page};
use crate::domain::roles::Role;
use crate::services::Services;
use crate::services::environments::EnvironmentRuntime;

#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub layout: Option<Layout>,
    pub title: String,
    pub question: String,
    pub warning: Option<String>,
    pub action: String,
    pub button: &'static str,
    pub back: String,
    pub csrf: String,
    pub type_name: Option<String>,
    pub ask_totp: bool,
    pub message: Option<Message>,
}

/// What a confirmation asks beyond the click.
#[derive(Clone, Copy)]
pub struct Asks {
    pub type_name: bool,
    pub totp: bool,
}

impl Asks {
    /// Only the click.
    pub const CLICK: Asks = Asks {
        type_name: false,
        totp: false,
    };
}

pub async fn confirm_page(
    services: &Services,
    member: &Member,
    env: &EnvironmentRuntime,
    page: ConfirmPage,
) -> Result<ConfirmPage, DashError> {
    Ok(ConfirmPage {
        layout: Some(member.layout(services, Some(env)).await?),
        csrf: member.session.csrf_token.clone(),
        back: base(env.id()),
        ..page
    })
}

/// Checks what the confirmation asked for; `Some(message)` when it was
/// not given.
pub async fn confirmed(
    services: &Services,
    member: &Member,
    env: &EnvironmentRuntime,
    asks: Asks,
    form: &Fields,
) -> Result<Option<Message>, DashError> {
    if form.get("confirmed") != "true" {
        return Ok(Some(Message::error("Confirm on the confirmation page.")));
    }
    if asks.type_name && form.get("typed_name").trim() != env.record.kind {
        return Ok(Some(Message::error(format!(
            "Type {} exactly to confirm.",
            env.record.kind
        ))));
    }
    if asks.totp
        && let Err(e) = services
            .member_totp
            .prove(&member.session.member_id, form.get("totp"))
            .await
    {
        return Ok(Some(Message::of(e).1));
    }
    Ok(None)
}

pub fn blank(
    title: String,
    question: String,
    action: String,
    button: &'static str,
    asks: Asks,
    env: &EnvironmentRuntime,
) -> ConfirmPage {
    ConfirmPage {
        layout: None,
        title,
        question,
        warning: None,
        action,
        button,
        back: String::new(),
        csrf: String::new(),
        type_name: asks.type_name.then(|| env.record.kind.clone()),
        ask_totp: asks.totp,
        message: None,
    }
}

// ----- Revoke all sessions -----

fn revoke_asks(member: &Member, env: &EnvironmentRuntime) -> Asks {
    let live = env.record.kind == "live";
    Asks {
        type_name: live,
        totp: live && member.session.has_totp,
    }
}

async fn revoke_confirmation(
    services: &Services,
    member: &Member,
    env: &EnvironmentRuntime,
) -> Result<ConfirmPage, DashError> {
    let count = services.sessions.count_live(env.id()).await?;
    let mut page = blank(
        format!("Revoke all sessions in {}", env.record.kind),
        format!(
            "Revoke all {count} live sessions in {} ({})? Every user is signed out at once.",
            env.record.kind,
            env.id()
        ),
        format!("{}/sessions/revoke", base(env.id())),
        "Revoke all sessions",
        revoke_asks(member, env),
        env,
    );
    page.warning = Some("This cannot be undone.".into());
    confirm_page(services, member, env, page).await
}

pub async fn confirm_revoke_all(
    State(services): State<Arc<Services>>,
    member: Member,
    Path(environment_id): Path<String>,
) -> Result<Response, DashError> {
    member.require(Role::Developer)?;
    let env = member.environment(&services, &environment_id).await?;
    Ok(render(
        StatusCode::OK,
        &revoke_confirmation(&services, &member, &env).await?,
    ))
}

pub async fn revoke_all(
    State(services): State<Arc<Services>>,
    member: Member,
    Path(environment_id): Path<String>,
    form: Fields,
) -> Result<Response, DashError> {
    // Revocation only takes access away: allowed on a locked environment.
    member.require(Role::Developer)?;
    let env = member.environment(&services, &environment_id).await?;
    if let Some(message) =
        confirmed(&services, &member, &env, revoke_asks(&member, &env), &form).await?
    {
        let mut page = revoke_confirmation(&services, &member, &env).await?;
        page.message = Some(message);
        return Ok(render(StatusCode::BAD_REQUEST, &page));
    }
    let revoked_count = services
        .revocation
        .environment(env.id(), &member.actor())
        .await?;
    let env = services.environments.get(env.id()).await?;
    let mut page = security_page(&services, &member, &env).await?;
    page.messages.sessions = Some(Message::success(format!(
        "Revoked all sessions: revoked_count {revoked_count}."
    )));
    Ok(render(StatusCode::OK, &page))
}

// ----- Lock and unlock (the owner) -----

fn owner_asks(member: &Member) -> Asks {
    Asks {
        type_name: false,
        totp: member.session.has_totp,
    }
}

fn lock_confirmation(locked: bool, env: &EnvironmentRuntime, member: &Member) -> ConfirmPage {
    let (title, question, action, button) = match locked {
        true => (
            format!("Lock {}", env.record.kind),
            format!(
                "Lock {} ({})? Every sign-in and API call for it is refused with 423 until you unlock it.",
                env.record.kind,
                env.id()
            ),
            "lock",
            "Lock environment",
        ),
        false => (
            format!("Unlock {}", env.record.kind),
            format!(
                "Unlock {} ({})? Sign-ins and API calls work again.",
                env.record.kind,
                env.id()
            ),
            "unlock",
            "Unlock environment",
        ),
    };
    blank(
        title,
        question,
        format!("{}/{action}", base(env.id())),
        button,
        owner_asks(member),
        env,
    )
}

async fn confirm_lock_change(
    services: &Services,
    member: &Member,
    environment_id: &str,
    locked: bool,
) -> Result<Response, DashError> {
    member.require(Role::Owner)?;
    let env = member.environment(services, environment_id).await?;
    let page = lock_confirmation(locked, &env, member);
    Ok(render(
        StatusCode::OK,
        &confirm_page(services, member, &env, page).await?,
    ))
}

async fn lock_change(
    services: &Services,
    member: &Member,
    environment_id: &str,
    locked: bool,
    form: &Fields,
) -> Result<Response, DashError> {
    member.require(Role::Owner)?;
    let env = member.environment(services, environment_id).await?;
    if let Some(message) = confirmed(services, member, &env, owner_asks(member), form).await? {
        let mut page = confirm_page(
            services,
            member,
            &env,
            lock_confirmation(locked, &env, member),
        )
        .await?;
        page.message = Some(message);
        return Ok(render(StatusCode::BAD_REQUEST, &page));
    }
    services
        .locks
        .lock_environment(&member.caller(), env.id(), locked, &member.actor())
        .await?;
    let env = services.environments.get(env.id()).await?;
    let mut page = security_page(services, member, &env).await?;
    page.messages.lock = Some(Message::success(match locked {
        true => "The environment is locked.",
        false => "The environment is unlocked.",
    }));
    Ok(render(StatusCode::OK, &page))
}

pub async fn confirm_lock(
    State(services): State<Arc<Services>>,
    member: Member,
    Path(environment_id): Path<String>,
) -> Result<Response, DashError> {
    confirm_lock_change(&services, &member, &environment_id, true).await
}

pub async fn confirm_unlock(
    State(services): State<Arc<Services>>,
    member: Member,
    Path(environment_id): Path<String>,
) -> Result<Response, DashError> {
    confirm_lock_change(&services, &member, &environment_id, false).await
}

pub async fn lock(
    State(services): State<Arc<Services>>,
    member: Member,
    Path(environment_id): Path<String>,
    form: Fields,
) -> Result<Response, DashError> {
    lock_change(&services, &member, &environment_id, true, &form).await
}

pub async fn unlock(
    State(services): State<Arc<Services>>,
    member: Member,
    Path(environment_id): Path<String>,
    form: Fields,
) -> Result<Response, DashError> {
    lock_change(&services, &member, &environment_id, false, &form).await
}

// ----- Delete an origin -----

async fn origin_confirmation(
    services: &Services,
    member: &Member,
    env: &EnvironmentRuntime,
    origin_id: &str,
) -> Result<ConfirmPage, DashError> {
    let origin = env
        .listed()
        .into_iter()
        .find(|o| o.id == origin_id)
        .ok_or(crate::services::ServiceError::NotFound)?;
    let page = blank(
        "Delete origin".into(),
        format!(
            "Delete {} from the allowed origins of {}?",
            origin.origin, env.record.kind
        ),
        format!("{}/origins/{origin_id}/delete", base(env.id())),
        "Delete origin",
        Asks::CLICK,
        env,
    );
    confirm_page(services, member, env, page).await
}

pub async fn confirm_delete_origin(
    State(services): State<Arc<Services>>,
    member: Member,
    Path((environment_id, origin_id)): Path<(String, String)>,
) -> Result<Response, DashError> {
    member.require(Role::Developer)?;
    let env = member.environment(&services, &environment_id).await?;
    Ok(render(
        StatusCode::OK,
        &origin_confirmation(&services, &member, &env, &origin_id).await?,
    ))
}

pub async fn delete_origin(
    State(services): State<Arc<Services>>,
    member: Member,
    Path((environment_id, origin_id)): Path<(String, String)>,
    form: Fields,
) -> Result<Response, DashError> {
    member.require(Role::Developer)?;
    let env = member.environment(&services, &environment_id).await?;
    env.refuse_if_locked()?;
    if let Some(message) = confirmed(&services, &member, &env, Asks::CLICK, &form).await? {
        let mut page = origin_confirmation(&services, &member, &env, &origin_id).await?;
        page.message = Some(message);
        return Ok(render(StatusCode::BAD_REQUEST, &page));
    }
    services
        .origins
        .delete(&env, &origin_id, &member.actor())
        .await?;
    let env = services.environments.get(env.id()).await?;
    let mut page = security_page(&services, &member, &env).await?;
    page.messages.origins = Some(Message::success("Origin deleted."));
    Ok(render(StatusCode::OK, &page))
}
