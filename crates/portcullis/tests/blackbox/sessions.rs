//! The session check, the caller's own sessions, and revocation in three
//! scopes (issue points 6, 7, 8).

use reqwest::Method;
use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn the_session_check_answers_with_session_and_user() {
    let app = spawn_app().await;
    let (token, result) = app.sign_in(&app.sandbox, "ada@example.com").await;
    let r = app.session(&app.sandbox, &token).await;
    let body = r.assert_status(200);
    assert_eq!(body["session"]["id"], result["session"]["id"]);
    assert_eq!(body["user"]["id"], result["user"]["id"]);
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert!(body["session"]["expires_at"].is_string());
}

#[tokio::test]
async fn no_token_is_missing_credentials() {
    let app = spawn_app().await;
    app.get(&format!("/sdk/v1/{}/session", app.sandbox), None)
        .await
        .assert_problem(401, "missing_credentials");
}

#[tokio::test]
async fn a_token_expires_with_the_clock() {
    let app = spawn_app().await;
    let (token, _) = app.sign_in(&app.sandbox, "ada@example.com").await;
    app.advance(time::Duration::seconds(7199));
    app.session(&app.sandbox, &token).await.assert_status(200);
    app.advance(time::Duration::seconds(1));
    app.session(&app.sandbox, &token)
        .await
        .assert_problem(401, "token_expired");
}

#[tokio::test]
async fn logout_revokes_only_the_callers_session() {
    let app = spawn_app().await;
    let (laptop, _) = app.sign_in(&app.sandbox, "ada@example.com").await;
    let (phone, _) = app.sign_in(&app.sandbox, "ada@example.com").await;
    let r = app
        .post(
            &format!("/sdk/v1/{}/logout", app.sandbox),
            Some(&laptop),
            json!({}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204);
    app.session(&app.sandbox, &laptop)
        .await
        .assert_problem(401, "session_revoked");
    app.session(&app.sandbox, &phone).await.assert_status(200);
    // Logging out again with the revoked token is refused, not a second revocation.
    app.post(
        &format!("/sdk/v1/{}/logout", app.sandbox),
        Some(&laptop),
        json!({}),
    )
    .await
    .assert_problem(401, "session_revoked");
}

#[tokio::test]
async fn users_list_and_revoke_their_own_sessions_only() {
    let app = spawn_app().await;
    let (laptop, first) = app.sign_in(&app.sandbox, "ada@example.com").await;
    let (phone, second) = app.sign_in(&app.sandbox, "ada@example.com").await;
    let (_, mallory) = app.sign_in(&app.sandbox, "mallory@example.com").await;

    let list = app
        .get(&format!("/sdk/v1/{}/sessions", app.sandbox), Some(&laptop))
        .await;
    let ids: Vec<_> = list.assert_status(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].clone())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&first["session"]["id"]) && ids.contains(&second["session"]["id"]));

    // Another user's session is not found for Ada, and stays alive.
    let other = mallory["session"]["id"].as_str().unwrap();
    let r = app
        .request(
            Method::DELETE,
            &format!("/sdk/v1/{}/sessions/{other}", app.sandbox),
            Some(&laptop),
            None,
        )
        .await;
    r.assert_problem(404, "not_found");

    let phone_id = second["session"]["id"].as_str().unwrap();
    let r = app
        .request(
            Method::DELETE,
            &format!("/sdk/v1/{}/sessions/{phone_id}", app.sandbox),
            Some(&laptop),
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 204);
    app.session(&app.sandbox, &phone)
        .await
        .assert_problem(401, "session_revoked");
    app.session(&app.sandbox, &laptop).await.assert_status(200);
    let list = app
        .get(&format!("/sdk/v1/{}/sessions", app.sandbox), Some(&laptop))
        .await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_admin_revokes_one_session_and_it_stays_revoked() {
    let app = spawn_app().await;
    let (token, result) = app.sign_in(&app.sandbox, "ada@example.com").await;
    let sid = result["session"]["id"].as_str().unwrap();
    let path = format!("/environments/{}/sessions/{sid}/revoke", app.sandbox);
    let r = app.api(Method::POST, &path, None).await;
    let body = r.assert_status(200);
    assert_eq!(body["id"], sid);
    assert_eq!(body["revoked_by"]["kind"], "api_token");
    let revoked_at = body["revoked_at"].clone();
    assert!(revoked_at.is_string());
    app.session(&app.sandbox, &token)
        .await
        .assert_problem(401, "session_revoked");

    // Final: revoking again changes nothing.
    app.advance(time::Duration::seconds(30));
    let again = app.api(Method::POST, &path, None).await;
    assert_eq!(again.assert_status(200)["revoked_at"], revoked_at);

    let unknown = app
        .api(
            Method::POST,
            &format!("/environments/{}/sessions/ses_nope/revoke", app.sandbox),
            None,
        )
        .await;
    unknown.assert_problem(404, "not_found");
}

#[tokio::test]
async fn revoking_a_user_revokes_all_their_sessions_and_only_theirs() {
    let app = spawn_app().await;
    let (a1, first) = app.sign_in(&app.sandbox, "ada@example.com").await;
    let (a2, _) = app.sign_in(&app.sandbox, "ada@example.com").await;
    let (b, _) = app.sign_in(&app.sandbox, "bob@example.com").await;
    // Checked once first, so the revocation must beat the verified-token cache.
    for t in [&a1, &a2, &b] {
        app.session(&app.sandbox, t).await.assert_status(200);
    }
    let user = first["user"]["id"].as_str().unwrap();
    let r = app.revoke_user(&app.sandbox, user).await;
    assert_eq!(r.assert_status(200)["revoked_count"], 2);
    app.session(&app.sandbox, &a1)
        .await
        .assert_problem(401, "session_revoked");
    app.session(&app.sandbox, &a2)
        .await
        .assert_problem(401, "session_revoked");
    app.session(&app.sandbox, &b).await.assert_status(200);

    // A sign-in in the same second as the revocation is a new, live session.
    let (a3, _) = app.sign_in(&app.sandbox, "ada@example.com").await;
    app.session(&app.sandbox, &a3).await.assert_status(200);
    app.session(&app.sandbox, &a1)
        .await
        .assert_problem(401, "session_revoked");

    // Revoking again counts only what was still alive.
    let r = app.revoke_user(&app.sandbox, user).await;
    assert_eq!(r.assert_status(200)["revoked_count"], 1);

    let sessions = app
        .api(
            Method::GET,
            &format!(
                "/environments/{}/users/{user}/sessions?revoked=true",
                app.sandbox
            ),
            None,
        )
        .await;
    let data = sessions.assert_status(200)["data"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(data.len(), 3);
    assert!(data.iter().all(|s| s["revoked_at"].is_string()));
    let live = app
        .api(
            Method::GET,
            &format!(
                "/environments/{}/users/{user}/sessions?revoked=false",
                app.sandbox
            ),
            None,
        )
        .await;
    assert_eq!(live.assert_status(200)["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn revoking_the_environment_revokes_every_session_in_it_and_no_other() {
    let app = spawn_app().await;
    let mut tokens = Vec::new();
    for i in 0..5 {
        tokens.push(
            app.sign_in(&app.sandbox, &format!("user{i}@example.com"))
                .await
                .0,
        );
    }
    let (live_token, _) = app.sign_in(&app.live, "user0@example.com").await;
    for t in &tokens {
        app.session(&app.sandbox, t).await.assert_status(200);
    }
    let r = app.revoke_environment(&app.sandbox).await;
    assert_eq!(r.assert_status(200)["revoked_count"], 5);
    for t in &tokens {
        app.session(&app.sandbox, t)
            .await
            .assert_problem(401, "session_revoked");
    }
    app.session(&app.live, &live_token).await.assert_status(200);

    // New sign-ins, even in the same second, are alive; old ones stay dead.
    let (fresh, _) = app.sign_in(&app.sandbox, "user0@example.com").await;
    app.session(&app.sandbox, &fresh).await.assert_status(200);
    app.advance(time::Duration::seconds(5));
    app.session(&app.sandbox, &tokens[0])
        .await
        .assert_problem(401, "session_revoked");
    let r = app.revoke_environment(&app.sandbox).await;
    assert_eq!(r.assert_status(200)["revoked_count"], 1);
}

#[tokio::test]
async fn expired_sessions_are_not_counted_as_revoked() {
    let app = spawn_app().await;
    app.sign_in(&app.sandbox, "old@example.com").await;
    app.advance(time::Duration::hours(3));
    app.sign_in(&app.sandbox, "new@example.com").await;
    let r = app.revoke_environment(&app.sandbox).await;
    assert_eq!(r.assert_status(200)["revoked_count"], 1);
}

#[tokio::test]
async fn revocations_survive_a_restart() {
    let app = spawn_app().await;
    let (one, r1) = app.sign_in(&app.sandbox, "one@example.com").await;
    let (user_wide, r2) = app.sign_in(&app.sandbox, "two@example.com").await;
    let (env_wide, _) = app.sign_in(&app.live, "three@example.com").await;
    let (alive, _) = app.sign_in(&app.sandbox, "four@example.com").await;
    let sid = r1["session"]["id"].as_str().unwrap();
    let uid = r2["user"]["id"].as_str().unwrap();
    app.revoke_session(&app.sandbox, sid)
        .await
        .assert_status(200);
    app.revoke_user(&app.sandbox, uid).await.assert_status(200);
    app.revoke_environment(&app.live).await.assert_status(200);
    let again = app.restart().await;
    again
        .session(&again.sandbox, &one)
        .await
        .assert_problem(401, "session_revoked");
    again
        .session(&again.sandbox, &user_wide)
        .await
        .assert_problem(401, "session_revoked");
    again
        .session(&again.live, &env_wide)
        .await
        .assert_problem(401, "session_revoked");
    again
        .session(&again.sandbox, &alive)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn last_activity_is_recorded_without_a_write_per_request() {
    let app = spawn_app().await;
    let (token, result) = app.sign_in(&app.sandbox, "ada@example.com").await;
    let uid = result["user"]["id"].as_str().unwrap().to_string();
    assert!(result["session"]["last_active_at"].is_null());
    app.advance(time::Duration::minutes(5));
    for _ in 0..3 {
        app.session(&app.sandbox, &token).await.assert_status(200);
    }
    let expected = app.clock_rfc3339();
    let list = app
        .api(
            Method::GET,
            &format!("/environments/{}/users/{uid}/sessions", app.sandbox),
            None,
        )
        .await;
    assert_eq!(
        list.assert_status(200)["data"][0]["last_active_at"],
        expected.as_str()
    );

    // After a restart (which flushes), the stored value is the same.
    let again = app.restart().await;
    let list = again
        .api(
            Method::GET,
            &format!("/environments/{}/users/{uid}/sessions", again.sandbox),
            None,
        )
        .await;
    assert_eq!(
        list.assert_status(200)["data"][0]["last_active_at"],
        expected.as_str()
    );
}

#[tokio::test]
async fn an_environment_revocation_covers_a_sign_in_made_after_a_user_revocation() {
    let app = spawn_app().await;
    let (_, first) = app.sign_in(&app.sandbox, "ada@example.com").await;
    let user = first["user"]["id"].as_str().unwrap();
    app.revoke_user(&app.sandbox, user).await.assert_status(200);
    app.revoke_user(&app.sandbox, user).await.assert_status(200);
    let (after_user, _) = app.sign_in(&app.sandbox, "ada@example.com").await;
    app.session(&app.sandbox, &after_user)
        .await
        .assert_status(200);
    let r = app.revoke_environment(&app.sandbox).await;
    assert_eq!(r.assert_status(200)["revoked_count"], 1);
    app.session(&app.sandbox, &after_user)
        .await
        .assert_problem(401, "session_revoked");
}

#[tokio::test]
async fn tokens_issued_after_revocations_carry_the_true_issue_time() {
    let app = spawn_app().await;
    let (_, first) = app.sign_in(&app.sandbox, "ada@example.com").await;
    let user = first["user"]["id"].as_str().unwrap();
    for _ in 0..3 {
        app.revoke_user(&app.sandbox, user).await.assert_status(200);
        app.revoke_environment(&app.sandbox)
            .await
            .assert_status(200);
    }
    let (token, _) = app.sign_in(&app.sandbox, "ada@example.com").await;
    let claims = claims_of(&token);
    let now = {
        use portcullis::clock::Clock;
        app.clock.now().unix_timestamp()
    };
    // A verifier that allows no leeway for a future iat accepts it.
    assert_eq!(claims["iat"], now);
    assert_eq!(claims["nbf"], now);
    app.session(&app.sandbox, &token).await.assert_status(200);
}

#[tokio::test]
async fn concurrent_verifications_of_one_code_make_exactly_one_session() {
    let app = spawn_app().await;
    let (vid, code) = app
        .start_and_read_code(&app.sandbox, "race@example.com")
        .await;
    let url = format!("{}/sdk/v1/{}/auth/email/verify", app.base, app.sandbox);
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let request = app
            .client
            .post(&url)
            .json(&json!({"verification_id": vid, "code": code}));
        attempts.spawn(async move { request.send().await.expect("sent").status().as_u16() });
    }
    let statuses = attempts.join_all().await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );
}
