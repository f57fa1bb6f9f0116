//! CORS for the SDK API (`/sdk/v1/{environment_id}/…`), from the
//! environment's list of allowed origins (docs/origins.md).
//!
//! A request without `Origin` (a native app, a server) is not subject to
//! the list. A preflight from an allowed origin is answered here, 204 with
//! what the SDK needs; a request from an allowed origin goes on and its
//! answer, errors included, carries `Access-Control-Allow-Origin` (the
//! origin itself, never `*`), and `Access-Control-Allow-Credentials` only
//! when the origin is on a non-empty list. A preflight or
//! request from any other origin gets 403 `origin_not_allowed` with no
//! allow headers, and never reaches a handler.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::domain::origin::RequestOrigin;
use crate::services::Services;

/// Methods the SDK API answers.
pub const ALLOW_METHODS: &str = "GET, POST, DELETE";
/// Request headers the SDK sends.
pub const ALLOW_HEADERS: &str =
    "authorization, content-type, x-portcullis-elevated-token, x-portcullis-csrf";
/// Response headers scripts may read besides the safelisted ones.
pub const EXPOSE_HEADERS: &str = "retry-after";
/// How long a browser may reuse a preflight's answer, in seconds. Removing
/// an origin stops its requests at once regardless: they are checked here
/// too, not only their preflights.
pub const MAX_AGE_SECONDS: u32 = 600;

const SDK_PREFIX: &str = "/sdk/v1/";

/// The environment id of an SDK path, as it appears in the path.
pub(super) fn sdk_environment(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(SDK_PREFIX)?;
    Some(rest.split_once('/').map_or(rest, |(env, _)| env))
}

/// The single `Origin` header; `Err` when there are several.
fn origin(headers: &HeaderMap) -> Result<Option<&HeaderValue>, ()> {
    let mut values = headers.get_all(ORIGIN).iter();
    let first = values.next();
    match values.next() {
        None => Ok(first),
        Some(_) => Err(()),
    }
}

fn vary(response: &mut Response, what: &'static str) {
    response
        .headers_mut()
        .append(VARY, HeaderValue::from_static(what));
}

pub async fn sdk_cors(
    State(services): State<Arc<Services>>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(environment_id) = sdk_environment(req.uri().path()) else {
        return next.run(req).await;
    };
    let preflight = req.method() == Method::OPTIONS
        && req.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD);
    let sent = origin(req.headers()).map(|o| o.cloned());
    let Ok(Some(origin)) = sent else {
        if sent.is_err() {
            return refused(&services);
        }
        let mut response = next.run(req).await;
        vary(&mut response, "origin");
        return response;
    };
    let env = match services.environments.get(environment_id).await {
        Ok(env) => env,
        Err(e) => {
            let mut response = ApiError::from(e).into_response();
            vary(&mut response, "origin");
            return response;
        }
    };
    let request = origin.to_str().ok().and_then(RequestOrigin::parse);
    if !env.origins.admits(request.as_ref()) {
        return refused(&services);
    }
    // Only a real origin is echoed: with an empty list, `null` (sandboxed
    // and `file:` pages) and malformed values pass, but get no allow
    // headers, so such a page cannot read the answer.
    let echo = request.is_some();
    // Credentials only for an origin the environment lists: "an empty list
    // allows every origin" is for bearer tokens, which a page must hold to
    // send; with credentials it would let any site act with a user's
    // cookies.
    let credentials = !env.origins.allows_all();
    let mut response = if preflight {
        services.metrics.cors("preflight");
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        headers.insert(
            ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        );
        headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from(MAX_AGE_SECONDS));
        vary(&mut response, "access-control-request-method");
        vary(&mut response, "access-control-request-headers");
        response
    } else {
        // The handler's extractors take the environment from here rather
        // than look it up again.
        req.extensions_mut().insert(env);
        let mut response = next.run(req).await;
        response.headers_mut().insert(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
        response
    };
    if echo {
        let headers = response.headers_mut();
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if credentials {
            headers.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
    }
    vary(&mut response, "origin");
    response
}

fn refused(services: &Services) -> Response {
    services.metrics.cors("refused");
    let mut response = ApiError::new(
        StatusCode::FORBIDDEN,
        "origin_not_allowed",
        "this origin is not on the environment's list of allowed origins",
    )
    .into_response();
    vary(&mut response, "origin");
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_is_the_first_segment_after_the_prefix() {
        assert_eq!(sdk_environment("/sdk/v1/env_1/session"), Some("env_1"));
        assert_eq!(sdk_environment("/sdk/v1/env_1"), Some("env_1"));
        assert_eq!(sdk_environment("/sdk/v1/"), Some(""));
        assert_eq!(sdk_environment("/api/v1/environments/env_1"), None);
        assert_eq!(sdk_environment("/sdk/v2/env_1/session"), None);
    }
}
