//! Cookie mode on the SDK API (docs/sdk.md, "Cookie storage"): where the
//! session's JWT is read from, the CSRF check on changes, and the answers
//! that set and clear the cookies. The cookies themselves are
//! `domain::sdk_cookie`'s.
//!
//! A request with an `Authorization` header is authenticated by it alone:
//! the cookie is then ignored. Without one, an environment in cookie mode
//! reads `portcullis_session`; in-app mode never reads a cookie.

use axum::Json;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::headers::Authorization;
use axum_extra::headers::authorization::Bearer;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::domain::sdk_cookie::{self, CSRF_HEADER, SESSION_COOKIE};
use crate::domain::settings::TokenStorage;
use crate::http::error::ApiError;
use crate::http::extract::{bearer, cookie_value};
use crate::http::views::auth::AuthResult;
use crate::services::Services;
use crate::services::environments::EnvironmentRuntime;
use crate::services::signed_in::SignedIn;

/// Where the session's JWT came from.
pub enum Credential {
    Bearer(Authorization<Bearer>),
    Cookie(String),
}

impl Credential {
    pub fn token(&self) -> &str {
        match self {
            Credential::Bearer(b) => b.token(),
            Credential::Cookie(t) => t,
        }
    }

    pub fn is_cookie(&self) -> bool {
        matches!(self, Credential::Cookie(_))
    }
}

/// Does the environment keep sessions in cookies?
pub fn cookie_mode(env: &EnvironmentRuntime) -> bool {
    env.settings.token_storage == TokenStorage::Cookie
}

/// The request's session credential: the bearer token when there is an
/// `Authorization` header (a malformed one is no credential, never a reason
/// to fall back to the cookie), else the session cookie in cookie mode.
pub fn credential(parts: &Parts, env: &EnvironmentRuntime) -> Option<Credential> {
    if parts.headers.contains_key(header::AUTHORIZATION) {
        return bearer(parts).map(Credential::Bearer);
    }
    if !cookie_mode(env) {
        return None;
    }
    cookie_value(&parts.headers, SESSION_COOKIE).map(Credential::Cookie)
}

/// A change authenticated by cookie must carry the session's CSRF value in
/// `X-Portcullis-CSRF`: a page of another site can make the browser send
/// the cookie, but cannot read the value. 403 `forbidden` otherwise.
pub fn check_csrf(
    services: &Services,
    parts: &Parts,
    env: &EnvironmentRuntime,
    session_id: &str,
) -> Result<(), ApiError> {
    if !sdk_cookie::changes_state(parts.method.as_str()) {
        return Ok(());
    }
    let sent = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if services
        .sdk_cookies
        .csrf_matches(env.id(), session_id, sent)
    {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "a change made with the session cookie needs the X-Portcullis-CSRF header, equal to \
         the session's csrf_token",
    ))
}

/// An error for a request authenticated by a cookie that no longer opens a
/// session (revoked, expired, invalid): the cookies go with it.
pub fn rejected(error: ApiError, env: &EnvironmentRuntime, by_cookie: bool) -> Response {
    let status = error.status;
    let mut response = error.into_response();
    if by_cookie && status == StatusCode::UNAUTHORIZED {
        clear(response.headers_mut(), env);
    }
    response
}

/// Adds the `Set-Cookie` headers that remove both cookies.
pub fn clear(headers: &mut HeaderMap, env: &EnvironmentRuntime) {
    for c in sdk_cookie::clear_cookies(env.settings.cookie_domain.as_deref()) {
        append_cookie(headers, &c);
    }
}

fn append_cookie(headers: &mut HeaderMap, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.append(header::SET_COOKIE, v);
    }
}

/// The answer to a completed sign-in step (API.md, "auth result"). In
/// cookie mode the JWT leaves only in the `HttpOnly` cookie: the body
/// carries the session's `csrf_token` instead of `token`.
pub fn auth_answer(services: &Services, env: &EnvironmentRuntime, signed: SignedIn) -> Response {
    let mut result = AuthResult::from(signed);
    let token = match (cookie_mode(env), result.token.take()) {
        (true, Some(token)) => token,
        (_, token) => {
            result.token = token;
            return Json(result).into_response();
        }
    };
    let csrf = services
        .sdk_cookies
        .csrf_token(env.id(), &result.session.id);
    let max_age = OffsetDateTime::parse(&result.session.expires_at, &Rfc3339)
        .map(|exp| (exp - services.clock.now()).whole_seconds())
        .unwrap_or(0);
    let cookies = sdk_cookie::set_cookies(
        &token,
        &csrf,
        max_age,
        env.settings.cookie_domain.as_deref(),
    );
    result.csrf_token = Some(csrf);
    let mut response = Json(result).into_response();
    for c in &cookies {
        append_cookie(response.headers_mut(), c);
    }
    response
}
