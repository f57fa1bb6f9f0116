//! Bad input and forged tokens: each gets its documented error, the server
//! keeps serving, and nothing stored changes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

fn signature(token: &str) -> &str {
    token.rsplit('.').next().unwrap()
}

#[tokio::test]
async fn malformed_bodies_are_validation_errors() {
    let app = spawn_app().await;
    let url = format!("{}/sdk/v1/{}/auth/email/start", app.base, app.sandbox);
    let cases: Vec<(&str, &str)> = vec![
        ("{", "application/json"),
        ("{\"email\": 42}", "application/json"),
        ("[\"a@b.co\"]", "application/json"),
        (
            "{\"email\": \"a@example.com\"} trailing",
            "application/json",
        ),
        (
            "{\"email\": \"a@example.com\", \"extra\": 1}",
            "application/json",
        ),
        ("email=a@example.com", "application/x-www-form-urlencoded"),
        ("", "application/json"),
    ];
    for (body, content_type) in cases {
        let r = app
            .raw(
                app.client
                    .post(&url)
                    .header("content-type", content_type)
                    .body(body.to_string()),
            )
            .await;
        r.assert_problem(400, "validation_failed");
        assert!(r.body["detail"].is_string());
    }
    let r = app
        .raw(
            app.client
                .post(&url)
                .header("content-type", "application/json")
                .body("{\"email\": 42}"),
        )
        .await;
    assert_eq!(r.body["errors"][0]["field"], "email");
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let app = spawn_app().await;
    let url = format!("{}/sdk/v1/{}/auth/email/start", app.base, app.sandbox);
    let huge = format!("{{\"email\": \"{}@example.com\"}}", "a".repeat(200_000));
    let r = app
        .raw(
            app.client
                .post(&url)
                .header("content-type", "application/json")
                .body(huge),
        )
        .await;
    r.assert_problem(413, "payload_too_large");
    app.start_email(&app.sandbox, "ok@example.com")
        .await
        .assert_status(202);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems_too() {
    let app = spawn_app().await;
    // A path parameter that is not UTF-8: no such environment (SDK), or
    // rejected inside axum and still answered as a problem (API).
    app.get("/sdk/v1/%FF/session", None)
        .await
        .assert_problem(404, "not_found");
    app.get("/api/v1/environments/%FF%FE", Some(&app.api_token))
        .await
        .assert_problem(400, "validation_failed");
    app.get("/no/such/route", None)
        .await
        .assert_problem(404, "not_found");
    let r = app.request(Method::DELETE, "/healthz", None, None).await;
    r.assert_problem(405, "method_not_allowed");
}

#[tokio::test]
async fn forged_and_foreign_tokens_are_invalid_and_change_nothing() {
    let app = spawn_app().await;
    let (token, _) = app.sign_in(&app.sandbox, "ada@example.com").await;
    let (live_token, _) = app.sign_in(&app.live, "ada@example.com").await;
    // Cached as verified before the forgeries are tried.
    app.session(&app.sandbox, &token).await.assert_status(200);
    let header = header_of(&token);
    let claims = claims_of(&token);
    let kid = header["kid"].as_str().unwrap().to_string();

    let mut forged: Vec<(&str, String)> = Vec::new();
    forged.push(("another environment's token", live_token.clone()));
    forged.push((
        "alg none",
        format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT", "kid": kid})),
            b64(&claims)
        ),
    ));
    forged.push((
        "alg None with the real signature",
        format!(
            "{}.{}.{}",
            b64(&json!({"alg": "None", "typ": "JWT", "kid": kid})),
            b64(&claims),
            signature(&token)
        ),
    ));
    let mut tampered = claims.clone();
    tampered["email"] = json!("admin@example.com");
    forged.push((
        "tampered payload",
        format!("{}.{}.{}", b64(&header), b64(&tampered), signature(&token)),
    ));
    let mut longer = claims.clone();
    longer["exp"] = json!(claims["exp"].as_i64().unwrap() + 86_400);
    forged.push((
        "extended expiry",
        format!("{}.{}.{}", b64(&header), b64(&longer), signature(&token)),
    ));
    forged.push((
        "the environment's alg swapped for ES256",
        format!(
            "{}.{}.{}",
            b64(&json!({"alg": "ES256", "typ": "JWT", "kid": kid})),
            b64(&claims),
            signature(&token)
        ),
    ));
    // The classic confusion: HS256 keyed with the published public key.
    let jwks = app
        .get(
            &format!("/sdk/v1/{}/.well-known/jwks.json", app.sandbox),
            None,
        )
        .await
        .body
        .clone();
    for secret in [jwks["keys"][0]["n"].to_string(), jwks.to_string()] {
        let mut h = Header::new(jsonwebtoken::Algorithm::HS256);
        h.kid = Some(kid.clone());
        let t = jsonwebtoken::encode(&h, &claims, &EncodingKey::from_secret(secret.as_bytes()))
            .unwrap();
        forged.push(("HS256 with the public key as secret", t));
    }
    let mut no_kid = header.clone();
    no_kid.as_object_mut().unwrap().remove("kid");
    forged.push((
        "no kid",
        format!("{}.{}.{}", b64(&no_kid), b64(&claims), signature(&token)),
    ));
    let mut unknown_kid = header.clone();
    unknown_kid["kid"] = json!("key_unknown");
    forged.push((
        "unknown kid",
        format!(
            "{}.{}.{}",
            b64(&unknown_kid),
            b64(&claims),
            signature(&token)
        ),
    ));
    forged.push(("not a JWT", "hello".into()));
    forged.push(("two parts", format!("{}.{}", b64(&header), b64(&claims))));
    forged.push(("garbage base64", "%%%.%%%.%%%".into()));

    for (what, forged_token) in &forged {
        let r = app.session(&app.sandbox, forged_token).await;
        assert_eq!(r.status.as_u16(), 401, "{what}: {}", r.text);
        assert_eq!(r.body["code"], "invalid_token", "{what}");
        assert!(
            !r.text.contains(forged_token.as_str()) || forged_token.len() < 8,
            "{what}: the token is echoed"
        );
        // Forged tokens revoke nothing.
        let r = app
            .post(
                &format!("/sdk/v1/{}/logout", app.sandbox),
                Some(forged_token),
                json!({}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 401, "{what}");
    }
    app.session(&app.sandbox, &token).await.assert_status(200);
    app.session(&app.live, &live_token).await.assert_status(200);
    let users = app
        .api(
            Method::GET,
            &format!("/environments/{}/users", app.sandbox),
            None,
        )
        .await;
    assert_eq!(users.body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_token_used_before_its_time_is_invalid() {
    let app = spawn_app().await;
    let (token, _) = app.sign_in(&app.sandbox, "ada@example.com").await;
    app.clock.advance(time::Duration::minutes(-5));
    app.session(&app.sandbox, &token)
        .await
        .assert_problem(401, "invalid_token");
    app.clock.advance(time::Duration::minutes(5));
    app.session(&app.sandbox, &token).await.assert_status(200);
}

#[tokio::test]
async fn a_nul_character_in_input_is_a_client_error_on_every_backend() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let r = app
        .post(
            &format!("/sdk/v1/{env}/auth/email/verify"),
            None,
            json!({"verification_id": "vrf_\u{0}", "code": "123456"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 400, "{}", r.text);
    assert!(
        ["invalid_code", "validation_failed"].contains(&r.body["code"].as_str().unwrap_or("")),
        "{}",
        r.text
    );
    let r = app
        .api(
            Method::GET,
            &format!("/environments/{env}/users/usr_%00"),
            None,
        )
        .await;
    assert!(r.status.is_client_error(), "{} {}", r.status, r.text);
    let r = app
        .api(
            Method::GET,
            &format!("/environments/{env}/users?email=a%00@example.com"),
            None,
        )
        .await;
    assert!(
        r.status.is_client_error() || r.status.is_success(),
        "{} {}",
        r.status,
        r.text
    );
}
