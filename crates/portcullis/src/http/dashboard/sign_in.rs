//! Signing in: the e-mail, the mailed code, the member's TOTP code; and
//! signing out. The answer to an address never says whether it is a
//! member's.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use secrecy::ExposeSecret;

use super::is_https;
use super::page::{
    AnyMember, DashError, Fields, FoundSession, Layout, Member, Message, redirect, render,
};
use crate::domain::member_session::{SessionState, set_cookie};
use crate::http::extract::Client;
use crate::services::Services;

pub enum SignInStep {
    Email,
    Code(String),
    Totp,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    layout: Option<Layout>,
    step: SignInStep,
    email: String,
    csrf: String,
    message: Option<Message>,
}

fn sign_in_page(
    status: StatusCode,
    step: SignInStep,
    email: &str,
    message: Option<Message>,
) -> Response {
    render(
        status,
        &SignInPage {
            layout: None,
            step,
            email: email.to_string(),
            csrf: String::new(),
            message,
        },
    )
}

/// `/dashboard/`: a signed-in member goes to the first environment's
/// security settings; anyone else to sign in.
pub async fn home(
    State(services): State<Arc<Services>>,
    member: Result<Member, DashError>,
) -> Result<Response, DashError> {
    let member = member?;
    let environments = services.locks.environments_of(&member.caller()).await?;
    let first = environments
        .iter()
        .find(|e| e.kind == "sandbox")
        .or(environments.first())
        .ok_or_else(|| DashError::Page(StatusCode::NOT_FOUND, "no environment yet".into()))?;
    Ok(redirect(&format!(
        "/dashboard/environments/{}/settings/security",
        first.id
    )))
}

pub async fn page(found: Option<axum::Extension<FoundSession>>) -> Response {
    if found.is_some_and(|f| {
        f.0.0
            .as_ref()
            .is_some_and(|s| s.state == SessionState::Active)
    }) {
        return redirect("/dashboard/");
    }
    sign_in_page(StatusCode::OK, SignInStep::Email, "", None)
}

pub async fn start(
    State(services): State<Arc<Services>>,
    Client(client): Client,
    form: Fields,
) -> Response {
    let email = form.get("email");
    match services.member_access.start(email, &client).await {
        Ok(sign_in_id) => sign_in_page(StatusCode::OK, SignInStep::Code(sign_in_id), email, None),
        Err(e) => {
            let (status, message) = Message::of(e);
            sign_in_page(status, SignInStep::Email, email, Some(message))
        }
    }
}

pub async fn verify(
    State(services): State<Arc<Services>>,
    Client(client): Client,
    form: Fields,
) -> Response {
    let (sign_in_id, email) = (form.get("sign_in_id"), form.get("email"));
    match services
        .member_access
        .verify(sign_in_id, form.get("code"), &client)
        .await
    {
        Ok(begun) => {
            let next = match begun.session.state {
                SessionState::AwaitingTotp => "/dashboard/sign-in/totp",
                SessionState::MustEnrol => "/dashboard/account",
                _ => "/dashboard/",
            };
            to_with_cookie(&services, next, Some(begun.cookie_value.expose_secret()))
        }
        Err(e) => {
            let (status, message) = Message::of(e);
            sign_in_page(
                status,
                SignInStep::Code(sign_in_id.to_string()),
                email,
                Some(message),
            )
        }
    }
}

/// The TOTP step of the member's sign-in.
fn totp_step(member: &Member, status: StatusCode, message: Option<Message>) -> Response {
    render(
        status,
        &SignInPage {
            layout: None,
            step: SignInStep::Totp,
            email: member.session.email.clone(),
            csrf: member.session.csrf_token.clone(),
            message,
        },
    )
}

pub async fn totp_page(AnyMember(member): AnyMember) -> Response {
    if member.session.state != SessionState::AwaitingTotp {
        return redirect("/dashboard/");
    }
    totp_step(&member, StatusCode::OK, None)
}

pub async fn totp(
    State(services): State<Arc<Services>>,
    AnyMember(member): AnyMember,
    form: Fields,
) -> Response {
    match services
        .member_access
        .complete_with_totp(&member.session, form.get("code"))
        .await
    {
        Ok(cookie_value) => {
            to_with_cookie(&services, "/dashboard/", Some(cookie_value.expose_secret()))
        }
        Err(e) => {
            let (status, message) = Message::of(e);
            totp_step(&member, status, Some(message))
        }
    }
}

pub async fn sign_out(
    State(services): State<Arc<Services>>,
    AnyMember(member): AnyMember,
) -> Result<Response, DashError> {
    services.member_access.sign_out(&member.session).await?;
    Ok(to_with_cookie(&services, "/dashboard/sign-in", None))
}

/// A redirect to `to` that sets the session cookie to `value` (`None`:
/// clears it).
fn to_with_cookie(services: &Services, to: &str, value: Option<&str>) -> Response {
    let mut r = redirect(to);
    if let Ok(v) = HeaderValue::from_str(&set_cookie(is_https(services), value)) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}
