//! `POST /api/v1/environments/{env}/sessions/introspect` only reads: it
//! shows what a token is (a full session, a partial one waiting for its
//! second factor, an elevated token and its action) and never spends
//! anything, whatever the role of the API token that asks (a `viewer` may).

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestApp, spawn_app};
use crate::mfa::{elevated_token, enrol_totp, enrolled_with_action_enforcement, patch_settings};

/// Introspects `token` with `api_token`: the 200 answer.
pub async fn introspect(app: &TestApp, api_token: &str, env: &str, token: &str) -> Value {
    app.api_as(
        api_token,
        Method::POST,
        &format!("/environments/{env}/sessions/introspect"),
        Some(json!({ "token": token })),
    )
    .await
    .assert_status(200)
    .clone()
}

#[tokio::test]
async fn introspecting_an_elevated_token_does_not_spend_it() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let (_, viewer) = app.create_token("viewer", Some(&env)).await;
    let (token, device) = enrolled_with_action_enforcement(&app, &env, "step-up@example.com").await;
    let link = elevated_token(&app, &env, &device, &token, "credential:link").await;

    // A read-only credential sees it, with its action, as often as it
    // likes; so does the owner.
    for api_token in [&viewer, &viewer, &app.api_token] {
        let answer = introspect(&app, api_token, &env, &link).await;
        assert_eq!(answer["active"], true, "{answer}");
        assert_eq!(answer["token_type"], "elevated");
        assert_eq!(answer["scope"], "credential:link");
    }

    // It still serves its action, once.
    let regenerate = || {
        app.client
            .post(format!("{}/sdk/v1/{env}/mfa/recovery-codes", app.base))
            .bearer_auth(&token)
            .header("X-Portcullis-Elevated-Token", &link)
    };
    app.raw(regenerate()).await.assert_status(200);
    app.raw(regenerate())
        .await
        .assert_problem(403, "elevated_token_required");
    // Spent, it is no longer active.
    let answer = introspect(&app, &viewer, &env, &link).await;
    assert_eq!(answer, json!({ "active": false }));
}

#[tokio::test]
async fn a_partial_token_is_introspected_with_its_scope() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let (_, viewer) = app.create_token("viewer", Some(&env)).await;
    let (full, _) = app.sign_in(&env, "partial@example.com").await;
    enrol_totp(&app, &env, &full).await;
    patch_settings(&app, &env, json!({"mfa": {"session_enforcement": true}})).await;
    let (partial, result) = app.sign_in(&env, "partial@example.com").await;
    assert_eq!(result["mfa"]["required"], true);

    let answer = introspect(&app, &viewer, &env, &partial).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["scope"], "requiresAdditionalAuth");
    assert_eq!(answer["token_type"], "Bearer");
    // Introspection completes nothing: still partial for the SDK.
    app.session(&env, &partial)
        .await
        .assert_problem(403, "mfa_required");

    let answer = introspect(&app, &viewer, &env, &full).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["scope"], "user:basic");
}
