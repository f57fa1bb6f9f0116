//! Request extractors that fail with problem+json, never with axum's
//! plain-text rejections.

use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum_extra::headers::authorization::Bearer;
use axum_extra::headers::{Authorization, Header};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::domain::roles::Role;
use crate::domain::validation::ValidationErrors;
use crate::services::api_tokens::ApiCaller;
use crate::services::sessions::ClientInfo;
use crate::services::{ServiceError, Services};

/// A JSON object body. Malformed JSON and wrong types are 400 `validation_failed`
/// naming the field; a body over the limit is 413 `payload_too_large`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            });
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e: BytesRejection| {
                if body_timed_out(&e) {
                    ApiError::new(
                        StatusCode::REQUEST_TIMEOUT,
                        "request_timeout",
                        "the request body was not received in time",
                    )
                } else if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        "the request body is too large",
                    )
                } else {
                    ApiError::validation(ValidationErrors::single(
                        "",
                        "the request body could not be read",
                    ))
                }
            })?;
        if !is_json {
            return Err(ApiError::validation(ValidationErrors::single(
                "",
                "the body must be JSON (Content-Type: application/json)",
            )));
        }
        // Every body of this API is a JSON object; serde would otherwise
        // accept an array for a struct.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::validation(ValidationErrors::single(
                "",
                "the body must be a JSON object",
            )));
        }
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let field = if path == "." { String::new() } else { path };
            let message = match inner.classify() {
                serde_json::error::Category::Data => inner.to_string(),
                _ => format!(
                    "malformed JSON at line {} column {}",
                    inner.line(),
                    inner.column()
                ),
            };
            ApiError::validation(ValidationErrors::single(field, message))
        })?;
        de.end().map_err(|_| {
            ApiError::validation(ValidationErrors::single(
                "",
                "trailing characters after the JSON value",
            ))
        })?;
        Ok(ApiJson(value))
    }
}

/// Whether reading the body failed because its deadline passed
/// (`http/server.rs`, `limit_body`).
fn body_timed_out(rejection: &BytesRejection) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
    while let Some(error) = cause {
        if error.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// The bearer credential from `Authorization`, if any: axum-extra's typed
/// header (the scheme in any case, one space, then the token); an empty
/// token is none.
pub fn bearer(parts: &Parts) -> Option<Authorization<Bearer>> {
    let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
    let credentials = Authorization::<Bearer>::decode(&mut values).ok()?;
    (!credentials.token().is_empty()).then_some(credentials)
}

/// The value of the cookie `name` among the request's cookies, if it has a
/// non-empty one.
pub fn cookie_value(headers: &header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// The caller's address (the TCP peer) and user agent.
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Client(client_info(parts)))
    }
}

/// The caller's address and user agent (at most 512 characters).
pub fn client_info(parts: &Parts) -> ClientInfo {
    let ip_address = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string());
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(512).collect());
    ClientInfo {
        ip_address,
        user_agent,
    }
}

/// The least role a management route needs, as a type: the route's
/// handler names it in its `ApiAuth<…>` argument, so the role is checked
/// before anything else about the request (its body included), and the
/// route × role table (docs/access.md) can be tested against it.
pub trait NeedsRole {
    const ROLE: Role;
}

macro_rules! role_marker {
    ($name:ident, $role:expr) => {
        pub struct $name;
        impl NeedsRole for $name {
            const ROLE: Role = $role;
        }
    };
}
role_marker!(Viewer, Role::Viewer);
role_marker!(Developer, Role::Developer);
role_marker!(Admin, Role::Admin);
role_marker!(Owner, Role::Owner);

/// A management API caller, authenticated by API token, whose role is at
/// least `R`'s: otherwise 403 `forbidden`.
pub struct ApiAuth<R: NeedsRole>(pub ApiCaller, PhantomData<R>);

impl<R: NeedsRole> FromRequestParts<Arc<Services>> for ApiAuth<R> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        services: &Arc<Services>,
    ) -> Result<Self, Self::Rejection> {
        let credentials = bearer(parts).ok_or(ServiceError::MissingCredentials)?;
        let caller = services
            .api_tokens
            .authenticate(credentials.token())
            .await?;
        if !caller.role.allows(R::ROLE) {
            return Err(ServiceError::Forbidden.into());
        }
        Ok(ApiAuth(caller, PhantomData))
    }
}
