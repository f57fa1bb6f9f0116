//! Health, readiness, metrics and the OpenAPI document (point 9).

use std::collections::BTreeSet;

use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    assert_eq!(
        app.get("/healthz", None).await.assert_status(200)["status"],
        "ok"
    );
    assert_eq!(
        app.get("/readyz", None).await.assert_status(200)["status"],
        "ready"
    );
}

#[tokio::test]
async fn metrics_count_requests_sign_ins_and_revocations() {
    let app = spawn_app().await;
    let (token, _) = app.sign_in(&app.sandbox, "ada@example.com").await;
    app.session(&app.sandbox, &token).await.assert_status(200);
    app.revoke_environment(&app.sandbox)
        .await
        .assert_status(200);
    app.session(&app.sandbox, &token)
        .await
        .assert_problem(401, "session_revoked");

    let text = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        "portcullis_http_requests_total{method=\"GET\",route=\"/sdk/v1/{environment_id}/session\",status=\"200\"} 1",
        "portcullis_http_requests_total{method=\"GET\",route=\"/sdk/v1/{environment_id}/session\",status=\"401\"} 1",
        "portcullis_http_request_duration_seconds_bucket{method=\"GET\",route=\"/sdk/v1/{environment_id}/session\"",
        "portcullis_sign_ins_total{method=\"email\",outcome=\"success\"} 1",
        "portcullis_revocations_total{scope=\"environment\"} 1",
        "portcullis_session_checks_total{outcome=\"revoked\"} 1",
    ] {
        assert!(text.contains(expected), "missing {expected}\n{text}");
    }
    // Route templates, never raw paths with ids.
    assert!(!text.contains(&app.sandbox));
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json", None).await;
    let doc = doc.assert_status(200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let expected: BTreeSet<String> = [
        "/sdk/v1/{environment_id}/auth/email/start",
        "/sdk/v1/{environment_id}/auth/email/verify",
        "/sdk/v1/{environment_id}/session",
        "/sdk/v1/{environment_id}/logout",
        "/sdk/v1/{environment_id}/sessions",
        "/sdk/v1/{environment_id}/sessions/{session_id}",
        "/sdk/v1/{environment_id}/mfa/devices",
        "/sdk/v1/{environment_id}/mfa/devices/{device_id}",
        "/sdk/v1/{environment_id}/mfa/totp",
        "/sdk/v1/{environment_id}/mfa/totp/{device_id}/confirm",
        "/sdk/v1/{environment_id}/mfa/verify",
        "/sdk/v1/{environment_id}/mfa/passkey/register/start",
        "/sdk/v1/{environment_id}/mfa/passkey/register/finish",
        "/sdk/v1/{environment_id}/mfa/passkey/challenge",
        "/sdk/v1/{environment_id}/mfa/step-up",
        "/sdk/v1/{environment_id}/mfa/recovery-codes",
        "/sdk/v1/{environment_id}/.well-known/jwks.json",
        "/sdk/v1/{environment_id}/.well-known/openid-configuration",
        "/api/v1/environments/{environment_id}",
        "/api/v1/environments/{environment_id}/settings/security",
        "/api/v1/environments/{environment_id}/origins",
        "/api/v1/environments/{environment_id}/origins/{origin_id}",
        "/api/v1/environments/{environment_id}/users",
        "/api/v1/environments/{environment_id}/users/{user_id}",
        "/api/v1/environments/{environment_id}/users/{user_id}/sessions",
        "/api/v1/environments/{environment_id}/users/{user_id}/sessions/revoke",
        "/api/v1/environments/{environment_id}/sessions/{session_id}/revoke",
        "/api/v1/environments/{environment_id}/sessions/revoke",
        "/api/v1/environments/{environment_id}/sessions/introspect",
        "/api/v1/environments/{environment_id}/users/{user_id}/mfa/devices",
        "/api/v1/environments/{environment_id}/users/{user_id}/mfa/devices/{device_id}",
        "/api/v1/environments/{environment_id}/events",
        "/api/v1/environments/{environment_id}/webhooks",
        "/api/v1/environments/{environment_id}/webhooks/{webhook_id}",
        "/api/v1/environments/{environment_id}/webhooks/{webhook_id}/rotate-secret",
        "/api/v1/environments/{environment_id}/webhooks/{webhook_id}/test",
        "/api/v1/environments/{environment_id}/webhooks/{webhook_id}/deliveries",
        "/api/v1/environments/{environment_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
        "/api/v1/environments/{environment_id}/lock",
        "/api/v1/environments/{environment_id}/unlock",
        "/api/v1/tokens",
        "/api/v1/tokens/{token_id}",
        "/api/v1/tokens/{token_id}/rotate",
        "/api/v1/members",
        "/api/v1/members/{member_id}",
        "/healthz",
        "/readyz",
        "/metrics",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(paths, expected);
    let settings = &doc["paths"]["/api/v1/environments/{environment_id}/settings/security"];
    assert!(settings["get"].is_object() && settings["patch"].is_object());
    assert_eq!(
        json!(doc["components"]["securitySchemes"]["api_token"]["scheme"]),
        json!("bearer")
    );
}
