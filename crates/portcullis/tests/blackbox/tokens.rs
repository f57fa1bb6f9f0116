//! Signed JWTs, JWKS and discovery, algorithms, keys at rest (point 5).

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

/// Verifies a token the way a customer's backend would: discovery, then
/// JWKS, then a standard JWT library — no Portcullis code.
async fn verify_with_jwks(app: &TestApp, env: &str, token: &str) -> Value {
    let discovery = app
        .get(
            &format!("/sdk/v1/{env}/.well-known/openid-configuration"),
            None,
        )
        .await;
    let discovery = discovery.assert_status(200).clone();
    let issuer = discovery["issuer"].as_str().unwrap().to_string();
    assert_eq!(issuer, format!("{}/sdk/v1/{env}", app.base));
    let jwks_uri = discovery["jwks_uri"].as_str().unwrap();
    let jwks: JwkSet = app
        .client
        .get(jwks_uri)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("the token's kid is published");
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[&issuer]);
    validation.set_audience(&[env]);
    // The test clock may differ from the wall clock jsonwebtoken reads.
    validation.validate_exp = false;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("verifies with the JWKS")
        .claims
}

#[tokio::test]
async fn a_session_token_carries_the_contracted_claims_and_verifies_with_the_jwks() {
    let app = spawn_app().await;
    let (token, result) = app.sign_in(&app.sandbox, "ada@example.com").await;
    let header = header_of(&token);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    assert!(header["kid"].is_string());

    let claims = verify_with_jwks(&app, &app.sandbox, &token).await;
    for claim in [
        "iss",
        "sub",
        "aud",
        "sid",
        "environment_id",
        "iat",
        "nbf",
        "exp",
        "jti",
        "scope",
        "amr",
        "email",
    ] {
        assert!(!claims[claim].is_null(), "claim {claim} is missing");
    }
    assert_eq!(claims["sub"], result["user"]["id"]);
    assert_eq!(claims["sid"], result["session"]["id"]);
    assert_eq!(claims["environment_id"], app.sandbox.as_str());
    assert_eq!(claims["email"], "ada@example.com");
    assert!(
        claims["scope"]
            .as_str()
            .unwrap()
            .split(' ')
            .any(|s| s == "user:basic")
    );
    assert_eq!(claims["amr"], json!(["otp"]));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["nbf"].as_i64().unwrap(),
        7200
    );
}

#[tokio::test]
async fn each_environment_has_its_own_keys() {
    let app = spawn_app().await;
    let jwks = |env: String| {
        let app = &app;
        async move {
            app.get(&format!("/sdk/v1/{env}/.well-known/jwks.json"), None)
                .await
                .body["keys"]
                .clone()
        }
    };
    let sandbox = jwks(app.sandbox.clone()).await;
    let live = jwks(app.live.clone()).await;
    assert_eq!(sandbox.as_array().unwrap().len(), 1);
    assert_ne!(sandbox[0]["kid"], live[0]["kid"]);
    assert_ne!(sandbox[0]["n"], live[0]["n"]);
    // Public parts only.
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(sandbox[0][private].is_null(), "JWKS leaks {private}");
    }
}

#[tokio::test]
async fn es256_and_eddsa_are_selectable_and_old_tokens_keep_verifying() {
    let app = spawn_app().await;
    let (rs_token, _) = app.sign_in(&app.sandbox, "ada@example.com").await;
    let mut kids = vec![header_of(&rs_token)["kid"].clone()];
    for alg in ["ES256", "EdDSA"] {
        let r = app
            .api(
                Method::PATCH,
                &format!("/environments/{}/settings/security", app.sandbox),
                Some(json!({"token_algorithm": alg})),
            )
            .await;
        assert_eq!(r.assert_status(200)["token_algorithm"], alg);
        let (token, _) = app.sign_in(&app.sandbox, "ada@example.com").await;
        let header = header_of(&token);
        assert_eq!(header["alg"], alg);
        kids.push(header["kid"].clone());
        verify_with_jwks(&app, &app.sandbox, &token).await;
        app.session(&app.sandbox, &token).await.assert_status(200);
    }
    // The RS256 token signed before the switch still verifies, and its
    // retired key is still published.
    app.session(&app.sandbox, &rs_token)
        .await
        .assert_status(200);
    verify_with_jwks(&app, &app.sandbox, &rs_token).await;
    let published = app
        .get(
            &format!("/sdk/v1/{}/.well-known/jwks.json", app.sandbox),
            None,
        )
        .await
        .body["keys"]
        .clone();
    let published: Vec<_> = published
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    for kid in &kids {
        assert!(published.contains(kid));
    }
}

/// Issue 14, item 6: a retired key verifies the tokens it signed while it
/// was active, and none that it signed after (a leaked key cannot mint
/// sessions for the 30 days it stays published).
#[tokio::test]
async fn a_retired_key_verifies_no_token_issued_after_its_retirement() {
    let app = spawn_app().await;
    let (rs_token, _) = app.sign_in(&app.sandbox, "ada@example.com").await;
    let old_kid = header_of(&rs_token)["kid"].as_str().unwrap().to_string();
    app.api(
        Method::PATCH,
        &format!("/environments/{}/settings/security", app.sandbox),
        Some(json!({"token_algorithm": "ES256"})),
    )
    .await
    .assert_status(200);
    app.advance(time::Duration::minutes(1));

    // Whoever holds the retired private key signs a token now, with the
    // claims of a live session.
    let (store, master) = portcullis::app::open_store(&app.storage.config())
        .await
        .expect("the store opens");
    let records = store
        .environments
        .signing_keys(&app.sandbox)
        .await
        .expect("keys");
    let record = records.iter().find(|k| k.kid == old_kid).expect("old key");
    assert!(record.retired_at.is_some());
    let old_key = portcullis::services::keys::load(&master, record).expect("key loads");
    let now = app.clock_now_s();
    let mut claims = claims_of(&rs_token);
    claims["iat"] = json!(now);
    claims["nbf"] = json!(now);
    claims["exp"] = json!(now + 600);
    claims["jti"] = json!("forged-after-retirement");
    let forged = old_key.sign_jwt(&claims).expect("signs");
    // A well-formed token under a published key: only the rule refuses it.
    verify_with_jwks(&app, &app.sandbox, &forged).await;
    app.session(&app.sandbox, &forged)
        .await
        .assert_problem(401, "invalid_token");
    // The token the key signed while active still works.
    app.session(&app.sandbox, &rs_token)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn the_token_lifetime_follows_the_setting() {
    let app = spawn_app().await;
    app.api(
        Method::PATCH,
        &format!("/environments/{}/settings/security", app.sandbox),
        Some(json!({"jwt_expiration_seconds": 300})),
    )
    .await
    .assert_status(200);
    let (token, _) = app.sign_in(&app.sandbox, "ada@example.com").await;
    let claims = claims_of(&token);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["nbf"].as_i64().unwrap(),
        300
    );
    app.advance(time::Duration::seconds(300));
    app.session(&app.sandbox, &token)
        .await
        .assert_problem(401, "token_expired");
}

#[tokio::test]
async fn introspection_reports_active_and_inactive_tokens() {
    let app = spawn_app().await;
    let (token, _) = app.sign_in(&app.sandbox, "ada@example.com").await;
    let path = format!("/environments/{}/sessions/introspect", app.sandbox);
    let r = app
        .api(Method::POST, &path, Some(json!({"token": token})))
        .await;
    let body = r.assert_status(200);
    assert_eq!(body["active"], true);
    assert_eq!(body["sub"], claims_of(&token)["sub"]);

    for inactive in ["garbage", "a.b.c", ""] {
        let r = app
            .api(Method::POST, &path, Some(json!({"token": inactive})))
            .await;
        assert_eq!(r.assert_status(200), &json!({"active": false}));
    }
    // A token of another environment is not active here.
    let r = app
        .api(
            Method::POST,
            &format!("/environments/{}/sessions/introspect", app.live),
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(r.assert_status(200)["active"], false);
    app.post(
        &format!("/sdk/v1/{}/logout", app.sandbox),
        Some(&token),
        json!({}),
    )
    .await;
    let r = app
        .api(Method::POST, &path, Some(json!({"token": token})))
        .await;
    assert_eq!(r.assert_status(200)["active"], false);
}

#[tokio::test]
async fn a_server_with_another_master_key_refuses_the_database() {
    let app = spawn_app().await;
    let storage = app.stop().await;
    let key_path = storage.data_dir.join("master.key");
    let original = std::fs::read_to_string(&key_path).unwrap();
    let other = portcullis::crypto::MasterKey::generate()
        .unwrap()
        .to_base64();
    let mut config = storage.config();
    config.master_key = Some(other.into());
    let clock = std::sync::Arc::new(portcullis::clock::ManualClock::starting_now());
    let refused = portcullis::Application::build(config, clock.clone()).await;
    let message = refused.err().expect("refused").to_string();
    assert!(message.contains("master key does not match"), "{message}");
    assert!(
        !message.contains(original.trim()),
        "the key leaks into the error"
    );
    // With the right key it starts again.
    assert!(
        portcullis::Application::build(storage.config(), clock)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn private_keys_are_not_stored_in_the_clear() {
    let app = spawn_app().await;
    let bytes = app.stop().await.stored_bytes();
    // An unencrypted PKCS#8 RSA key starts with this DER prefix
    // (SEQUENCE, version 0, rsaEncryption OID); pg_dump writes it in hex.
    let rsa_pkcs8_oid = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
    ];
    let as_hex: String = rsa_pkcs8_oid.iter().map(|b| format!("{b:02x}")).collect();
    for needle in [&rsa_pkcs8_oid[..], as_hex.as_bytes()] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "a clear key in the database"
        );
    }
}
