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
        "/sdk/v1/{environment_id}/config",
        "/sdk/v1/{environment_id}/credentials",
        "/sdk/v1/{environment_id}/auth/email/start",
        "/sdk/v1/{environment_id}/auth/email/verify",
        "/sdk/v1/{environment_id}/auth/sms/start",
        "/sdk/v1/{environment_id}/auth/sms/verify",
        "/sdk/v1/{environment_id}/auth/wallet/nonce",
        "/sdk/v1/{environment_id}/auth/wallet/verify",
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
        "/api/v1/environments/{environment_id}/revocations",
        "/api/v1/environments/{environment_id}/revocations/stream",
        "/api/v1/environments/{environment_id}/security/advisor",
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

/// The series in a Prometheus text rendering: each sample line without its
/// value, so counts going up do not count as growth.
fn series_of(metrics: &str) -> BTreeSet<String> {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.rsplit_once(' ').map(|(series, _)| series.to_string()))
        .collect()
}

/// Issue 14, item 1: a client that invents methods must not create a
/// series per method (memory that is never given back).
#[tokio::test]
async fn odd_methods_do_not_grow_the_metrics() {
    let app = spawn_app().await;
    let odd = |i: usize| reqwest::Method::from_bytes(format!("X{i:0>40}").as_bytes()).unwrap();
    let send_odd = |i: usize| {
        let (a, b) = (
            app.client
                .request(odd(i), format!("{}/nope", app.base))
                .send(),
            app.client
                .request(odd(i), format!("{}/healthz", app.base))
                .send(),
        );
        async move {
            assert_eq!(a.await.expect("sent").status(), 404);
            assert_eq!(b.await.expect("sent").status(), 405);
        }
    };
    let metrics = || async { app.get("/metrics", None).await.text };
    // Every series the test can create exists once.
    send_odd(0).await;
    metrics().await;
    let before = metrics().await;
    for i in 1..=300 {
        send_odd(i).await;
    }
    let after = metrics().await;
    assert_eq!(series_of(&before), series_of(&after));
    assert!(
        after.contains("method=\"other\",route=\"unmatched\",status=\"404\"} 301"),
        "{after}"
    );
    assert!(!after.contains("X0000"), "a raw method became a label");
}
