//! The security advisor (issue 16): `GET …/security/advisor` answers the
//! findings of the environment's settings, origins, webhooks, API tokens
//! and members, and they follow the changes that fix or cause them.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;
use crate::mfa::patch_settings;

fn advisor_path(env: &str) -> String {
    format!("/environments/{env}/security/advisor")
}

/// The findings of `env`, read with the owner token.
async fn findings(app: &TestApp, env: &str) -> Vec<Value> {
    let reply = app.api(Method::GET, &advisor_path(env), None).await;
    reply
        .assert_status(200)
        .as_array()
        .expect("an array")
        .clone()
}

fn rules(findings: &[Value]) -> Vec<&str> {
    findings
        .iter()
        .map(|f| f["rule"].as_str().expect("rule"))
        .collect()
}

#[tokio::test]
async fn a_fresh_environment_gets_the_default_findings_most_severe_first() {
    let app = spawn_app().await;
    let sandbox = findings(&app, &app.sandbox).await;
    assert_eq!(
        rules(&sandbox),
        [
            "member_without_totp",
            "mfa_not_enforced",
            "no_revocation_webhook",
            "no_notification_recipients",
            "token_storage_in_app",
        ]
    );
    let expected = [
        ("high", "members"),
        ("medium", "mfa"),
        ("medium", "webhooks"),
        ("low", "notifications"),
        ("low", "token-storage"),
    ];
    for (finding, (severity, setting)) in sandbox.iter().zip(expected) {
        assert_eq!(finding["severity"], severity, "{finding}");
        assert_eq!(finding["setting"], setting, "{finding}");
        let message = finding["message"].as_str().expect("message");
        assert!(message.ends_with('.') && message.len() > 20, "{finding}");
        assert_eq!(finding.as_object().unwrap().len(), 4, "{finding}");
    }
    // The owner is named.
    assert!(
        sandbox[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("owner@portcullis.invalid (owner)"),
        "{}",
        sandbox[0]
    );
    // A live environment with an empty list allows every origin.
    let live = findings(&app, &app.live).await;
    assert_eq!(live[0]["rule"], "live_allows_every_origin");
    assert_eq!(live[0]["severity"], "critical");
    assert_eq!(live[0]["setting"], "origins");
    assert_eq!(&live[1..], &sandbox[..]);
}

#[tokio::test]
async fn findings_appear_and_disappear_with_the_settings() {
    let app = spawn_app().await;
    let env = app.live.clone();

    // A wildcard origin: the list is no longer empty, but the wildcard is
    // advised against on live.
    app.add_origin(&env, "https://my-app-*.vercel.app")
        .await
        .assert_status(201);
    let found = findings(&app, &env).await;
    assert!(!rules(&found).contains(&"live_allows_every_origin"));
    let wildcard = found
        .iter()
        .find(|f| f["rule"] == "wildcard_origin")
        .expect("the wildcard is a finding");
    assert_eq!(wildcard["severity"], "high");
    assert_eq!(wildcard["setting"], "origins");
    assert!(
        wildcard["message"]
            .as_str()
            .unwrap()
            .contains("https://my-app-*.vercel.app"),
        "{wildcard}"
    );

    // Long tokens, MFA off, e-mails off for the lock: more findings.
    patch_settings(
        &app,
        &env,
        json!({ "jwt_expiration_seconds": 172_800,
                "mfa": { "enrollment": "off" },
                "notifications": { "events": { "environment.locked": false } } }),
    )
    .await;
    let found = findings(&app, &env).await;
    for rule in [
        "jwt_lifetime_over_a_day",
        "jwt_lifetime_long_without_mfa",
        "lock_notification_off",
    ] {
        assert!(rules(&found).contains(&rule), "{rule}: {found:?}");
    }
    // MFA off is not "offered but not enforced".
    assert!(!rules(&found).contains(&"mfa_not_enforced"));

    // Fix everything the settings and webhooks can fix.
    patch_settings(
        &app,
        &env,
        json!({ "jwt_expiration_seconds": 3600,
                "token_storage": "cookie",
                "mfa": { "enrollment": "optional", "session_enforcement": true },
                "notifications": { "recipients": ["security@example.com"],
                                   "events": { "environment.locked": true } } }),
    )
    .await;
    app.create_webhook(
        &env,
        "https://hooks.example.com/",
        &["admin.user.session.revoked"],
    )
    .await;
    let found = findings(&app, &env).await;
    assert_eq!(
        rules(&found),
        ["member_without_totp", "wildcard_origin"],
        "{found:?}"
    );
}

#[tokio::test]
async fn old_api_tokens_and_unprotected_admins_are_named() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let (token_id, _) = app.create_token("developer", Some(&env)).await;
    let (elsewhere, _) = app.create_token("developer", Some(&app.live)).await;
    for (email, role) in [
        ("ada@example.com", "admin"),
        ("dev@example.com", "developer"),
    ] {
        let member = json!({ "email": email, "role": role });
        app.api(Method::POST, "/members", Some(member))
            .await
            .assert_status(201);
    }

    let found = findings(&app, &env).await;
    let members = messages(&found, "member_without_totp");
    assert_eq!(members.len(), 2, "{members:?}");
    assert!(
        members
            .iter()
            .any(|m| m.starts_with("ada@example.com (admin)"))
    );
    assert!(messages(&found, "api_token_not_rotated").is_empty());

    app.advance(time::Duration::days(91));
    let found = findings(&app, &env).await;
    let stale = messages(&found, "api_token_not_rotated");
    // The owner token (organization-wide) and the sandbox's, not the live one's.
    assert_eq!(stale.len(), 2, "{stale:?}");
    assert!(stale.iter().any(|m| m.contains(&token_id)), "{stale:?}");
    assert!(!stale.iter().any(|m| m.contains(&elsewhere)), "{stale:?}");
    let finding = found
        .iter()
        .find(|f| f["rule"] == "api_token_not_rotated")
        .unwrap();
    assert_eq!(finding["setting"], "tokens");

    app.api(
        Method::POST,
        &format!("/tokens/{token_id}/rotate"),
        Some(json!({})),
    )
    .await
    .assert_status(200);
    let stale = messages(&findings(&app, &env).await, "api_token_not_rotated");
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert!(!stale[0].contains(&token_id), "{stale:?}");
}

/// The messages of `rule`'s findings.
fn messages(found: &[Value], rule: &str) -> Vec<String> {
    found
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_viewer_may_read_it_even_while_the_environment_is_locked() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let (_, viewer) = app.create_token("viewer", Some(&env)).await;
    let read = |token: String, env: String| {
        let app = &app;
        async move {
            app.api_as(&token, Method::GET, &advisor_path(&env), None)
                .await
        }
    };
    // The same findings, but members counted, not named: a viewer may not
    // list members (nor a token limited to one environment).
    let answer = read(viewer.clone(), env.clone()).await;
    let seen = answer.assert_status(200).as_array().unwrap().clone();
    let owners = findings(&app, &env).await;
    let rules = |list: &[Value]| list.iter().map(|f| f["rule"].clone()).collect::<Vec<_>>();
    assert_eq!(rules(&seen), rules(&owners));
    let named = messages(&owners, "member_without_totp");
    assert!(named[0].contains("owner@"), "{named:?}");
    let counted = messages(&seen, "member_without_totp");
    assert!(
        counted[0].starts_with("1 of the organization's owners and admins"),
        "{counted:?}"
    );
    assert!(
        !serde_json::to_string(&seen).unwrap().contains('@'),
        "{seen:?}"
    );
    read(viewer.clone(), app.live.clone())
        .await
        .assert_problem(403, "forbidden");
    app.request(
        Method::GET,
        &format!("/api/v1{}", advisor_path(&env)),
        None,
        None,
    )
    .await
    .assert_problem(401, "missing_credentials");
    app.api(
        Method::GET,
        &advisor_path("env_0123456789abcdef0123456789abcdef"),
        None,
    )
    .await
    .assert_problem(404, "not_found");

    app.set_locked(&env, true).await.assert_status(200);
    read(viewer, env.clone()).await.assert_status(200);
    app.set_locked(&env, false).await.assert_status(200);

    let doc = app.get("/openapi.json", None).await;
    let op = &doc.assert_status(200)["paths"]["/api/v1/environments/{environment_id}/security/advisor"]
        ["get"];
    assert!(op["responses"]["200"].is_object(), "{op}");
    assert!(op["responses"]["423"].is_null(), "open while locked: {op}");
}
