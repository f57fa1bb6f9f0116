//! Verified credentials (docs/sign-in.md): `GET /credentials` lists the
//! caller's own, a sign-in marks the one it used, and the management API
//! shows each user's.

use reqwest::Method;
use serde_json::Value;

use crate::harness::spawn_app;

fn credentials_path(env: &str) -> String {
    format!("/sdk/v1/{env}/credentials")
}

#[tokio::test]
async fn a_user_lists_their_own_credentials_and_a_sign_in_marks_the_one_it_used() {
    let app = spawn_app().await;
    let (token, signed_in) = app.sign_in(&app.sandbox, "Ada@Example.com").await;
    let user_id = signed_in["user"]["id"]
        .as_str()
        .expect("user id")
        .to_string();
    let first = app
        .get(&credentials_path(&app.sandbox), Some(&token))
        .await
        .assert_status(200)["data"]
        .clone();
    let [credential] = first.as_array().expect("a list").as_slice() else {
        panic!("one credential: {first}")
    };
    assert!(
        credential["id"].as_str().unwrap().starts_with("vcr_"),
        "{credential}"
    );
    assert_eq!(credential["kind"], "email");
    assert_eq!(credential["value"], "ada@example.com", "normalized");
    assert_eq!(credential["verified_at"], credential["last_used_at"]);

    app.clock.advance(time::Duration::minutes(5));
    let (token, again) = app.sign_in(&app.sandbox, "ada@example.com").await;
    assert_eq!(again["user"]["id"], user_id.as_str());
    let later = app
        .get(&credentials_path(&app.sandbox), Some(&token))
        .await
        .assert_status(200)["data"]
        .clone();
    assert_eq!(later.as_array().unwrap().len(), 1);
    assert_eq!(later[0]["id"], credential["id"]);
    assert_eq!(later[0]["verified_at"], credential["verified_at"]);
    assert_ne!(later[0]["last_used_at"], credential["last_used_at"]);

    // Another user sees only their own.
    let (bob, _) = app.sign_in(&app.sandbox, "bob@example.com").await;
    let theirs = app
        .get(&credentials_path(&app.sandbox), Some(&bob))
        .await
        .assert_status(200)["data"]
        .clone();
    assert_eq!(theirs.as_array().unwrap().len(), 1);
    assert_eq!(theirs[0]["value"], "bob@example.com");

    // No session, or one of another environment: refused.
    app.get(&credentials_path(&app.sandbox), None)
        .await
        .assert_problem(401, "missing_credentials");
    let other = app.get(&credentials_path(&app.live), Some(&token)).await;
    assert_eq!(other.status.as_u16(), 401, "{:?}", other.body);
}

#[tokio::test]
async fn the_management_api_shows_each_users_credentials() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for name in ["ada", "bob", "cy"] {
        let (_, body) = app
            .sign_in(&app.sandbox, &format!("{name}@example.com"))
            .await;
        ids.push(body["user"]["id"].as_str().unwrap().to_string());
    }
    let base = format!("/environments/{}/users", app.sandbox);
    let page = app
        .api(Method::GET, &format!("{base}?limit=2"), None)
        .await
        .assert_status(200)
        .clone();
    for user in page["data"].as_array().unwrap() {
        let credentials = user["verified_credentials"].as_array().unwrap();
        assert_eq!(credentials.len(), 1, "{user}");
        assert_eq!(credentials[0]["kind"], "email");
        assert_eq!(credentials[0]["value"], user["email"]);
        assert!(credentials[0]["id"].as_str().unwrap().starts_with("vcr_"));
    }

    let one: Value = app
        .api(Method::GET, &format!("{base}/{}", ids[1]), None)
        .await
        .assert_status(200)
        .clone();
    assert_eq!(one["email"], "bob@example.com");
    let credentials = one["verified_credentials"].as_array().unwrap();
    assert_eq!(credentials.len(), 1);
    assert_eq!(credentials[0]["value"], "bob@example.com");
    assert!(credentials[0]["verified_at"].is_string());
}
