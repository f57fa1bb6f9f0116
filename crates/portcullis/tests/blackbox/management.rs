//! The management API with an API token (point 7).

use reqwest::Method;
use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn the_environment_is_described() {
    let app = spawn_app().await;
    let r = app
        .api(Method::GET, &format!("/environments/{}", app.sandbox), None)
        .await;
    let body = r.assert_status(200);
    assert_eq!(body["id"], app.sandbox.as_str());
    assert_eq!(body["kind"], "sandbox");
    assert_eq!(body["locked"], false);
    assert_eq!(body["organization_id"], app.organization_id.as_str());
    let r = app
        .api(Method::GET, &format!("/environments/{}", app.live), None)
        .await;
    assert_eq!(r.assert_status(200)["kind"], "live");
}

#[tokio::test]
async fn api_calls_need_a_valid_api_token() {
    let app = spawn_app().await;
    let path = format!("/api/v1/environments/{}", app.sandbox);
    app.get(&path, None)
        .await
        .assert_problem(401, "missing_credentials");
    app.get(&path, Some("pcl_not_a_real_token"))
        .await
        .assert_problem(401, "invalid_api_token");
    app.get(&path, Some("something-else"))
        .await
        .assert_problem(401, "invalid_api_token");
    // A session JWT is not an API token.
    let (jwt, _) = app.sign_in(&app.sandbox, "ada@example.com").await;
    app.get(&path, Some(&jwt))
        .await
        .assert_problem(401, "invalid_api_token");
    let r = app
        .raw(
            app.client
                .get(format!("{}{path}", app.base))
                .header("authorization", "Basic abc"),
        )
        .await;
    r.assert_problem(401, "missing_credentials");
}

#[tokio::test]
async fn unknown_environments_are_not_found() {
    let app = spawn_app().await;
    for env in ["env_00000000000000000000000000000000", "nope", "env_"] {
        app.api(Method::GET, &format!("/environments/{env}"), None)
            .await
            .assert_problem(404, "not_found");
        app.start_email(env, "ada@example.com")
            .await
            .assert_problem(404, "not_found");
    }
}

#[tokio::test]
async fn security_settings_are_read_and_patched() {
    let app = spawn_app().await;
    let path = format!("/environments/{}/settings/security", app.sandbox);
    let r = app.api(Method::GET, &path, None).await;
    let body = r.assert_status(200);
    assert_eq!(body["jwt_expiration_seconds"], 7200);
    assert_eq!(body["token_algorithm"], "RS256");
    assert_eq!(body["mfa"]["enrollment"], "optional");

    let r = app
        .api(
            Method::PATCH,
            &path,
            Some(json!({"jwt_expiration_seconds": 86400})),
        )
        .await;
    assert_eq!(r.assert_status(200)["jwt_expiration_seconds"], 86400);
    assert_eq!(r.body["token_algorithm"], "RS256");
    let r = app.api(Method::GET, &path, None).await;
    assert_eq!(r.body["jwt_expiration_seconds"], 86400);
    // The other environment is untouched.
    let r = app
        .api(
            Method::GET,
            &format!("/environments/{}/settings/security", app.live),
            None,
        )
        .await;
    assert_eq!(r.body["jwt_expiration_seconds"], 7200);
}

#[tokio::test]
async fn invalid_settings_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let path = format!("/environments/{}/settings/security", app.sandbox);
    let cases = [
        (
            json!({"jwt_expiration_seconds": 299}),
            "jwt_expiration_seconds",
        ),
        (
            json!({"jwt_expiration_seconds": 2_592_001}),
            "jwt_expiration_seconds",
        ),
        (
            json!({"jwt_expiration_seconds": "7200"}),
            "jwt_expiration_seconds",
        ),
        (
            json!({"jwt_expiration_seconds": 1.5}),
            "jwt_expiration_seconds",
        ),
        (json!({"token_algorithm": "none"}), "token_algorithm"),
        (json!({"token_algorithm": "HS256"}), "token_algorithm"),
        (
            json!({"mfa": {"enrollment": "sometimes"}}),
            "mfa.enrollment",
        ),
    ];
    for (patch, field) in cases {
        let r = app.api(Method::PATCH, &path, Some(patch.clone())).await;
        r.assert_problem(400, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field, "for {patch}");
    }
    let r = app
        .api(Method::PATCH, &path, Some(json!({"unknown_setting": true})))
        .await;
    r.assert_problem(400, "validation_failed");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("unknown_setting")
    );
    let r = app.api(Method::PATCH, &path, Some(json!([1, 2]))).await;
    r.assert_problem(400, "validation_failed");

    let r = app.api(Method::GET, &path, None).await;
    assert_eq!(r.body["jwt_expiration_seconds"], 7200);
    assert_eq!(r.body["token_algorithm"], "RS256");
    // Boundaries are accepted.
    for ok in [300, 2_592_000] {
        app.api(
            Method::PATCH,
            &path,
            Some(json!({"jwt_expiration_seconds": ok})),
        )
        .await
        .assert_status(200);
    }
}

#[tokio::test]
async fn users_are_listed_in_pages_and_filtered_by_email() {
    let app = spawn_app().await;
    for i in 0..5 {
        app.sign_in(&app.sandbox, &format!("user{i}@example.com"))
            .await;
    }
    app.sign_in(&app.live, "other@example.com").await;
    let base = format!("/environments/{}/users", app.sandbox);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{base}?limit=2&cursor={c}"),
            None => format!("{base}?limit=2"),
        };
        let page = app.api(Method::GET, &path, None).await;
        let body = page.assert_status(200).clone();
        let data = body["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        seen.extend(
            data.iter()
                .map(|u| u["email"].as_str().unwrap().to_string()),
        );
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        (0..5)
            .map(|i| format!("user{i}@example.com"))
            .collect::<Vec<_>>()
    );

    let r = app
        .api(
            Method::GET,
            &format!("{base}?email=USER3@example.com"),
            None,
        )
        .await;
    let data = r.assert_status(200)["data"].as_array().unwrap().clone();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["email"], "user3@example.com");

    let uid = data[0]["id"].as_str().unwrap();
    let r = app.api(Method::GET, &format!("{base}/{uid}"), None).await;
    assert_eq!(r.assert_status(200)["email"], "user3@example.com");
    // The same user id does not exist in the other environment.
    app.api(
        Method::GET,
        &format!("/environments/{}/users/{uid}", app.live),
        None,
    )
    .await
    .assert_problem(404, "not_found");

    for bad in [
        "limit=0",
        "limit=201",
        "limit=x",
        "email=not-an-email",
        "colour=blue",
    ] {
        app.api(Method::GET, &format!("{base}?{bad}"), None)
            .await
            .assert_problem(400, "validation_failed");
    }
}

#[tokio::test]
async fn sessions_of_an_unknown_user_are_not_found() {
    let app = spawn_app().await;
    app.api(
        Method::GET,
        &format!("/environments/{}/users/usr_nope/sessions", app.sandbox),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    app.api(
        Method::POST,
        &format!(
            "/environments/{}/users/usr_nope/sessions/revoke",
            app.sandbox
        ),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    app.api(
        Method::GET,
        &format!(
            "/environments/{}/users/usr_nope/sessions?revoked=maybe",
            app.sandbox
        ),
        None,
    )
    .await
    .assert_problem(400, "validation_failed");
}
