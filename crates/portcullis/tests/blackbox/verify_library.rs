//! `portcullis-verify` on the real server's tokens (issue 18, points 4 and
//! the tests): a real session verifies with its claims; forgeries made from
//! real tokens, tokens of another environment, expired, not yet valid,
//! partial and elevated tokens are told apart as the server tells them;
//! a change of the environment's key is picked up without a restart.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis::clock::Clock;
use portcullis_verify::{InvalidReason, Verifier, VerifierOptions, VerifyError};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;
use crate::mfa::{elevated_token, enrolled_with_action_enforcement, patch_settings};

/// A verifier of `env`'s tokens on the app's clock, shifted by `shift`.
fn verifier_at(app: &TestApp, env: &str, shift: time::Duration) -> Verifier {
    let clock = app.clock.clone();
    let options = VerifierOptions::default()
        .min_refresh_interval(Duration::from_secs(30))
        .clock(move || SystemTime::from(clock.now() + shift));
    Verifier::new(
        &format!("{}/sdk/v1/{env}/.well-known/jwks.json", app.base),
        &app.issuer(env),
        env,
        options,
    )
    .expect("a verifier")
}

fn verifier(app: &TestApp, env: &str) -> Verifier {
    verifier_at(app, env, time::Duration::ZERO)
}

fn encode(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON"))
}

fn invalid(result: Result<portcullis_verify::Claims, VerifyError>) -> InvalidReason {
    match result {
        Err(VerifyError::InvalidToken(reason)) => reason,
        other => panic!("expected InvalidToken, got {other:?}"),
    }
}

#[tokio::test]
async fn real_tokens_verify_and_forgeries_made_from_them_do_not() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let verifier = verifier(&app, &env);
    let (token, result) = app.sign_in(&env, "ada@example.com").await;

    let claims = verifier.verify_session(&token).await.expect("valid");
    assert_eq!(claims.sub, result["user"]["id"].as_str().unwrap());
    assert_eq!(claims.sid, result["session"]["id"].as_str().unwrap());
    assert_eq!(claims.iss, app.issuer(&env));
    assert_eq!(
        (claims.aud.as_str(), claims.environment_id.as_str()),
        (env.as_str(), env.as_str())
    );
    assert_eq!(claims.email.as_deref(), Some("ada@example.com"));
    assert!(claims.scope.split(' ').any(|s| s == "user:basic"));
    assert!(!claims.is_partial());

    let header = header_of(&token);
    let mut payload = claims_of(&token);
    let (header_text, signature) = (
        token.split('.').next().unwrap(),
        token.rsplit('.').next().unwrap(),
    );
    // Another user, the real header and signature.
    payload["sub"] = "usr_someone_else".into();
    let tampered = format!("{header_text}.{}.{signature}", encode(&payload));
    assert_eq!(
        invalid(verifier.verify_session(&tampered).await),
        InvalidReason::BadSignature
    );
    // `alg: none`, the real claims, no signature.
    let none = format!(
        "{}.{}.",
        encode(&json!({"alg": "none", "typ": "JWT", "kid": header["kid"]})),
        encode(&claims_of(&token))
    );
    assert!(matches!(
        verifier.verify_session(&none).await,
        Err(VerifyError::InvalidToken(_))
    ));
    // HS256 under the real kid, keyed with the published public key.
    let jwks = app
        .get(&format!("/sdk/v1/{env}/.well-known/jwks.json"), None)
        .await
        .assert_status(200)
        .clone();
    let modulus = jwks["keys"][0]["n"]
        .as_str()
        .expect("an RSA key")
        .to_string();
    let mut hs = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs.kid = header["kid"].as_str().map(str::to_string);
    hs.typ = Some("JWT".into());
    let confused = jsonwebtoken::encode(
        &hs,
        &claims_of(&token),
        &jsonwebtoken::EncodingKey::from_secret(modulus.as_bytes()),
    )
    .expect("signing");
    assert!(matches!(
        verifier.verify_session(&confused).await,
        Err(VerifyError::InvalidToken(_))
    ));

    // Another environment's token: another key, another audience.
    let (live_token, _) = app.sign_in(&app.live, "ada@example.com").await;
    assert!(matches!(
        verifier.verify_session(&live_token).await,
        Err(VerifyError::InvalidToken(_))
    ));
    // The sandbox's verifier for the live environment's id: wrong audience.
    let wrong_audience = Verifier::new(
        &format!("{}/sdk/v1/{env}/.well-known/jwks.json", app.base),
        &app.issuer(&env),
        &app.live,
        VerifierOptions::default(),
    )
    .expect("a verifier");
    assert_eq!(
        invalid(wrong_audience.verify_session(&token).await),
        InvalidReason::WrongAudience
    );

    // Time: 10 minutes early is before `nbf` (beyond the minute of leeway);
    // past `exp` and the leeway it has expired.
    let early = verifier_at(&app, &env, time::Duration::minutes(-10));
    assert_eq!(
        invalid(early.verify_session(&token).await),
        InvalidReason::NotYetValid
    );
    app.advance(time::Duration::seconds(7200 + 61));
    assert!(matches!(
        verifier.verify_session(&token).await,
        Err(VerifyError::TokenExpired)
    ));
}

#[tokio::test]
async fn partial_and_elevated_tokens_are_told_apart() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let verifier = verifier(&app, &env);

    let (token, device) = enrolled_with_action_enforcement(&app, &env, "grace@example.com").await;
    let session = verifier
        .verify_session(&token)
        .await
        .expect("a complete session");
    let elevated = elevated_token(&app, &env, &device, &token, "credential:link").await;
    let claims = verifier
        .verify_elevated(&elevated, "credential:link", Some(&session))
        .await
        .expect("its scope, its session");
    assert_eq!(claims.scope, "credential:link");
    assert_eq!(
        invalid(verifier.verify_session(&elevated).await),
        InvalidReason::WrongType
    );
    for refused in [
        verifier
            .verify_elevated(&elevated, "wallet:export", Some(&session))
            .await,
        verifier
            .verify_elevated(&token, "credential:link", None)
            .await,
    ] {
        assert!(
            matches!(refused, Err(VerifyError::ElevatedTokenRequired)),
            "{refused:?}"
        );
    }
    let (other, _) = app.sign_in(&env, "grace@example.com").await;
    let other = verifier
        .verify_session(&other)
        .await
        .expect("another session");
    assert!(matches!(
        verifier
            .verify_elevated(&elevated, "credential:link", Some(&other))
            .await,
        Err(VerifyError::ElevatedTokenRequired)
    ));

    // Enrolment required: a new user's sign-in is partial.
    patch_settings(&app, &env, json!({"mfa": {"enrollment": "required"}})).await;
    let (partial, _) = app.sign_in(&env, "new@example.com").await;
    assert!(matches!(
        verifier.verify_session(&partial).await,
        Err(VerifyError::MfaRequired)
    ));
    let claims = verifier
        .verify_partial_session(&partial)
        .await
        .expect("with consent");
    assert!(claims.is_partial());
}

#[tokio::test]
async fn a_new_key_is_picked_up_without_a_restart() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let verifier = Arc::new(verifier(&app, &env));
    let (before, _) = app.sign_in(&env, "before@example.com").await;
    verifier.verify_session(&before).await.expect("valid");

    let path = format!("/environments/{env}/settings/security");
    app.api(
        Method::PATCH,
        &path,
        Some(json!({"token_algorithm": "ES256"})),
    )
    .await
    .assert_status(200);
    let (after, _) = app.sign_in(&env, "after@example.com").await;
    assert_eq!(header_of(&after)["alg"], "ES256");
    assert_ne!(header_of(&after)["kid"], header_of(&before)["kid"]);
    // Within the refresh interval of the last fetch the new kid is not
    // looked for; once it has passed, the first token with it fetches it.
    assert_eq!(
        invalid(verifier.verify_session(&after).await),
        InvalidReason::UnknownKey
    );
    app.advance(time::Duration::seconds(31));
    verifier.verify_session(&after).await.expect("the new key");
    verifier
        .verify_session(&before)
        .await
        .expect("the old key, still published");
}
