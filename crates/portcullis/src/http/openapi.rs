//! The OpenAPI document, `GET /openapi.json`: built by utoipa from the
//! routes themselves, then completed here with the problems each kind of
//! route can answer (docs/architecture.md, "The OpenAPI document").
//!
//! A handler's `#[utoipa::path]` declares its successes and the errors
//! special to it (a 409, an `invalid_code`). Everything a route answers
//! because of what it is — authenticated, under an environment, taking a
//! body, behind the SDK's CORS and lock layers — is declared by
//! [`declare_problems`], from the operation itself (its path, parameters,
//! security and request body), so a new handler gets them without writing
//! anything.

use utoipa::OpenApi;
use utoipa::openapi::content::Content;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Ref, RefOr};

use super::MAX_BODY_BYTES;
use super::error::{PROBLEM_JSON, Problem};

#[derive(OpenApi)]
#[openapi(
    info(title = "Portcullis", description = "Authentication and session-security server. Contract: API.md."),
    modifiers(&SecuritySchemes),
    components(schemas(Problem)),
    tags(
        (name = "sdk", description = "Called from browsers and apps with the public environment id. \
            A request whose Origin the environment does not allow gets 403 origin_not_allowed on every \
            operation; preflights (OPTIONS) from allowed origins are answered 204 (docs/origins.md)."),
        (name = "management", description = "Called by backends with an API token"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
pub(super) struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SESSION_JWT,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            SESSION_COOKIE,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::domain::sdk_cookie::SESSION_COOKIE,
                "Cookie mode (token_storage \"cookie\"): the session's JWT in an HttpOnly \
                 cookie; a state-changing request also sends X-Portcullis-CSRF (docs/sdk.md)",
            ))),
        );
        components.add_security_scheme(
            API_TOKEN,
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The security scheme of the SDK's routes that take a session.
const SESSION_JWT: &str = "session_jwt";
/// The same session in cookie mode: every route that takes `SESSION_JWT`
/// takes this too (`declare_problems` adds it).
const SESSION_COOKIE: &str = "session_cookie";
/// The security scheme of the management API.
const API_TOKEN: &str = "api_token";

const SDK_PREFIX: &str = "/sdk/v1/{environment_id}";
const MANAGEMENT_PREFIX: &str = "/api/v1/";
const ENVIRONMENT_PREFIX: &str = "/api/v1/environments/{environment_id}";

/// The routes rate limits apply to (`services/rate_limit.rs` and the MFA
/// code attempts): e-mail sign-in, and every check of an MFA code.
const RATE_LIMITED: [(&str, &str); 9] = [
    ("post", "/sdk/v1/{environment_id}/auth/email/start"),
    ("post", "/sdk/v1/{environment_id}/auth/email/verify"),
    ("post", "/sdk/v1/{environment_id}/auth/sms/start"),
    ("post", "/sdk/v1/{environment_id}/auth/sms/verify"),
    ("post", "/sdk/v1/{environment_id}/auth/wallet/nonce"),
    ("post", "/sdk/v1/{environment_id}/auth/wallet/verify"),
    (
        "post",
        "/sdk/v1/{environment_id}/mfa/totp/{device_id}/confirm",
    ),
    ("post", "/sdk/v1/{environment_id}/mfa/verify"),
    ("post", "/sdk/v1/{environment_id}/mfa/step-up"),
];

/// The management routes under an environment that a lock leaves open
/// (docs/access.md, the `locked` column): reading the environment, lock,
/// unlock, introspection, revocations, the revocation feed and the
/// security advisor.
const OPEN_WHEN_LOCKED: [(&str, &str); 10] = [
    ("get", "/api/v1/environments/{environment_id}/revocations"),
    (
        "get",
        "/api/v1/environments/{environment_id}/revocations/stream",
    ),
    ("get", "/api/v1/environments/{environment_id}"),
    (
        "get",
        "/api/v1/environments/{environment_id}/security/advisor",
    ),
    ("post", "/api/v1/environments/{environment_id}/lock"),
    ("post", "/api/v1/environments/{environment_id}/unlock"),
    (
        "post",
        "/api/v1/environments/{environment_id}/sessions/introspect",
    ),
    (
        "post",
        "/api/v1/environments/{environment_id}/sessions/revoke",
    ),
    (
        "post",
        "/api/v1/environments/{environment_id}/sessions/{session_id}/revoke",
    ),
    (
        "post",
        "/api/v1/environments/{environment_id}/users/{user_id}/sessions/revoke",
    ),
];

/// One problem a route can answer: its status, its code (API.md,
/// "Errors") and when.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Declared {
    status: u16,
    code: &'static str,
    when: String,
}

fn declared(status: u16, code: &'static str, when: impl Into<String>) -> Declared {
    Declared {
        status,
        code,
        when: when.into(),
    }
}

/// What the document says about one operation that decides its kind.
struct Route<'a> {
    method: &'a str,
    path: &'a str,
    operation: &'a Operation,
}

impl Route<'_> {
    fn sdk(&self) -> bool {
        self.path.starts_with(SDK_PREFIX)
    }

    fn management(&self) -> bool {
        self.path.starts_with(MANAGEMENT_PREFIX)
    }

    /// Whether a security requirement of the operation names `scheme`.
    fn secured_by(&self, scheme: &str) -> bool {
        self.operation.security.iter().flatten().any(|requirement| {
            serde_json::to_value(requirement)
                .ok()
                .is_some_and(|v| v.get(scheme).is_some())
        })
    }

    fn parameters(&self, place: ParameterIn) -> bool {
        self.operation
            .parameters
            .iter()
            .flatten()
            .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == place))
    }

    fn takes_body(&self) -> bool {
        self.operation.request_body.is_some()
    }

    fn listed(&self, list: &[(&str, &str)]) -> bool {
        list.contains(&(self.method, self.path))
    }

    /// Everything this route can answer because of its kind.
    fn problems(&self) -> Vec<Declared> {
        let mut out = Vec::new();
        // The operations endpoints declare what they answer themselves.
        if !(self.sdk() || self.management()) {
            return out;
        }
        let path_parameters = self.parameters(ParameterIn::Path);
        if self.takes_body() {
            out.push(declared(
                400,
                "validation_failed",
                "the body is not a JSON object or a field is malformed; `errors` names each field",
            ));
        } else if path_parameters || self.parameters(ParameterIn::Query) {
            out.push(declared(
                400,
                "validation_failed",
                "a path or query value is malformed or cannot be stored",
            ));
        }
        if self.secured_by(SESSION_JWT) {
            out.push(declared(
                401,
                "missing_credentials",
                "no bearer token (in cookie mode: no session cookie)",
            ));
            out.push(declared(
                401,
                "invalid_token",
                "the token is not valid for this environment",
            ));
            out.push(declared(401, "token_expired", "the token has expired"));
            out.push(declared(401, "session_revoked", "the session was revoked"));
        }
        if self.secured_by(API_TOKEN) {
            out.push(declared(401, "missing_credentials", "no API token"));
            out.push(declared(
                401,
                "invalid_api_token",
                "the API token is unknown, revoked or expired",
            ));
            out.push(declared(
                403,
                "forbidden",
                "the token's role or environment does not allow this (docs/access.md)",
            ));
        }
        if self.sdk() {
            out.push(declared(
                403,
                "origin_not_allowed",
                "the request's Origin is not on the environment's list (docs/origins.md)",
            ));
            if self.secured_by(SESSION_JWT) {
                out.push(declared(
                    403,
                    "mfa_required",
                    "the session has not completed MFA, and this route needs a complete one",
                ));
                if self.method != "get" {
                    out.push(declared(
                        403,
                        "forbidden",
                        "cookie mode: the session came in the cookie, and X-Portcullis-CSRF \
                         is missing or not the session's csrf_token",
                    ));
                }
            }
        }
        if path_parameters {
            out.push(declared(
                404,
                "not_found",
                "no such resource (also one of another environment or organization)",
            ));
        }
        if self.takes_body() {
            out.push(declared(
                408,
                "request_timeout",
                "the body was not received in time",
            ));
            out.push(declared(
                413,
                "payload_too_large",
                format!("the body is over {MAX_BODY_BYTES} bytes"),
            ));
        }
        let lockable = self.sdk()
            || (self.path.starts_with(ENVIRONMENT_PREFIX) && !self.listed(&OPEN_WHEN_LOCKED));
        if lockable {
            out.push(declared(
                423,
                "environment_locked",
                "the environment is locked",
            ));
        }
        if self.listed(&RATE_LIMITED) {
            out.push(declared(
                429,
                "rate_limited",
                "too many attempts; retry after `Retry-After` seconds",
            ));
        }
        out.push(declared(
            500,
            "internal",
            "a fault of ours; the detail holds a correlation id for the logs",
        ));
        out.push(declared(
            503,
            "unavailable",
            "the database is out of reach, or this node has not heard the others recently; \
             retry after `Retry-After` seconds",
        ));
        out
    }
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
        ("head", item.head.as_mut()),
        ("options", item.options.as_mut()),
        ("trace", item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|o| (method, o)))
}

/// Adds to every operation of the document the problems its kind of route
/// can answer. A status the handler declares already keeps its description
/// (the errors special to that operation), and gets the kind's codes it
/// does not name appended. A response left without a description (which
/// OpenAPI requires) gets its status's reason phrase.
pub(super) fn declare_problems(doc: &mut utoipa::openapi::OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, operation) in operations_mut(item) {
            let problems = Route {
                method,
                path,
                operation,
            }
            .problems();
            let sdk_session = path.starts_with(SDK_PREFIX)
                && Route {
                    method,
                    path,
                    operation,
                }
                .secured_by(SESSION_JWT);
            if sdk_session {
                operation
                    .security
                    .get_or_insert_with(Vec::new)
                    .push(SecurityRequirement::new::<_, [&str; 0], &str>(
                        SESSION_COOKIE,
                        [],
                    ));
            }
            for problem in problems {
                add(operation, &problem);
            }
            describe(operation);
        }
    }
}

fn describe(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            response.description = status
                .parse::<u16>()
                .ok()
                .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
                .and_then(|s| s.canonical_reason())
                .unwrap_or("answer")
                .to_string();
        }
    }
}

fn problem_content() -> Content {
    Content::new(Some(Ref::from_schema_name("Problem")))
}

fn add(operation: &mut Operation, problem: &Declared) {
    let clause = format!("`{}`: {}", problem.code, problem.when);
    let response = operation
        .responses
        .responses
        .entry(problem.status.to_string())
        .or_insert_with(|| RefOr::T(Response::new("")));
    let RefOr::T(response) = response else {
        return;
    };
    if !response.description.contains(problem.code) {
        response.description = if response.description.is_empty() {
            clause
        } else {
            format!("{}; {clause}", response.description)
        };
    }
    response
        .content
        .entry(PROBLEM_JSON.to_string())
        .or_insert_with(|| RefOr::T(problem_content()));
    if matches!(problem.status, 429 | 503) {
        response
            .headers
            .entry("Retry-After".to_string())
            .or_insert_with(|| {
                let mut header = Header::new(Object::with_type(Type::Integer));
                header.description = Some("seconds to wait before retrying".into());
                RefOr::T(header)
            });
    }
}

#[cfg(test)]
mod tests {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, Paths};
    use utoipa::openapi::security::SecurityRequirement;

    use super::*;

    fn document(operation: Operation) -> utoipa::openapi::OpenApi {
        let mut doc =
            utoipa::openapi::OpenApi::new(utoipa::openapi::Info::new("test", "1"), Paths::new());
        doc.paths.add_path_operation(
            "/sdk/v1/{environment_id}/mfa/step-up",
            vec![HttpMethod::Post],
            operation,
        );
        doc
    }

    fn responses(doc: &utoipa::openapi::OpenApi) -> serde_json::Value {
        let json = serde_json::to_value(doc).unwrap_or_default();
        json["paths"]["/sdk/v1/{environment_id}/mfa/step-up"]["post"]["responses"].clone()
    }

    #[test]
    fn a_status_the_handler_declares_keeps_its_words_and_gains_the_kind_codes() {
        let operation = OperationBuilder::new()
            .parameter(
                ParameterBuilder::new()
                    .name("environment_id")
                    .parameter_in(ParameterIn::Path),
            )
            .security(SecurityRequirement::new(SESSION_JWT, Vec::<String>::new()))
            .response("200", Response::new(""))
            .response("403", Response::new("elevated_token_required or forbidden"))
            .build();
        let mut doc = document(operation);
        declare_problems(&mut doc);
        let responses = responses(&doc);
        assert_eq!(responses["200"]["description"], "OK");
        let forbidden = responses["403"]["description"].as_str().unwrap_or_default();
        assert!(
            forbidden.starts_with("elevated_token_required or forbidden; `origin_not_allowed`"),
            "{forbidden}"
        );
        assert!(forbidden.contains("`mfa_required`"), "{forbidden}");
        assert!(
            responses["401"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("session_revoked"))
        );
        assert_eq!(
            responses["429"]["content"][PROBLEM_JSON]["schema"]["$ref"],
            "#/components/schemas/Problem"
        );
        assert!(responses["429"]["headers"]["Retry-After"].is_object());
        // No body, so none of the body's problems.
        assert!(responses["413"].is_null() && responses["408"].is_null());
    }
}
