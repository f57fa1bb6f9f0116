//! Passkeys as MFA devices, driven by webauthn-authenticator-rs's software
//! authenticator through the real registration and verification routes.
//! The relying party is `localhost` with one origin, set in the
//! environment's `passkeys` settings.

use reqwest::Method;
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};

use crate::harness::{Reply, TestApp, claims_of, spawn_app};
use crate::mfa::{patch_settings, verify};

const ORIGIN: &str = "http://localhost:3000";

fn origin() -> Url {
    Url::parse(ORIGIN).unwrap()
}

async fn use_localhost(app: &TestApp, env: &str) {
    patch_settings(
        app,
        env,
        json!({"passkeys": {"rp_id": "localhost", "rp_name": "Test", "origins": [ORIGIN]}}),
    )
    .await;
}

/// Registers a passkey of `authenticator` for `token`'s user, with an
/// elevated token if given; the answer to `finish`.
async fn register(
    app: &TestApp,
    env: &str,
    token: &str,
    authenticator: &mut SoftPasskey,
    elevated: Option<&str>,
) -> Reply {
    let r = app
        .post(
            &format!("/sdk/v1/{env}/mfa/passkey/register/start"),
            Some(token),
            json!({}),
        )
        .await;
    let started = r.assert_status(200).clone();
    let options: CreationChallengeResponse =
        serde_json::from_value(started["options"].clone()).expect("creation options");
    let credential = authenticator
        .do_registration(origin(), options)
        .expect("the authenticator registers");
    let mut finish = app
        .client
        .post(format!(
            "{}/sdk/v1/{env}/mfa/passkey/register/finish",
            app.base
        ))
        .bearer_auth(token)
        .json(&json!({
            "challenge_id": started["challenge_id"],
            "credential": credential,
            "name": "Laptop",
        }));
    if let Some(elevated) = elevated {
        finish = finish.header("X-Portcullis-Elevated-Token", elevated);
    }
    app.raw(finish).await
}

/// A fresh challenge for `token`'s session: its id and request options.
async fn challenge(app: &TestApp, env: &str, token: &str) -> (Value, RequestChallengeResponse) {
    let r = app
        .post(
            &format!("/sdk/v1/{env}/mfa/passkey/challenge"),
            Some(token),
            json!({}),
        )
        .await;
    let challenge = r.assert_status(200).clone();
    let options = serde_json::from_value(challenge["options"].clone()).expect("request options");
    (challenge["challenge_id"].clone(), options)
}

/// A fresh challenge for `token`'s session, answered by `authenticator`:
/// the `assertion` field of `/mfa/verify` and `/mfa/step-up`.
async fn assertion(
    app: &TestApp,
    env: &str,
    token: &str,
    authenticator: &mut SoftPasskey,
) -> Value {
    let (challenge_id, options) = challenge(app, env, token).await;
    let credential = authenticator
        .do_authentication(origin(), options)
        .expect("the authenticator signs");
    json!({ "challenge_id": challenge_id, "credential": credential })
}

#[tokio::test]
async fn a_passkey_registered_as_mfa_device_completes_a_partial_session() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    use_localhost(&app, &env).await;
    let mut authenticator = SoftPasskey::new(true);
    let (token, _) = app.sign_in(&env, "passkey@example.com").await;
    let r = register(&app, &env, &token, &mut authenticator, None).await;
    let registered = r.assert_status(200).clone();
    assert_eq!(registered["device"]["kind"], "passkey");
    assert_eq!(registered["device"]["name"], "Laptop");
    assert_eq!(registered["device"]["confirmed"], true);
    assert_eq!(registered["recovery_codes"].as_array().unwrap().len(), 10);

    patch_settings(&app, &env, json!({"mfa": {"session_enforcement": true}})).await;
    let (partial, result) = app.sign_in(&env, "passkey@example.com").await;
    assert_eq!(result["mfa"]["required"], true);
    assert_eq!(result["mfa"]["methods"], json!(["passkey"]));
    let proof = assertion(&app, &env, &partial, &mut authenticator).await;
    let r = verify(&app, &env, &partial, json!({ "assertion": proof })).await;
    let full = r.assert_status(200)["token"].as_str().unwrap().to_string();
    let claims = claims_of(&full);
    assert_eq!(claims["sid"], claims_of(&partial)["sid"]);
    assert_eq!(claims["scope"], "user:basic");
    let amr = claims["amr"].as_array().unwrap();
    assert!(amr.contains(&json!("mfa")));
    assert!(
        amr.contains(&json!("hwk")) || amr.contains(&json!("swk")),
        "{amr:?}"
    );
    app.session(&env, &full).await.assert_status(200);

    // The challenge was single use.
    let r = verify(&app, &env, &partial, json!({ "assertion": proof })).await;
    r.assert_problem(400, "invalid_code");

    // A passkey also steps up.
    let proof = assertion(&app, &env, &full, &mut authenticator).await;
    let r = app
        .post(
            &format!("/sdk/v1/{env}/mfa/step-up"),
            Some(&full),
            json!({ "scope": "wallet:export", "assertion": proof }),
        )
        .await;
    assert!(r.assert_status(200)["elevated_token"].is_string());
}

#[tokio::test]
async fn assertions_from_another_user_session_or_stale_challenge_are_refused() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    use_localhost(&app, &env).await;
    let mut alice_key = SoftPasskey::new(true);
    let mut bob_key = SoftPasskey::new(true);
    let (alice, _) = app.sign_in(&env, "alice@example.com").await;
    let (bob, _) = app.sign_in(&env, "bob@example.com").await;
    register(&app, &env, &alice, &mut alice_key, None)
        .await
        .assert_status(200);
    register(&app, &env, &bob, &mut bob_key, None)
        .await
        .assert_status(200);

    // Bob's authenticator cannot answer Alice's challenge: it holds none
    // of her credentials.
    let (_, options) = challenge(&app, &env, &alice).await;
    assert!(bob_key.do_authentication(origin(), options).is_err());

    // Bob's own assertion, sent on Alice's session with his challenge id:
    // the challenge belongs to his session, so it is not found for hers.
    let bobs = assertion(&app, &env, &bob, &mut bob_key).await;
    verify(&app, &env, &alice, json!({ "assertion": bobs }))
        .await
        .assert_problem(400, "invalid_code");
    // Another session of Alice's cannot use a challenge of this one.
    let (alice_again, _) = app.sign_in(&env, "alice@example.com").await;
    let proof = assertion(&app, &env, &alice, &mut alice_key).await;
    verify(&app, &env, &alice_again, json!({ "assertion": proof }))
        .await
        .assert_problem(400, "invalid_code");

    // A challenge older than 5 minutes is stale.
    let proof = assertion(&app, &env, &alice, &mut alice_key).await;
    app.advance(time::Duration::minutes(5) + time::Duration::seconds(1));
    verify(&app, &env, &alice, json!({ "assertion": proof }))
        .await
        .assert_problem(400, "invalid_code");

    // An assertion made on a page of another origin (another port of the
    // same host) is refused.
    let (challenge_id, options) = challenge(&app, &env, &alice).await;
    let other_page = Url::parse("http://localhost:4000").unwrap();
    let credential = alice_key
        .do_authentication(other_page, options)
        .expect("the authenticator signs for any page of its RP id");
    verify(
        &app,
        &env,
        &alice,
        json!({ "assertion": {"challenge_id": challenge_id, "credential": credential} }),
    )
    .await
    .assert_problem(400, "invalid_code");

    // A malformed assertion is a validation error, and a right one still works.
    verify(
        &app,
        &env,
        &alice,
        json!({ "assertion": {"challenge_id": "chl_x", "credential": {"id": 1}} }),
    )
    .await
    .assert_problem(400, "validation_failed");
    let proof = assertion(&app, &env, &alice, &mut alice_key).await;
    verify(&app, &env, &alice, json!({ "assertion": proof }))
        .await
        .assert_status(200);
    // The other environment knows nothing of these passkeys.
    let live = app.live.clone();
    use_localhost(&app, &live).await;
    let (alice_live, _) = app.sign_in(&live, "alice@example.com").await;
    app.post(
        &format!("/sdk/v1/{live}/mfa/passkey/challenge"),
        Some(&alice_live),
        json!({}),
    )
    .await
    .assert_problem(409, "conflict");
}

#[tokio::test]
async fn passkeys_need_a_relying_party_the_environment_names() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let (token, _) = app.sign_in(&env, "rp@example.com").await;
    // The test server's public URL is an IP address: no default RP id.
    app.post(
        &format!("/sdk/v1/{env}/mfa/passkey/register/start"),
        Some(&token),
        json!({}),
    )
    .await
    .assert_problem(403, "forbidden");
    let path = format!("/environments/{env}/settings/security");
    for bad in [
        json!({"passkeys": {"rp_id": "127.0.0.1", "origins": ["https://127.0.0.1"]}}),
        json!({"passkeys": {"rp_id": "example.com", "origins": ["https://evil.com"]}}),
        json!({"passkeys": {"rp_id": null, "origins": ["https://example.com"]}}),
    ] {
        app.api(Method::PATCH, &path, Some(bad))
            .await
            .assert_problem(400, "validation_failed");
    }
    // Passkeys not among the methods: no registration.
    use_localhost(&app, &env).await;
    patch_settings(&app, &env, json!({"mfa": {"methods": ["totp"]}})).await;
    app.post(
        &format!("/sdk/v1/{env}/mfa/passkey/register/start"),
        Some(&token),
        json!({}),
    )
    .await
    .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn with_action_enforcement_a_second_device_needs_an_elevated_token() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    use_localhost(&app, &env).await;
    let mut first = SoftPasskey::new(true);
    let mut second = SoftPasskey::new(true);
    let (token, _) = app.sign_in(&env, "link@example.com").await;
    // The first device needs none: there is no factor to prove yet.
    register(&app, &env, &token, &mut first, None)
        .await
        .assert_status(200);
    patch_settings(
        &app,
        &env,
        json!({"mfa": {"action_enforcement": {"enabled": true}}}),
    )
    .await;
    // A stolen session alone cannot add a factor of its own.
    register(&app, &env, &token, &mut second, None)
        .await
        .assert_problem(403, "elevated_token_required");
    let proof = assertion(&app, &env, &token, &mut first).await;
    let r = app
        .post(
            &format!("/sdk/v1/{env}/mfa/step-up"),
            Some(&token),
            json!({ "scope": "credential:link", "assertion": proof }),
        )
        .await;
    let link = r.assert_status(200)["elevated_token"]
        .as_str()
        .unwrap()
        .to_string();
    let added = register(&app, &env, &token, &mut second, Some(&link)).await;
    assert!(added.assert_status(200).get("recovery_codes").is_none());
    let devices = app
        .get(&format!("/sdk/v1/{env}/mfa/devices"), Some(&token))
        .await;
    assert_eq!(
        devices.assert_status(200)["data"].as_array().unwrap().len(),
        2
    );
}
