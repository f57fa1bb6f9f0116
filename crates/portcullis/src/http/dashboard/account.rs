//! The member's own account: TOTP enrolment (required first when the
//! organization requires it), and for the owner the organization's
//! requirement itself.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use secrecy::ExposeSecret;

use super::page::{AnyMember, DashError, Fields, Layout, Member, Message, redirect, render};
use crate::domain::member_session::SessionState;
use crate::domain::roles::Role;
use crate::services::Services;

pub struct Setup {
    pub secret: String,
    pub qr_svg: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Option<Layout>,
    csrf: String,
    message: Option<Message>,
    must_enrol: bool,
    has_totp: bool,
    setup: Option<Setup>,
    is_owner: bool,
    require_member_mfa: bool,
}

async fn account_page(
    services: &Services,
    member: &Member,
    status: StatusCode,
    message: Option<Message>,
    setup: Option<Setup>,
) -> Result<Response, DashError> {
    let must_enrol = member.session.state == SessionState::MustEnrol;
    // While enrolment is due, the page has no way out but enrolment.
    let layout = match must_enrol {
        true => None,
        false => Some(member.layout(services, None).await?),
    };
    Ok(render(
        status,
        &AccountPage {
            layout,
            csrf: member.session.csrf_token.clone(),
            message,
            must_enrol,
            has_totp: services
                .member_totp
                .has_totp(&member.session.member_id)
                .await?,
            setup,
            is_owner: member.session.role == Role::Owner,
            require_member_mfa: member.session.require_member_mfa,
        },
    ))
}

/// Refuses a session still at the TOTP step of its sign-in.
fn signed_in(member: AnyMember) -> Result<Member, DashError> {
    match member.0.session.state {
        SessionState::Active | SessionState::MustEnrol => Ok(member.0),
        _ => Err(DashError::Redirect("/dashboard/sign-in/totp".into())),
    }
}

pub async fn page(
    State(services): State<Arc<Services>>,
    member: AnyMember,
) -> Result<Response, DashError> {
    let member = signed_in(member)?;
    account_page(&services, &member, StatusCode::OK, None, None).await
}

pub async fn begin_totp(
    State(services): State<Arc<Services>>,
    member: AnyMember,
) -> Result<Response, DashError> {
    let member = signed_in(member)?;
    match services
        .member_totp
        .begin(&member.session.member_id, &member.session.email)
        .await
    {
        Ok(setup) => {
            let setup = Setup {
                secret: setup.secret.expose_secret().to_string(),
                qr_svg: setup.qr_svg.expose_secret().to_string(),
            };
            account_page(&services, &member, StatusCode::OK, None, Some(setup)).await
        }
        Err(e) => {
            let (status, message) = Message::of(e);
            account_page(&services, &member, status, Some(message), None).await
        }
    }
}

pub async fn confirm_totp(
    State(services): State<Arc<Services>>,
    member: AnyMember,
    form: Fields,
) -> Result<Response, DashError> {
    let member = signed_in(member)?;
    let s = &member.session;
    match services
        .member_totp
        .confirm(&s.member_id, &s.email, form.get("code"))
        .await
    {
        Ok(()) => Ok(redirect("/dashboard/account?totp=on")),
        Err(e) => {
            let (status, message) = Message::of(e);
            account_page(&services, &member, status, Some(message), None).await
        }
    }
}

pub async fn require_mfa(
    State(services): State<Arc<Services>>,
    member: Member,
    form: Fields,
) -> Result<Response, DashError> {
    let on = form.flag("on");
    // An owner action: a fresh TOTP code when the owner has TOTP.
    if member.session.role == Role::Owner
        && member.session.has_totp
        && let Err(e) = services
            .member_totp
            .prove(&member.session.member_id, form.get("totp"))
            .await
    {
        let (status, message) = Message::of(e);
        return account_page(&services, &member, status, Some(message), None).await;
    }
    services
        .member_access
        .set_require_member_mfa(&member.session, on)
        .await?;
    tracing::info!(member_id = %member.session.member_id, require_member_mfa = on, "members' TOTP requirement set");
    Ok(redirect("/dashboard/account"))
}
