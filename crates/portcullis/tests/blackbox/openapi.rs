//! Issue 15, item 4: the OpenAPI document declares every status an
//! operation can answer. What each kind of route answers is written out
//! here again, from API.md's error table and docs/access.md, apart from the
//! server's own rules (`http/openapi.rs`), so that a status dropped there
//! fails here; then every operation is tried as a new user would, and each
//! answer must be one its operation declares.

use std::collections::{BTreeMap, BTreeSet};

use portcullis::domain::validation::ValidationErrors;
use portcullis::http::error::ApiError;
use portcullis::services::ServiceError;
use reqwest::Method;
use serde_json::{Value, json};

use crate::access;
use crate::harness::*;
use crate::mfa::PARTIAL_SESSION_ROUTES;

/// API.md, "Errors", and the codes the docs add to it (408
/// `request_timeout`, 503 `unavailable` and `not_ready` in
/// docs/deployment.md; 405 `method_not_allowed` from the server's safety
/// net): every `(status, code)` the server may answer.
const DOCUMENTED: [(u16, &str); 23] = [
    (400, "validation_failed"),
    (400, "invalid_code"),
    (401, "missing_credentials"),
    (401, "invalid_token"),
    (401, "token_expired"),
    (401, "session_revoked"),
    (401, "invalid_api_token"),
    (403, "origin_not_allowed"),
    (403, "mfa_required"),
    (403, "elevated_token_required"),
    (403, "access_denied"),
    (403, "forbidden"),
    (404, "not_found"),
    (405, "method_not_allowed"),
    (408, "request_timeout"),
    (409, "conflict"),
    (410, "cursor_expired"),
    (413, "payload_too_large"),
    (423, "environment_locked"),
    (429, "rate_limited"),
    (500, "internal"),
    (503, "unavailable"),
    (503, "not_ready"),
];

/// The routes with rate limits (README, "Rate limits"): e-mail sign-in and
/// every check of an MFA code. The server has its own list
/// (`http/openapi.rs`); this one is written apart on purpose, so that a
/// route dropped from that one fails here.
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

/// The `locked` cell of each management route in docs/access.md (`423`,
/// `open` or `-`), by `(method, path under /api/v1)`.
type LockTable = BTreeMap<(String, String), String>;

fn lock_table() -> LockTable {
    access::table()
        .into_iter()
        .map(|row| ((row.method.as_str().to_lowercase(), row.path), row.locked))
        .collect()
}

/// One operation of the document.
struct Operation {
    method: String,
    path: String,
    spec: Value,
}

impl Operation {
    fn sdk(&self) -> bool {
        self.path.starts_with("/sdk/v1/{environment_id}")
    }

    fn management(&self) -> bool {
        self.path.starts_with("/api/v1/")
    }

    fn secured_by(&self, scheme: &str) -> bool {
        self.spec["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get(scheme).is_some()))
    }

    fn takes_body(&self) -> bool {
        self.spec.get("requestBody").is_some()
    }

    fn query_parameters(&self) -> bool {
        self.spec["parameters"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["in"] == "query"))
    }

    fn is(&self, list: &[(&str, &str)]) -> bool {
        list.contains(&(self.method.as_str(), self.path.as_str()))
    }

    /// What API.md and the docs say a route of this kind can answer.
    fn expected(&self, table: &LockTable) -> Vec<(u16, &str)> {
        let mut out = Vec::new();
        if !(self.sdk() || self.management()) {
            return out;
        }
        out.extend([(500, "internal"), (503, "unavailable")]);
        if self.takes_body() {
            out.extend([
                (400, "validation_failed"),
                (408, "request_timeout"),
                (413, "payload_too_large"),
            ]);
        }
        if self.path.contains('{') {
            out.extend([(400, "validation_failed"), (404, "not_found")]);
        }
        if self.query_parameters() {
            out.push((400, "validation_failed"));
        }
        if self.secured_by("session_jwt") {
            out.extend([
                (401, "missing_credentials"),
                (401, "invalid_token"),
                (401, "token_expired"),
                (401, "session_revoked"),
            ]);
            if !self.is(&PARTIAL_SESSION_ROUTES) {
                out.push((403, "mfa_required"));
            }
        }
        if self.secured_by("api_token") {
            out.extend([
                (401, "missing_credentials"),
                (401, "invalid_api_token"),
                (403, "forbidden"),
            ]);
        }
        if self.sdk() {
            out.extend([(403, "origin_not_allowed"), (423, "environment_locked")]);
        }
        if self.locked_cell(table) == Some("423") {
            out.push((423, "environment_locked"));
        }
        if self.is(&RATE_LIMITED) {
            out.push((429, "rate_limited"));
        }
        out
    }

    fn locked_cell<'t>(&self, table: &'t LockTable) -> Option<&'t str> {
        let path = self.path.strip_prefix("/api/v1")?;
        table
            .get(&(self.method.clone(), path.to_string()))
            .map(String::as_str)
    }

    fn response(&self, status: u16) -> Option<&Value> {
        self.spec["responses"].get(status.to_string())
    }
}

async fn operations(app: &TestApp) -> Vec<Operation> {
    let doc = app.get("/openapi.json", None).await;
    let doc = doc.assert_status(200);
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, spec) in item.as_object().expect("a path item") {
            out.push(Operation {
                method: method.clone(),
                path: path.clone(),
                spec: spec.clone(),
            });
        }
    }
    out
}

#[tokio::test]
async fn every_operation_declares_what_its_kind_of_route_answers() {
    let app = spawn_app().await;
    let table = lock_table();
    let operations = operations(&app).await;
    assert!(
        operations.len() >= 53,
        "only {} operations",
        operations.len()
    );
    for op in &operations {
        let name = format!("{} {}", op.method, op.path);
        for (status, code) in op.expected(&table) {
            let response = op
                .response(status)
                .unwrap_or_else(|| panic!("{name} does not declare {status} ({code})"));
            let description = response["description"].as_str().unwrap_or_default();
            assert!(
                description.contains(code),
                "{name}: {status} does not name {code}: {description:?}"
            );
            assert_eq!(
                response["content"]["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem",
                "{name}: {status}"
            );
            if matches!(status, 429 | 503) {
                assert!(
                    response["headers"]["Retry-After"].is_object(),
                    "{name}: {status} without Retry-After"
                );
            }
        }
        // And no more than that where the kind is decided by a list: a
        // route a lock leaves open does not declare 423, a route without a
        // rate limit no 429.
        if op.locked_cell(&table) == Some("open") {
            assert!(op.response(423).is_none(), "{name}: open while locked");
        }
        assert_eq!(
            op.response(429).is_some(),
            op.is(&RATE_LIMITED),
            "{name}: 429"
        );
        // Every declared problem names codes of API.md.
        for (status, response) in op.spec["responses"].as_object().expect("responses") {
            let status: u16 = status.parse().expect("a numeric status");
            if status < 400 || op.path == "/readyz" {
                continue;
            }
            let description = response["description"].as_str().unwrap_or_default();
            assert!(
                DOCUMENTED
                    .iter()
                    .any(|(s, code)| *s == status && description.contains(code))
                    || status == 409,
                "{name}: {status} names no documented code: {description:?}"
            );
        }
    }
    // The lists name real operations.
    for (method, path) in RATE_LIMITED.iter().chain(&PARTIAL_SESSION_ROUTES) {
        assert!(
            operations
                .iter()
                .any(|o| o.method == *method && o.path == *path),
            "{method} {path} is not in the document"
        );
    }
}

/// Every `ServiceError`, so a variant added later must be placed here (the
/// `match` has no catch-all).
fn every_service_error() -> Vec<ServiceError> {
    let all = vec![
        ServiceError::Validation(ValidationErrors::single("field", "is wrong")),
        ServiceError::InvalidCode,
        ServiceError::InvalidCodeBecause("a reason".into()),
        ServiceError::MissingCredentials,
        ServiceError::InvalidToken,
        ServiceError::TokenExpired,
        ServiceError::SessionRevoked,
        ServiceError::InvalidApiToken,
        ServiceError::Forbidden,
        ServiceError::MethodDisabled("SMS"),
        ServiceError::MfaRequired,
        ServiceError::ElevatedTokenRequired,
        ServiceError::NotFound,
        ServiceError::Conflict("a conflict".into()),
        ServiceError::RateLimited {
            retry_after_secs: 3,
        },
        ServiceError::EnvironmentLocked,
        ServiceError::CursorExpired,
        ServiceError::Unavailable,
        ServiceError::internal("a test fault"),
    ];
    for e in &all {
        match e {
            ServiceError::Validation(_)
            | ServiceError::InvalidCode
            | ServiceError::InvalidCodeBecause(_)
            | ServiceError::MissingCredentials
            | ServiceError::InvalidToken
            | ServiceError::TokenExpired
            | ServiceError::SessionRevoked
            | ServiceError::InvalidApiToken
            | ServiceError::Forbidden
            | ServiceError::MethodDisabled(_)
            | ServiceError::MfaRequired
            | ServiceError::ElevatedTokenRequired
            | ServiceError::NotFound
            | ServiceError::Conflict(..)
            | ServiceError::RateLimited { .. }
            | ServiceError::EnvironmentLocked
            | ServiceError::CursorExpired
            | ServiceError::Unavailable
            | ServiceError::Internal(..) => {}
        }
    }
    all
}

#[tokio::test]
async fn the_error_mapping_answers_only_documented_statuses_that_the_document_declares() {
    let app = spawn_app().await;
    let operations = operations(&app).await;
    let declared: BTreeSet<u16> = operations
        .iter()
        .flat_map(|o| o.spec["responses"].as_object().expect("responses").keys())
        .map(|s| s.parse().expect("a numeric status"))
        .collect();
    let mut seen = BTreeMap::new();
    for error in every_service_error() {
        let what = format!("{error:?}");
        let api = ApiError::from(error);
        let (status, code) = (api.status.as_u16(), api.code);
        assert!(
            DOCUMENTED.contains(&(status, code)),
            "{what} answers {status} {code}, which API.md does not document"
        );
        assert!(
            declared.contains(&status),
            "{what} answers {status}, which no operation declares"
        );
        if matches!(status, 429 | 503) {
            assert!(
                api.retry_after.is_some(),
                "{what}: {status} without Retry-After"
            );
        }
        seen.insert(code, status);
    }
    assert_eq!(seen.len(), 17, "{seen:?}");
}

/// Ids of the right shape that name nothing.
fn unknown_ids(path: &str, env: &str) -> String {
    let mut out = path.replace("{environment_id}", env);
    while let Some(start) = out.find('{') {
        let end = out[start..].find('}').expect("a closed placeholder") + start;
        let prefix = &out[start + 1..end]
            .split('_')
            .next()
            .unwrap_or("x")
            .chars()
            .take(3)
            .collect::<String>();
        out.replace_range(start..=end, &format!("{prefix}_{}", "0".repeat(32)));
    }
    out
}

/// Each path parameter set to `value` (percent-encoded already).
fn every_parameter(path: &str, value: &str) -> String {
    let mut out = path.to_string();
    while let Some(start) = out.find('{') {
        let end = out[start..].find('}').expect("a closed placeholder") + start;
        out.replace_range(start..=end, value);
    }
    out
}

/// A few requests per operation, as a new user (or a fuzzer) sends them:
/// no credentials, a wrong one, a bad body, a body too large, unknown ids,
/// a NUL in an id, an unlisted Origin, a locked environment. Each answer
/// must be a status its operation declares, and none a server error.
#[tokio::test]
async fn generated_requests_get_only_declared_statuses() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let locked = app.live.clone();
    let (session, _) = app.sign_in(&env, "fuzz@example.com").await;
    let (locked_session, _) = app.sign_in(&locked, "fuzz-locked@example.com").await;
    app.add_origin(&env, "https://app.example.com")
        .await
        .assert_status(201);
    let (_, viewer) = app.create_token("viewer", None).await;
    let operations = operations(&app).await;
    app.set_locked(&locked, true).await.assert_status(200);

    let too_large = "x".repeat(portcullis::http::MAX_BODY_BYTES + 1);
    let mut sent = 0;
    let mut statuses = BTreeMap::<u16, usize>::new();
    for op in &operations {
        if !(op.sdk() || op.management()) {
            continue;
        }
        let method = Method::from_bytes(op.method.to_uppercase().as_bytes()).expect("a method");
        let credential = if op.sdk() { &session } else { &app.api_token };
        let url = |path: &str| format!("{}{path}", app.base);
        let known = unknown_ids(&op.path, &env);
        let body = op.takes_body().then(|| json!({}));
        let mut requests: Vec<reqwest::RequestBuilder> = vec![
            // No credentials.
            app.client.request(method.clone(), url(&known)),
            // A wrong credential.
            app.client
                .request(method.clone(), url(&known))
                .bearer_auth("not-a-token"),
            // A credential with too low a role, or a session of another
            // environment.
            app.client
                .request(method.clone(), url(&known))
                .bearer_auth(if op.sdk() { &locked_session } else { &viewer }),
            // Unknown ids everywhere, the environment's included.
            app.client
                .request(method.clone(), url(&unknown_ids(&op.path, "env_none")))
                .bearer_auth(credential),
            // A NUL, and a quote, in every id.
            app.client
                .request(method.clone(), url(&every_parameter(&op.path, "%00")))
                .bearer_auth(credential),
            app.client
                .request(method.clone(), url(&every_parameter(&op.path, "a'b")))
                .bearer_auth(credential),
            // The locked environment.
            app.client
                .request(method.clone(), url(&unknown_ids(&op.path, &locked)))
                .bearer_auth(if op.sdk() {
                    &locked_session
                } else {
                    &app.api_token
                }),
        ];
        if op.sdk() {
            requests.push(
                app.client
                    .request(method.clone(), url(&known))
                    .header("origin", "https://evil.example.com")
                    .bearer_auth(credential),
            );
        }
        if let Some(body) = &body {
            let with = |b: reqwest::RequestBuilder| b.bearer_auth(credential);
            requests.extend([
                with(app.client.request(method.clone(), url(&known))).json(body),
                with(app.client.request(method.clone(), url(&known))).json(&json!([1, 2])),
                with(app.client.request(method.clone(), url(&known)))
                    .header("content-type", "application/json")
                    .body("{\"unclosed\": "),
                with(app.client.request(method.clone(), url(&known)))
                    .header("content-type", "text/plain")
                    .body("{}"),
                with(app.client.request(method.clone(), url(&known)))
                    .header("content-type", "application/json")
                    .body(format!("{{\"a\": \"{too_large}\"}}")),
                with(app.client.request(method.clone(), url(&known))).json(&json!({
                    "email": "a\u{0}@example.com", "code": 12, "scope": [], "token": null,
                    "origin": "javascript:alert(1)", "role": "emperor", "url": "ftp://x",
                })),
            ]);
        }
        for request in requests {
            let reply = app.raw(request).await;
            let status = reply.status.as_u16();
            sent += 1;
            *statuses.entry(status).or_default() += 1;
            let name = format!("{} {}", op.method, op.path);
            assert!(status < 500, "{name}: {status} {}", reply.text);
            let declared = op.response(status).unwrap_or_else(|| {
                panic!(
                    "{name} answered {status}, which it does not declare: {}",
                    reply.text
                )
            });
            if status >= 400 {
                let code = reply.body["code"].as_str().unwrap_or_default();
                let description = declared["description"].as_str().unwrap_or_default();
                assert!(
                    description.contains(code) || status == 409,
                    "{name}: {status} {code} is not named in {description:?}"
                );
            }
        }
        // The unlock route was just called on the locked environment.
        app.set_locked(&locked, true).await.assert_status(200);
    }
    assert!(sent >= 300, "only {sent} requests");
    // The kinds were all exercised.
    for status in [400, 401, 403, 404, 413, 423] {
        assert!(
            statuses.contains_key(&status),
            "no {status} in {statuses:?}"
        );
    }
}
