//! Issue 7, point 2 and its bad input: API tokens, shown once, stored as a
//! hash, rotated with a grace period, never above their creator's role.

use reqwest::Method;
use serde_json::{Value, json};
use time::Duration;

use crate::harness::*;

async fn env_info(app: &TestApp, token: &str, env: &str) -> Reply {
    app.api_as(token, Method::GET, &format!("/environments/{env}"), None)
        .await
}

fn listed(list: &Value, id: &str) -> Option<Value> {
    list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .cloned()
}

#[tokio::test]
async fn a_token_is_shown_once_stored_as_a_hash_and_deleted_for_good() {
    let app = spawn_app().await;
    let reply = app
        .api(
            Method::POST,
            "/tokens",
            Some(json!({ "note": "deploys", "role": "developer" })),
        )
        .await;
    let created = reply.assert_status(201).clone();
    let (id, secret) = (
        created["id"].as_str().unwrap().to_string(),
        created["secret"].as_str().unwrap().to_string(),
    );
    assert!(secret.starts_with("pcl_") && secret.len() > 40, "{secret}");
    assert!(id.starts_with("tok_"));
    assert_eq!(created["role"], "developer");
    assert_eq!(created["environment_id"], Value::Null);

    // Listed without the secret; last_used_at set once it is used.
    let list = app.api(Method::GET, "/tokens", None).await;
    let entry = listed(list.assert_status(200), &id).expect("listed");
    assert!(entry.get("secret").is_none());
    assert!(!list.text.contains(&secret));
    assert_eq!(entry["last_used_at"], Value::Null);
    app.advance(Duration::seconds(5));
    env_info(&app, &secret, &app.sandbox)
        .await
        .assert_status(200);
    let list = app.api(Method::GET, "/tokens", None).await;
    let entry = listed(list.assert_status(200), &id).unwrap();
    assert_eq!(entry["last_used_at"], app.clock_rfc3339());

    // The database holds the token in no readable form.
    let stored = app.storage.stored_bytes();
    assert!(
        !stored.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the secret is stored as it is"
    );

    app.api(Method::DELETE, &format!("/tokens/{id}"), None)
        .await
        .assert_status(204);
    env_info(&app, &secret, &app.sandbox)
        .await
        .assert_problem(401, "invalid_api_token");
    let list = app.api(Method::GET, "/tokens", None).await;
    assert!(listed(list.assert_status(200), &id).is_none());
    app.api(Method::DELETE, &format!("/tokens/{id}"), None)
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn a_rotated_secret_works_for_its_grace_period_then_stops() {
    let app = spawn_app().await;
    let (id, old) = app.create_token("admin", None).await;
    let rotate = |grace: i64| {
        let (app, id) = (&app, &id);
        async move {
            app.api(
                Method::POST,
                &format!("/tokens/{id}/rotate"),
                Some(json!({ "grace_seconds": grace })),
            )
            .await
        }
    };
    let reply = rotate(60).await;
    let rotated = reply.assert_status(200).clone();
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(rotated["id"], id.as_str());
    for secret in [&old, &new] {
        env_info(&app, secret, &app.sandbox)
            .await
            .assert_status(200);
    }
    app.advance(Duration::seconds(59));
    env_info(&app, &old, &app.sandbox).await.assert_status(200);
    app.advance(Duration::seconds(1));
    env_info(&app, &old, &app.sandbox)
        .await
        .assert_problem(401, "invalid_api_token");
    env_info(&app, &new, &app.sandbox).await.assert_status(200);

    // Rotating again with no grace: the secret before stops at once, and
    // the one before that never comes back.
    let newer = rotate(0).await.assert_status(200)["secret"]
        .as_str()
        .unwrap()
        .to_string();
    for dead in [&old, &new] {
        env_info(&app, dead, &app.sandbox)
            .await
            .assert_problem(401, "invalid_api_token");
    }
    env_info(&app, &newer, &app.sandbox)
        .await
        .assert_status(200);

    for bad in [
        json!({ "grace_seconds": -1 }),
        json!({ "grace_seconds": 604_801 }),
    ] {
        app.api(Method::POST, &format!("/tokens/{id}/rotate"), Some(bad))
            .await
            .assert_problem(400, "validation_failed");
    }
    env_info(&app, &newer, &app.sandbox)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn no_token_creates_or_manages_a_token_above_its_own_role() {
    let app = spawn_app().await;
    let (_, admin) = app.create_token("admin", None).await;
    let (owner_id, _) = app.create_token("owner", None).await;
    let (_, developer) = app.create_token("developer", None).await;
    let create = |token: &str, role: &str| {
        let (app, token, role) = (&app, token.to_string(), role.to_string());
        async move {
            app.api_as(
                &token,
                Method::POST,
                "/tokens",
                Some(json!({ "note": "x", "role": role })),
            )
            .await
        }
    };
    create(&admin, "owner")
        .await
        .assert_problem(403, "forbidden");
    for role in ["admin", "developer", "viewer"] {
        create(&admin, role).await.assert_status(201);
    }
    create(&developer, "viewer")
        .await
        .assert_problem(403, "forbidden");
    // An admin can neither rotate nor delete an owner's token.
    app.api_as(
        &admin,
        Method::POST,
        &format!("/tokens/{owner_id}/rotate"),
        Some(json!({})),
    )
    .await
    .assert_problem(403, "forbidden");
    app.api_as(&admin, Method::DELETE, &format!("/tokens/{owner_id}"), None)
        .await
        .assert_problem(403, "forbidden");
    // Nothing changed: the owner's token is still listed.
    let list = app.api(Method::GET, "/tokens", None).await;
    assert!(listed(list.assert_status(200), &owner_id).is_some());

    for (body, field) in [
        (json!({ "note": "", "role": "viewer" }), "note"),
        (json!({ "note": "x", "role": "root" }), "role"),
        (
            json!({ "note": "x", "role": "viewer", "environment_id": "env_nope" }),
            "environment_id",
        ),
        (
            json!({ "note": "x", "role": "viewer", "expires_at": "2001-01-01T00:00:00Z" }),
            "expires_at",
        ),
        (
            json!({ "note": "x", "role": "viewer", "expires_at": "tomorrow" }),
            "expires_at",
        ),
    ] {
        let reply = app.api(Method::POST, "/tokens", Some(body)).await;
        reply.assert_problem(400, "validation_failed");
        assert_eq!(reply.body["errors"][0]["field"], field, "{}", reply.text);
    }
}

#[tokio::test]
async fn a_token_limited_to_sandbox_stays_in_sandbox() {
    let app = spawn_app().await;
    let (id, sandbox_only) = app.create_token("admin", Some(&app.sandbox)).await;
    env_info(&app, &sandbox_only, &app.sandbox)
        .await
        .assert_status(200);
    env_info(&app, &sandbox_only, &app.live)
        .await
        .assert_problem(403, "forbidden");
    app.api_as(&sandbox_only, Method::GET, "/members", None)
        .await
        .assert_problem(403, "forbidden");

    // It creates only sandbox tokens; without `environment_id`, the new
    // token inherits the limit.
    let reply = app
        .api_as(
            &sandbox_only,
            Method::POST,
            "/tokens",
            Some(json!({ "note": "x", "role": "viewer", "environment_id": app.live })),
        )
        .await;
    reply.assert_problem(403, "forbidden");
    let reply = app
        .api_as(
            &sandbox_only,
            Method::POST,
            "/tokens",
            Some(json!({ "note": "x", "role": "viewer" })),
        )
        .await;
    assert_eq!(
        reply.assert_status(201)["environment_id"],
        app.sandbox.as_str()
    );

    // It sees only sandbox tokens (not the owner's).
    let list = app
        .api_as(&sandbox_only, Method::GET, "/tokens", None)
        .await;
    let tokens = list.assert_status(200)["tokens"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(tokens.len(), 2);
    assert!(
        tokens
            .iter()
            .all(|t| t["environment_id"] == app.sandbox.as_str())
    );
    assert!(tokens.iter().any(|t| t["id"] == id.as_str()));

    // Its creation was audited in sandbox only.
    let audit = |env: String| {
        let (app, id) = (&app, &id);
        async move {
            app.api(
                Method::GET,
                &format!("/environments/{env}/events?type=api_token.created"),
                None,
            )
            .await
            .assert_status(200)["events"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["subject"] == id.as_str())
                .count()
        }
    };
    assert_eq!(audit(app.sandbox.clone()).await, 1);
    assert_eq!(audit(app.live.clone()).await, 0);
}

#[tokio::test]
async fn expired_malformed_and_foreign_tokens_are_refused_alike() {
    let app = spawn_app().await;
    let (_, secret) = app
        .create_expiring_token("viewer", &app.rfc3339_in(Duration::hours(1)))
        .await;
    env_info(&app, &secret, &app.sandbox)
        .await
        .assert_status(200);
    app.advance(Duration::hours(1));
    env_info(&app, &secret, &app.sandbox)
        .await
        .assert_problem(401, "invalid_api_token");

    // Another installation's (another organization's) token is unknown here.
    let other = spawn_app().await;
    env_info(&app, &other.api_token, &app.sandbox)
        .await
        .assert_problem(401, "invalid_api_token");
    // And its environments do not exist for this one's tokens.
    env_info(&app, &app.api_token, &other.sandbox)
        .await
        .assert_problem(404, "not_found");
    for malformed in ["pcl_", "pcl_not-a-token", "ghp_1234", "x"] {
        env_info(&app, malformed, &app.sandbox)
            .await
            .assert_problem(401, "invalid_api_token");
    }
    // Each refusal left the owner's token working.
    env_info(&app, &app.api_token, &app.sandbox)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn token_changes_are_audited_in_every_environment_the_token_reaches() {
    let app = spawn_app().await;
    let (id, secret) = app.create_token("developer", None).await;
    app.api(
        Method::POST,
        &format!("/tokens/{id}/rotate"),
        Some(json!({ "grace_seconds": 10 })),
    )
    .await
    .assert_status(200);
    app.api(Method::DELETE, &format!("/tokens/{id}"), None)
        .await
        .assert_status(204);
    for env in [&app.sandbox, &app.live] {
        let reply = app
            .api(Method::GET, &format!("/environments/{env}/events"), None)
            .await;
        let events: Vec<Value> = reply.assert_status(200)["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["subject"] == id.as_str())
            .cloned()
            .collect();
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "api_token.deleted",
                "api_token.rotated",
                "api_token.created"
            ]
        );
        for e in &events {
            assert_eq!(e["actor"]["kind"], "api_token");
            assert_eq!(e["data"]["role"], "developer");
        }
        assert!(!reply.text.contains(&secret));
    }
}

#[tokio::test]
async fn a_rotated_out_secret_in_its_grace_period_cannot_manage_tokens() {
    let app = spawn_app().await;
    let (id, old) = app.create_token("admin", None).await;
    let reply = app
        .api_as(
            &old,
            Method::POST,
            &format!("/tokens/{id}/rotate"),
            Some(json!({ "grace_seconds": 3600 })),
        )
        .await;
    let new = reply.assert_status(200)["secret"]
        .as_str()
        .unwrap()
        .to_string();
    // The old secret still reads, but it cannot rotate itself back in,
    // mint tokens, or touch members.
    env_info(&app, &old, &app.sandbox).await.assert_status(200);
    for (method, path, body) in [
        (
            Method::POST,
            format!("/tokens/{id}/rotate"),
            Some(json!({})),
        ),
        (
            Method::POST,
            "/tokens".to_string(),
            Some(json!({ "note": "x", "role": "viewer" })),
        ),
        (Method::DELETE, format!("/tokens/{id}"), None),
        (
            Method::POST,
            "/members".to_string(),
            Some(json!({ "email": "x@example.com", "role": "viewer" })),
        ),
    ] {
        app.api_as(&old, method, &path, body)
            .await
            .assert_problem(403, "forbidden");
    }
    env_info(&app, &new, &app.sandbox).await.assert_status(200);
}

#[tokio::test]
async fn an_expiring_token_makes_no_token_that_outlives_it() {
    let app = spawn_app().await;
    let at = |hours: i64| {
        time::OffsetDateTime::from_unix_timestamp(app.clock_now_s() + hours * 3600)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let reply = app
        .api(
            Method::POST,
            "/tokens",
            Some(json!({ "note": "temp admin", "role": "admin", "expires_at": at(2) })),
        )
        .await;
    let temp = reply.assert_status(201)["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let create = |body: Value| app.api_as(&temp, Method::POST, "/tokens", Some(body));
    let reply = create(json!({ "note": "x", "role": "viewer", "expires_at": at(3) })).await;
    reply.assert_problem(400, "validation_failed");
    assert_eq!(reply.body["errors"][0]["field"], "expires_at");
    // Without an expiry, the new token inherits its creator's.
    let reply = create(json!({ "note": "x", "role": "viewer" })).await;
    assert_eq!(reply.assert_status(201)["expires_at"], at(2));
    let reply = create(json!({ "note": "bell\u{7}", "role": "viewer" })).await;
    reply.assert_problem(400, "validation_failed");
    assert_eq!(reply.body["errors"][0]["field"], "note");
}

/// Issue 14, item 3: a rotation yields a secret, so it obeys the rules of
/// creation. A temporary admin credential that rotates a lasting token
/// gets a secret that expires with it, not a lasting one.
#[tokio::test]
async fn an_expiring_token_rotates_no_secret_that_outlives_it() {
    let app = spawn_app().await;
    let in_minutes = |minutes: i64| app.rfc3339_in(Duration::minutes(minutes));
    let temp_expiry = in_minutes(10);
    let (_, temp) = app.create_expiring_token("admin", &temp_expiry).await;
    let (lasting_id, _) = app.create_token("admin", None).await;
    let reply = app
        .api_as(
            &temp,
            Method::POST,
            &format!("/tokens/{lasting_id}/rotate"),
            Some(json!({ "grace_seconds": 0 })),
        )
        .await;
    let rotated = reply.assert_status(200).clone();
    assert_eq!(rotated["expires_at"], temp_expiry, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap().to_string();
    env_info(&app, &new_secret, &app.sandbox)
        .await
        .assert_status(200);
    let list = app.api(Method::GET, "/tokens", None).await;
    let listed = listed(list.assert_status(200), &lasting_id).unwrap();
    assert_eq!(listed["expires_at"], temp_expiry);
    // When the temporary credential ends, so does what it rotated.
    app.advance(Duration::minutes(10));
    env_info(&app, &temp, &app.sandbox)
        .await
        .assert_problem(401, "invalid_api_token");
    env_info(&app, &new_secret, &app.sandbox)
        .await
        .assert_problem(401, "invalid_api_token");
    // An earlier expiry than the caller's own is kept.
    let (soon_id, _) = app.create_expiring_token("viewer", &in_minutes(5)).await;
    let reply = app
        .api(
            Method::POST,
            &format!("/tokens/{soon_id}/rotate"),
            Some(json!({})),
        )
        .await;
    assert_eq!(reply.assert_status(200)["expires_at"], in_minutes(5));
}

/// Issue 14, item 3: a caller rotates only the tokens it could have
/// created: none above its role, none outside its environment.
#[tokio::test]
async fn a_token_rotates_only_tokens_it_could_have_created() {
    let app = spawn_app().await;
    let (admin_id, admin) = app.create_token("admin", None).await;
    let (_, developer) = app.create_token("developer", None).await;
    let (_, sandbox_admin) = app.create_token("admin", Some(&app.sandbox)).await;
    let rotate = |token: &str, id: &str| {
        let (app, token, path) = (&app, token.to_string(), format!("/tokens/{id}/rotate"));
        async move {
            app.api_as(&token, Method::POST, &path, Some(json!({})))
                .await
        }
    };
    rotate(&developer, &admin_id)
        .await
        .assert_problem(403, "forbidden");
    // An organization-wide token does not exist for a limited one.
    rotate(&sandbox_admin, &admin_id)
        .await
        .assert_problem(404, "not_found");
    // The refused rotations changed nothing: the admin's secret still works.
    env_info(&app, &admin, &app.live).await.assert_status(200);
    let (sandbox_dev_id, _) = app.create_token("developer", Some(&app.sandbox)).await;
    rotate(&sandbox_admin, &sandbox_dev_id)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_locked_environment_s_tokens_are_not_minted_rotated_or_removed() {
    let app = spawn_app().await;
    let (id, sandbox_admin) = app.create_token("admin", Some(&app.sandbox)).await;
    app.set_locked(&app.sandbox, true).await.assert_status(200);
    let cases = [
        (
            &sandbox_admin,
            Method::POST,
            "/tokens".to_string(),
            Some(json!({ "note": "x", "role": "viewer" })),
        ),
        (
            &app.api_token,
            Method::POST,
            "/tokens".to_string(),
            Some(json!({ "note": "x", "role": "viewer", "environment_id": app.sandbox })),
        ),
        (
            &app.api_token,
            Method::POST,
            format!("/tokens/{id}/rotate"),
            Some(json!({})),
        ),
    ];
    for (token, method, path, body) in cases {
        app.api_as(token, method, &path, body)
            .await
            .assert_problem(423, "environment_locked");
    }
    // Organization-wide tokens and the other environment's are not locked.
    let (wide, _) = app.create_token("viewer", None).await;
    app.api(
        Method::POST,
        &format!("/tokens/{wide}/rotate"),
        Some(json!({})),
    )
    .await
    .assert_status(200);
    app.create_token("viewer", Some(&app.live)).await;
    // Deleting only takes access away: it stays open.
    app.api(Method::DELETE, &format!("/tokens/{id}"), None)
        .await
        .assert_status(204);
    env_info(&app, &sandbox_admin, &app.sandbox)
        .await
        .assert_problem(401, "invalid_api_token");
}

#[tokio::test]
async fn last_used_at_is_written_at_most_once_a_minute() {
    let app = spawn_app().await;
    let (id, secret) = app.create_token("viewer", None).await;
    let last_used = || async {
        let list = app.api(Method::GET, "/tokens", None).await;
        listed(list.assert_status(200), &id).unwrap()["last_used_at"].clone()
    };
    env_info(&app, &secret, &app.sandbox)
        .await
        .assert_status(200);
    let first = last_used().await;
    assert_eq!(first, app.clock_rfc3339());
    app.advance(Duration::seconds(59));
    env_info(&app, &secret, &app.sandbox)
        .await
        .assert_status(200);
    assert_eq!(last_used().await, first);
    app.advance(Duration::seconds(1));
    env_info(&app, &secret, &app.sandbox)
        .await
        .assert_status(200);
    assert_eq!(last_used().await, app.clock_rfc3339());
}
