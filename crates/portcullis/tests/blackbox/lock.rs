//! Issue 7, point 4: the owner's lock. Every route's answer while locked is
//! walked in `access.rs`; here, what it does to users and sessions.

use reqwest::Method;
use serde_json::Value;
use time::Duration;

use crate::harness::*;
use crate::introspection::introspect;

async fn events_of(app: &TestApp, env: &str, kind: &str) -> Vec<Value> {
    let reply = app
        .api(
            Method::GET,
            &format!("/environments/{env}/events?type={kind}"),
            None,
        )
        .await;
    reply.assert_status(200)["events"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_locked_environment_refuses_its_sessions_without_revoking_them() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let (kept, _) = app.sign_in(&env, "kept@example.com").await;
    let (revoked, result) = app.sign_in(&env, "revoked@example.com").await;
    let revoked_sid = result["session"]["id"].as_str().unwrap().to_string();
    let (other_env_token, _) = app.sign_in(&app.live, "live@example.com").await;

    let reply = app.set_locked(&env, true).await;
    assert_eq!(reply.assert_status(200)["locked"], true);
    // Idempotent: 200 again (and one event only, checked below).
    app.set_locked(&env, true).await.assert_status(200);

    app.session(&env, &kept)
        .await
        .assert_problem(423, "environment_locked");
    app.start_email(&env, "new@example.com")
        .await
        .assert_problem(423, "environment_locked");
    app.get(&format!("/sdk/v1/{env}/.well-known/jwks.json"), None)
        .await
        .assert_problem(423, "environment_locked");
    assert_eq!(
        introspect(&app, &app.api_token, &env, &kept).await["active"],
        false
    );
    let info = app
        .api(Method::GET, &format!("/environments/{env}"), None)
        .await;
    assert_eq!(info.assert_status(200)["locked"], true);
    // The other environment goes on.
    app.session(&app.live, &other_env_token)
        .await
        .assert_status(200);

    // Revocation stays open while locked (the incident's remedy).
    app.revoke_session(&env, &revoked_sid)
        .await
        .assert_status(200);

    let reply = app.set_locked(&env, false).await;
    assert_eq!(reply.assert_status(200)["locked"], false);
    app.session(&env, &kept).await.assert_status(200);
    assert_eq!(
        introspect(&app, &app.api_token, &env, &kept).await["active"],
        true
    );
    app.session(&env, &revoked)
        .await
        .assert_problem(401, "session_revoked");
    app.start_email(&env, "new@example.com")
        .await
        .assert_status(202);

    assert_eq!(events_of(&app, &env, "environment.locked").await.len(), 1);
    let unlocked = events_of(&app, &env, "environment.unlocked").await;
    assert_eq!(unlocked.len(), 1);
    assert_eq!(unlocked[0]["actor"]["kind"], "api_token");
    assert_eq!(
        events_of(&app, &app.live, "environment.locked").await.len(),
        0
    );
}

#[tokio::test]
async fn a_session_that_expires_while_locked_stays_dead_after_unlocking() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let (token, _) = app.sign_in(&env, "ada@example.com").await;
    app.set_locked(&env, true).await.assert_status(200);
    app.advance(Duration::hours(3));
    app.set_locked(&env, false).await.assert_status(200);
    app.session(&env, &token)
        .await
        .assert_problem(401, "token_expired");
}

#[tokio::test]
async fn only_the_owner_locks_and_unlocks() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    for role in ["viewer", "developer", "admin"] {
        let (_, token) = app.create_token(role, None).await;
        for action in ["lock", "unlock"] {
            app.api_as(
                &token,
                Method::POST,
                &format!("/environments/{env}/{action}"),
                None,
            )
            .await
            .assert_problem(403, "forbidden");
        }
    }
    // An owner token limited to the other environment cannot either.
    let (_, live_owner) = app.create_token("owner", Some(&app.live)).await;
    app.api_as(
        &live_owner,
        Method::POST,
        &format!("/environments/{env}/lock"),
        None,
    )
    .await
    .assert_problem(403, "forbidden");
    let info = app
        .api(Method::GET, &format!("/environments/{env}"), None)
        .await;
    assert_eq!(info.assert_status(200)["locked"], false);
    assert!(events_of(&app, &env, "environment.locked").await.is_empty());
}

#[tokio::test]
async fn an_allowed_origin_reads_the_423_and_a_foreign_one_still_gets_403() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    app.add_origin(&env, "https://app.example.com")
        .await
        .assert_status(201);
    let (token, _) = app.sign_in(&env, "ada@example.com").await;
    app.set_locked(&env, true).await.assert_status(200);
    let path = format!("/sdk/v1/{env}/session");
    let reply = app.preflight(&path, "https://app.example.com", "GET").await;
    assert_eq!(reply.status, 204);
    let reply = app
        .browser_request(
            Method::GET,
            &path,
            "https://app.example.com",
            Some(&token),
            None,
        )
        .await;
    reply.assert_problem(423, "environment_locked");
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    app.browser_request(
        Method::GET,
        &path,
        "https://evil.example",
        Some(&token),
        None,
    )
    .await
    .assert_problem(403, "origin_not_allowed");
}

#[tokio::test]
async fn an_encoded_environment_id_does_not_slip_past_the_lock() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    app.set_locked(&env, true).await.assert_status(200);
    let encoded = format!("%65{}", &env[1..]);
    for path in [
        format!("/sdk/v1/{encoded}/.well-known/jwks.json"),
        format!("/sdk/v1/{encoded}/.well-known/openid-configuration"),
    ] {
        app.get(&path, None).await.assert_problem(404, "not_found");
    }
    app.get(&format!("/sdk/v1/{env}/.well-known/jwks.json"), None)
        .await
        .assert_problem(423, "environment_locked");
}
