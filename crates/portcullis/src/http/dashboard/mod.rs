//! The dashboard, `/dashboard/…`: server-rendered pages (askama templates
//! compiled into the binary, htmx vendored from its npm package) where
//! members sign in and act on their environments through the same
//! services as the management API. docs/dashboard.md tells what each page
//! does.
//!
//! Every request passes the gate first: it finds the member's session from
//! the cookie, and refuses (403, nothing changed) a change that does not
//! come from this origin or does not carry the session's CSRF token.

mod account;
mod page;
mod security;
mod security_actions;
mod sign_in;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::domain::member_session::cookie_name;
use crate::services::Services;
use page::{DashError, FoundSession};

/// The form field and the header (htmx sends it) that carry the token.
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Changes allowed without a session: the first two steps of signing in
/// (they still must come from this origin).
const OPEN_POSTS: [&str; 2] = ["/dashboard/sign-in", "/dashboard/sign-in/code"];

pub fn router(services: Arc<Services>) -> Router<Arc<Services>> {
    let env = "/dashboard/environments/{environment_id}";
    Router::new()
        .route(
            "/dashboard",
            get(|| async { axum::response::Redirect::to("/dashboard/") }),
        )
        .route("/dashboard/", get(sign_in::home))
        .route("/dashboard/static/{file}", get(static_file))
        .route(
            "/dashboard/sign-in",
            get(sign_in::page).post(sign_in::start),
        )
        .route("/dashboard/sign-in/code", post(sign_in::verify))
        .route(
            "/dashboard/sign-in/totp",
            get(sign_in::totp_page).post(sign_in::totp),
        )
        .route("/dashboard/sign-out", post(sign_in::sign_out))
        .route("/dashboard/account", get(account::page))
        .route("/dashboard/account/totp", post(account::begin_totp))
        .route(
            "/dashboard/account/totp/confirm",
            post(account::confirm_totp),
        )
        .route("/dashboard/account/require-mfa", post(account::require_mfa))
        .route(&format!("{env}/settings/security"), get(security::page))
        .route(
            &format!("{env}/settings/security/mfa"),
            post(security::save_mfa),
        )
        .route(
            &format!("{env}/settings/security/origins"),
            post(security::add_origin),
        )
        .route(
            &format!("{env}/settings/security/origins/{{origin_id}}/delete"),
            get(security_actions::confirm_delete_origin).post(security_actions::delete_origin),
        )
        .route(
            &format!("{env}/settings/security/jwt-expiration"),
            post(security::save_expiration),
        )
        .route(
            &format!("{env}/settings/security/token-storage"),
            post(security::save_token_storage),
        )
        .route(
            &format!("{env}/settings/security/notifications"),
            post(security::save_notifications),
        )
        .route(
            &format!("{env}/settings/security/sessions/revoke"),
            get(security_actions::confirm_revoke_all).post(security_actions::revoke_all),
        )
        .route(
            &format!("{env}/settings/security/lock"),
            get(security_actions::confirm_lock).post(security_actions::lock),
        )
        .route(
            &format!("{env}/settings/security/unlock"),
            get(security_actions::confirm_unlock).post(security_actions::unlock),
        )
        .route(&format!("{env}/users"), get(users::list))
        .route(&format!("{env}/users/{{user_id}}"), get(users::detail))
        .route(
            &format!("{env}/users/{{user_id}}/sessions/revoke"),
            post(users::revoke_user_sessions),
        )
        .route(
            &format!("{env}/sessions/{{session_id}}/revoke"),
            post(users::revoke_session),
        )
        .route(
            &format!("{env}/users/{{user_id}}/mfa/reset"),
            get(users::confirm_reset_mfa).post(users::reset_mfa),
        )
        .method_not_allowed_fallback(to_the_page)
        .route_layer(middleware::from_fn_with_state(services, gate))
}

/// A page reloaded after a change shows the address the form was sent to;
/// asked for with GET, it leads to the page that change belongs to.
async fn to_the_page(method: Method, uri: axum::http::Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return DashError::Page(
            StatusCode::METHOD_NOT_ALLOWED,
            "This address takes a form.".into(),
        )
        .into_response();
    }
    axum::response::Redirect::to(&page_of(uri.path())).into_response()
}

/// The page a change's address belongs to: the security page at its
/// section, or the dashboard's start.
fn page_of(path: &str) -> String {
    const SECURITY: &str = "/settings/security/";
    match path.find(SECURITY) {
        Some(at) => {
            let section = path[at + SECURITY.len()..]
                .split('/')
                .next()
                .unwrap_or_default();
            format!("{}#{section}", &path[..at + SECURITY.len() - 1])
        }
        None => "/dashboard/".to_string(),
    }
}

/// A dashboard address that leads nowhere: a page that says so.
pub fn not_found_page() -> Response {
    with_headers(
        DashError::Page(StatusCode::NOT_FOUND, "There is no such page.".into()).into_response(),
    )
}

/// The files the pages load, compiled into the binary.
async fn static_file(Path(file): Path<String>) -> Response {
    let (body, kind): (&'static [u8], &str) = match file.as_str() {
        // htmx.org 2.0.11, dist/htmx.min.js from its npm package (0BSD).
        "htmx.min.js" => (include_bytes!("static/htmx.min.js"), "text/javascript"),
        "dashboard.css" => (include_bytes!("static/dashboard.css"), "text/css"),
        _ => return (StatusCode::NOT_FOUND, "no such file").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// The session cookie's value, if the request has one.
fn session_cookie(headers: &HeaderMap, https: bool) -> Option<String> {
    crate::http::extract::cookie_value(headers, cookie_name(https))
}

/// Does the change come from this origin? Its `Origin` must be the public
/// URL's origin, or name the host the request was sent to. A browser
/// always sends `Origin` with a form's POST.
fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if public_url
        .trim_end_matches('/')
        .eq_ignore_ascii_case(origin)
    {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    let scheme_ok = origin.starts_with(if public_url.starts_with("https:") {
        "https://"
    } else {
        "http://"
    });
    scheme_ok
        && authority.is_some()
        && authority.map(str::to_ascii_lowercase) == host.map(str::to_ascii_lowercase)
}

/// Every dashboard response passes here on its way out: the security
/// headers, and a redirect answered to htmx as `HX-Redirect`.
async fn gate(State(services): State<Arc<Services>>, req: Request, next: Next) -> Response {
    let htmx = req.headers().contains_key("hx-request");
    let response = admit(&services, req, next).await;
    with_headers(match htmx {
        true => as_htmx_redirect(response),
        false => response,
    })
}

/// The session the cookie holds, and for a change this origin and the
/// session's CSRF token, or the refusal.
async fn admit(services: &Services, req: Request, next: Next) -> Response {
    let public_url = services.environments.public_url().to_string();
    let https = is_https(services);
    let (mut parts, body) = req.into_parts();
    let session = match session_cookie(&parts.headers, https) {
        Some(value) => match services.member_access.session(&value).await {
            Ok(s) => s,
            Err(e) => return DashError::from(e).into_response(),
        },
        None => None,
    };
    let mut body = body;
    let reading = parts.method == Method::GET || parts.method == Method::HEAD;
    if !reading {
        if !same_origin(&parts.headers, &public_url) {
            return refused("The request did not come from this dashboard.");
        }
        let path = parts.uri.path();
        if session.is_none() && !OPEN_POSTS.contains(&path) {
            return page::redirect("/dashboard/sign-in");
        }
        // The first two steps of signing in take no token even with a
        // session (a member starting over from the TOTP step): they change
        // nothing of a session's, and the origin check above holds.
        if let Some(session) = session.as_ref().filter(|_| !OPEN_POSTS.contains(&path)) {
            let bytes = match to_bytes(body, crate::http::MAX_BODY_BYTES).await {
                Ok(b) => b,
                Err(_) => {
                    return DashError::Page(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "The form is too large.".into(),
                    )
                    .into_response();
                }
            };
            let token = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .or_else(|| {
                    url::form_urlencoded::parse(&bytes)
                        .find(|(k, _)| k == CSRF_FIELD)
                        .map(|(_, v)| v.into_owned())
                });
            if !token.is_some_and(|t| services.member_access.csrf_matches(session, &t)) {
                return refused(
                    "This form has expired or did not come from this dashboard. Reload the page and try again.",
                );
            }
            body = Body::from(bytes);
        }
    }
    parts.extensions.insert(FoundSession(session));
    next.run(Request::from_parts(parts, body)).await
}

/// A redirect answered to htmx becomes `HX-Redirect` (a full navigation):
/// followed inside htmx's request, the page it leads to (sign-in, say)
/// would be swapped into the page the member is on.
fn as_htmx_redirect(mut response: Response) -> Response {
    if !response.status().is_redirection() {
        return response;
    }
    if let Some(to) = response.headers_mut().remove(header::LOCATION) {
        *response.status_mut() = StatusCode::OK;
        response.headers_mut().insert("hx-redirect", to);
    }
    response
}

/// Does the server answer on https (then the cookie is `__Host-` and
/// `Secure`)?
pub fn is_https(services: &Services) -> bool {
    services.environments.public_url().starts_with("https:")
}

fn refused(why: &str) -> Response {
    DashError::Page(StatusCode::FORBIDDEN, why.to_string()).into_response()
}

/// The headers of every dashboard response: a strict CSP (no inline
/// script, no framing), no sniffing, the referrer only to this origin, and
/// pages never cached.
fn with_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A change is taken only from the public URL's origin or the host
        /// the request was sent to, whatever else `Origin` says.
        #[test]
        fn only_this_origin_passes(origin in "\\PC{0,40}", host in "[a-z0-9.:]{1,20}") {
            let public = "https://auth.example.com";
            let h = headers(&[("origin", &origin), ("host", &host)]);
            if same_origin(&h, public) {
                let from_host = format!("https://{}", host);
                let ok = origin.eq_ignore_ascii_case(public) || origin.eq_ignore_ascii_case(&from_host);
                prop_assert!(ok, "{} passed with host {}", origin, host);
            }
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                *k,
                HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")),
            );
        }
        h
    }

    #[test]
    fn a_change_must_come_from_this_origin() {
        let public = "https://auth.example.com";
        assert!(same_origin(
            &headers(&[("origin", "https://auth.example.com")]),
            public
        ));
        assert!(!same_origin(
            &headers(&[("origin", "https://evil.example")]),
            public
        ));
        assert!(!same_origin(&headers(&[]), public));
        assert!(!same_origin(&headers(&[("origin", "null")]), public));
        let local = "http://127.0.0.1:8080";
        assert!(same_origin(
            &headers(&[
                ("origin", "http://127.0.0.1:4321"),
                ("host", "127.0.0.1:4321")
            ]),
            local
        ));
        assert!(!same_origin(
            &headers(&[
                ("origin", "http://127.0.0.1:9999"),
                ("host", "127.0.0.1:4321")
            ]),
            local
        ));
        assert!(!same_origin(
            &headers(&[
                ("origin", "http://auth.example.com"),
                ("host", "auth.example.com")
            ]),
            public
        ));
    }

    #[test]
    fn a_change_address_asked_for_with_get_leads_to_its_page() {
        assert_eq!(
            page_of("/dashboard/environments/env_1/settings/security/jwt-expiration"),
            "/dashboard/environments/env_1/settings/security#jwt-expiration"
        );
        assert_eq!(
            page_of("/dashboard/environments/env_1/settings/security/origins/ori_1/delete"),
            "/dashboard/environments/env_1/settings/security#origins"
        );
        assert_eq!(
            page_of("/dashboard/environments/env_1/sessions/s/revoke"),
            "/dashboard/"
        );
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "a=1; portcullis_member=xyz; b=2")]);
        assert_eq!(session_cookie(&h, false).as_deref(), Some("xyz"));
        assert_eq!(session_cookie(&h, true), None);
        let h = headers(&[("cookie", "__Host-portcullis_member=abc")]);
        assert_eq!(session_cookie(&h, true).as_deref(), Some("abc"));
        assert_eq!(
            session_cookie(&headers(&[("cookie", "portcullis_member=")]), false),
            None
        );
    }
}
