//! Users: search by e-mail with cursor paging (the users' index by
//! environment and id, no count of the table), and one user's page: their
//! credentials, MFA devices (admin reset), sessions (revoke one, or all of
//! theirs).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::page::{DashError, Fields, Layout, Member, Message, render};
use super::security_actions::{Asks, ConfirmPage, blank, confirm_page, confirmed};
use crate::domain::roles::Role;
use crate::services::Services;
use crate::services::environments::EnvironmentRuntime;
use crate::services::events::Event;
use crate::services::lock::EnvironmentInfo;
use crate::services::mfa::MfaDevice;
use crate::services::sessions::Session;
use crate::services::users::User;
use crate::store::SessionFilter;

const PAGE_SIZE: u32 = 50;

fn base(environment_id: &str) -> String {
    format!("/dashboard/environments/{environment_id}")
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Option<Layout>,
    env: EnvironmentInfo,
    base: String,
    email: String,
    users: Vec<User>,
    next_cursor: Option<String>,
    message: Option<Message>,
}

#[derive(Deserialize)]
pub struct UsersQuery {
    #[serde(default)]
    email: String,
    after: Option<String>,
}

pub async fn list(
    State(services): State<Arc<Services>>,
    member: Member,
    Path(environment_id): Path<String>,
    query: Result<Query<UsersQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, DashError> {
    let env = member.environment(&services, &environment_id).await?;
    let Query(q) = query.unwrap_or(Query(UsersQuery {
        email: String::new(),
        after: None,
    }));
    let email = q.email.trim().to_string();
    let filter = (!email.is_empty()).then_some(email.as_str());
    let (users, next_cursor, message, status) = match services
        .users
        .list(env.id(), filter, q.after.clone(), Some(PAGE_SIZE))
        .await
    {
        Ok(page) => (page.data, page.next_cursor, None, StatusCode::OK),
        Err(e) => {
            let (status, message) = Message::of(e);
            (vec![], None, Some(message), status)
        }
    };
    Ok(render(
        status,
        &UsersPage {
            layout: Some(member.layout(&services, Some(&env)).await?),
            env: EnvironmentInfo::of(&env),
            base: base(env.id()),
            email,
            users,
            next_cursor,
            message,
        },
    ))
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    layout: Option<Layout>,
    env: EnvironmentInfo,
    base: String,
    csrf: String,
    /// Revoking: open on a locked environment too.
    can_edit: bool,
    /// Resetting MFA changes the environment: not while it is locked.
    can_reset: bool,
    has_live: bool,
    user: User,
    devices: Vec<MfaDevice>,
    sessions: Vec<Session>,
    events: Vec<Event>,
    message: Option<Message>,
}

/// Events shown on a user's page.
const RECENT_EVENTS: i64 = 20;

async fn user_page(
    services: &Services,
    member: &Member,
    env: &EnvironmentRuntime,
    user_id: &str,
    message: Option<Message>,
) -> Result<UserPage, DashError> {
    let user = services.users.get(env.id(), user_id).await?;
    let mut sessions = services
        .sessions
        .of_user(env.id(), user_id, SessionFilter::All)
        .await?;
    sessions.sort_by(|a, b| b.created_at.cmp(&a.created_at));
    let subjects: Vec<String> = std::iter::once(user.id.clone())
        .chain(sessions.iter().take(99).map(|s| s.id.clone()))
        .collect();
    let events = services
        .events
        .about(env.id(), &subjects, RECENT_EVENTS)
        .await?;
    Ok(UserPage {
        layout: Some(member.layout(services, Some(env)).await?),
        env: EnvironmentInfo::of(env),
        base: base(env.id()),
        csrf: member.session.csrf_token.clone(),
        can_edit: member.may(Role::Developer),
        can_reset: member.may(Role::Developer) && !env.is_locked(),
        has_live: sessions.iter().any(|s| s.revoked_at.is_none()),
        devices: services.mfa.devices.list(env.id(), user_id).await?,
        user,
        sessions,
        events,
        message,
    })
}

pub async fn detail(
    State(services): State<Arc<Services>>,
    member: Member,
    Path((environment_id, user_id)): Path<(String, String)>,
) -> Result<Response, DashError> {
    let env = member.environment(&services, &environment_id).await?;
    Ok(render(
        StatusCode::OK,
        &user_page(&services, &member, &env, &user_id, None).await?,
    ))
}

pub async fn revoke_session(
    State(services): State<Arc<Services>>,
    member: Member,
    Path((environment_id, session_id)): Path<(String, String)>,
) -> Result<Response, DashError> {
    member.require(Role::Developer)?;
    let env = member.environment(&services, &environment_id).await?;
    let session = services
        .revocation
        .session(env.id(), &session_id, None, &member.actor())
        .await?;
    let message = Message::success(format!("Session {} revoked.", session.id));
    Ok(render(
        StatusCode::OK,
        &user_page(&services, &member, &env, &session.user_id, Some(message)).await?,
    ))
}

pub async fn revoke_user_sessions(
    State(services): State<Arc<Services>>,
    member: Member,
    Path((environment_id, user_id)): Path<(String, String)>,
) -> Result<Response, DashError> {
    member.require(Role::Developer)?;
    let env = member.environment(&services, &environment_id).await?;
    let count = services
        .revocation
        .user(env.id(), &user_id, &member.actor())
        .await?;
    let message = Message::success(format!(
        "Revoked the user's sessions: revoked_count {count}."
    ));
    Ok(render(
        StatusCode::OK,
        &user_page(&services, &member, &env, &user_id, Some(message)).await?,
    ))
}

async fn reset_confirmation(
    services: &Services,
    member: &Member,
    env: &EnvironmentRuntime,
    user_id: &str,
) -> Result<ConfirmPage, DashError> {
    let user = services.users.get(env.id(), user_id).await?;
    let mut page = blank(
        "Reset MFA".into(),
        format!(
            "Delete every MFA device and recovery code of {}? They enrol again at their next sign-in.",
            user.email.as_deref().unwrap_or(&user.id)
        ),
        format!("{}/users/{user_id}/mfa/reset", base(env.id())),
        "Reset MFA",
        Asks::CLICK,
        env,
    );
    page.warning =
        Some("Their sessions stay; revoke them too if the account may be compromised.".into());
    let page = confirm_page(services, member, env, page).await?;
    Ok(ConfirmPage {
        back: format!("{}/users/{user_id}", base(env.id())),
        ..page
    })
}

pub async fn confirm_reset_mfa(
    State(services): State<Arc<Services>>,
    member: Member,
    Path((environment_id, user_id)): Path<(String, String)>,
) -> Result<Response, DashError> {
    member.require(Role::Developer)?;
    let env = member.environment(&services, &environment_id).await?;
    Ok(render(
        StatusCode::OK,
        &reset_confirmation(&services, &member, &env, &user_id).await?,
    ))
}

pub async fn reset_mfa(
    State(services): State<Arc<Services>>,
    member: Member,
    Path((environment_id, user_id)): Path<(String, String)>,
    form: Fields,
) -> Result<Response, DashError> {
    member.require(Role::Developer)?;
    let env = member.environment(&services, &environment_id).await?;
    env.refuse_if_locked()?;
    if let Some(message) = confirmed(&services, &member, &env, Asks::CLICK, &form).await? {
        let mut page = reset_confirmation(&services, &member, &env, &user_id).await?;
        page.message = Some(message);
        return Ok(render(StatusCode::BAD_REQUEST, &page));
    }
    let removed = services
        .mfa
        .devices
        .reset_user_mfa(env.id(), &user_id, &member.actor())
        .await?;
    let message = Message::success(format!("MFA reset: {removed} devices removed."));
    Ok(render(
        StatusCode::OK,
        &user_page(&services, &member, &env, &user_id, Some(message)).await?,
    ))
}
