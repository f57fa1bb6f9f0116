//! The extractors and the layer through a real router: answers and the
//! server's problem+json rejections.

mod support;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use axum::{Extension, Router};
use jsonwebtoken::Algorithm;
use portcullis_verify::scopes::CredentialLink;
use portcullis_verify::{
    Claims, ElevatedToken, PartialSession, VerifiedSession, Verifier, VerifyLayer,
};
use serde_json::Value;
use support::{TestClock, TestIssuer, TestKey};
use tower::ServiceExt;

struct Fixture {
    issuer: TestIssuer,
    clock: TestClock,
    key: TestKey,
    verifier: Verifier,
}

async fn fixture() -> Fixture {
    let issuer = TestIssuer::start().await;
    let clock = TestClock::new();
    let key = TestKey::generate(Algorithm::ES256, "key_1");
    issuer.publish(&key);
    let verifier = issuer.verifier(&clock);
    Fixture {
        issuer,
        clock,
        key,
        verifier,
    }
}

impl Fixture {
    fn session(&self) -> String {
        self.key
            .session(&self.issuer.session_claims(self.clock.now_s()))
    }

    fn partial(&self) -> String {
        let mut claims = self.issuer.session_claims(self.clock.now_s());
        claims["scope"] = "requiresAdditionalAuth".into();
        self.key.session(&claims)
    }

    fn elevated(&self, scope: &str) -> String {
        self.key
            .elevated(&self.issuer.elevated_claims(self.clock.now_s(), scope))
    }

    fn router(&self) -> Router {
        let layered = Router::new()
            .route(
                "/claims",
                get(|Extension(c): Extension<Claims>| async move { c.sub }),
            )
            .route("/me", get(me))
            .layer(VerifyLayer::new(self.verifier.clone()));
        let layered_partial = Router::new()
            .route("/me", get(me))
            .route("/partial", get(partial))
            .layer(VerifyLayer::new(self.verifier.clone()).allow_partial());
        Router::new()
            .route("/me", get(me))
            .route("/partial", get(partial))
            .route("/link", get(link))
            .nest("/layered", layered)
            .nest("/layered-partial", layered_partial)
            .layer(Extension(self.verifier.clone()))
    }
}

async fn me(VerifiedSession(claims): VerifiedSession) -> String {
    claims.sub
}

async fn partial(PartialSession(claims): PartialSession) -> String {
    format!("partial={}", claims.is_partial())
}

async fn link(elevated: ElevatedToken<CredentialLink>) -> String {
    format!("{} {}", elevated.claims.scope, elevated.session.sid)
}

/// Status and body of `GET path` with the given headers.
async fn get_with(router: Router, path: &str, headers: &[(&str, &str)]) -> (StatusCode, String) {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = router
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let body = to_bytes(response.into_body(), 1 << 16).await.expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The problem's code, after checking its shape.
fn problem_code(status: StatusCode, body: &str) -> String {
    let problem: Value = serde_json::from_str(body).expect("problem+json");
    assert_eq!(problem["status"], status.as_u16());
    let code = problem["code"].as_str().expect("code").to_string();
    assert_eq!(problem["type"], format!("urn:portcullis:problem:{code}"));
    assert!(problem["title"].is_string() && problem["detail"].is_string());
    code
}

#[tokio::test]
async fn a_session_by_bearer_or_cookie_passes() {
    let f = fixture().await;
    let token = f.session();
    let (status, body) = get_with(f.router(), "/me", &[("authorization", &bearer(&token))]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "usr_1"));
    let cookie = format!("portcullis_csrf=x; portcullis_session={token}");
    let (status, body) = get_with(f.router(), "/me", &[("cookie", &cookie)]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "usr_1"));
}

#[tokio::test]
async fn refusals_are_problems_with_the_servers_codes() {
    let f = fixture().await;
    let response = f
        .router()
        .oneshot(Request::get("/me").body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );

    let session = f.session();
    let mut expired = f.issuer.session_claims(f.clock.now_s() - 9000);
    expired["exp"] = (f.clock.now_s() - 61).into();
    let expired = f.key.session(&expired);
    let forged = support::with_payload(&session, &f.issuer.elevated_claims(0, "user:basic"));
    let cases = [
        (
            "/me",
            vec![],
            StatusCode::UNAUTHORIZED,
            "missing_credentials",
        ),
        (
            "/me",
            vec![("authorization", bearer(&expired))],
            StatusCode::UNAUTHORIZED,
            "token_expired",
        ),
        (
            "/me",
            vec![("authorization", bearer(&forged))],
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        ),
        (
            "/me",
            vec![("authorization", bearer(&f.partial()))],
            StatusCode::FORBIDDEN,
            "mfa_required",
        ),
        (
            "/me",
            vec![("authorization", bearer(&f.elevated("credential:link")))],
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        ),
    ];
    for (path, headers, status, code) in cases {
        let headers: Vec<_> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let (got, body) = get_with(f.router(), path, &headers).await;
        assert_eq!(got, status, "{code}: {body}");
        assert_eq!(problem_code(got, &body), code);
        for (_, value) in &headers {
            assert!(
                !body.contains(value.trim_start_matches("Bearer ")),
                "the token in {body}"
            );
        }
    }
}

#[tokio::test]
async fn a_partial_session_passes_only_where_allowed() {
    let f = fixture().await;
    let partial = bearer(&f.partial());
    let (status, body) = get_with(f.router(), "/partial", &[("authorization", &partial)]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "partial=true"));
    let full = bearer(&f.session());
    let (status, body) = get_with(f.router(), "/partial", &[("authorization", &full)]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "partial=false"));
}

#[tokio::test]
async fn an_elevated_token_of_the_scope_and_session_is_needed() {
    let f = fixture().await;
    let session = bearer(&f.session());
    let link = f.elevated("credential:link");
    let (status, body) = get_with(
        f.router(),
        "/link",
        &[
            ("authorization", &session),
            ("x-portcullis-elevated-token", &link),
        ],
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "credential:link ses_1")
    );

    let wrong_scope = f.elevated("wallet:export");
    let session_token = f.session();
    for elevated in [
        None,
        Some(wrong_scope.as_str()),
        Some(session_token.as_str()),
    ] {
        let mut headers = vec![("authorization", session.as_str())];
        headers.extend(elevated.map(|e| ("x-portcullis-elevated-token", e)));
        let (status, body) = get_with(f.router(), "/link", &headers).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(problem_code(status, &body), "elevated_token_required");
    }
    // Without a session, the session is what is missing.
    let (status, body) = get_with(
        f.router(),
        "/link",
        &[("x-portcullis-elevated-token", &link)],
    )
    .await;
    assert_eq!(problem_code(status, &body), "missing_credentials");
}

#[tokio::test]
async fn the_layer_verifies_before_the_handler() {
    let f = fixture().await;
    let full = bearer(&f.session());
    let partial = bearer(&f.partial());
    let (status, body) = get_with(f.router(), "/layered/claims", &[("authorization", &full)]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "usr_1"));
    let (status, body) = get_with(f.router(), "/layered/claims", &[]).await;
    assert_eq!(problem_code(status, &body), "missing_credentials");
    let (status, body) = get_with(f.router(), "/layered/me", &[("authorization", &partial)]).await;
    assert_eq!(problem_code(status, &body), "mfa_required");

    // A layer that lets partial sessions in: the partial route takes them,
    // a full-session extractor under it still refuses them.
    let (status, body) = get_with(
        f.router(),
        "/layered-partial/partial",
        &[("authorization", &partial)],
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "partial=true"));
    let (status, body) = get_with(
        f.router(),
        "/layered-partial/me",
        &[("authorization", &partial)],
    )
    .await;
    assert_eq!(problem_code(status, &body), "mfa_required");
    assert_eq!(f.issuer.jwks_requests(), 1);
}

#[tokio::test]
async fn keys_out_of_reach_answer_503_with_retry_after() {
    let f = fixture().await;
    f.issuer.set_failing(true);
    let response = f
        .router()
        .oneshot(
            Request::get("/me")
                .header("authorization", bearer(&f.session()))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    let body = to_bytes(response.into_body(), 1 << 16).await.expect("body");
    let body = String::from_utf8_lossy(&body);
    assert_eq!(
        problem_code(StatusCode::SERVICE_UNAVAILABLE, &body),
        "unavailable"
    );
}
