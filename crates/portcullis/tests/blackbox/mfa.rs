//! Multi-factor authentication through HTTP: TOTP enrolment, recovery
//! codes, session-based enforcement (partial tokens), action-based
//! enforcement (elevated tokens), and the operators' view. TOTP codes are
//! computed here, from the secret the server shows once and the clock the
//! test controls.

use portcullis::clock::Clock;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestApp, claims_of, spawn_app};

/// The TOTP code of `secret` (base32) at `unix_s`: SHA-1, 6 digits, 30 s.
pub fn totp_code(secret_b32: &str, unix_s: i64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_b32).expect("a base32 secret");
    totp_rs::Builder::new()
        .with_secret(secret)
        .build_noncompliant()
        .generate(unix_s as u64)
        .to_string()
}

pub fn now_s(app: &TestApp) -> i64 {
    app.clock.now().unix_timestamp()
}

/// Moves the clock to the next 30 s step, so that a fresh code exists.
pub fn next_step(app: &TestApp) {
    app.advance(time::Duration::seconds(30));
}

pub async fn patch_settings(app: &TestApp, env: &str, patch: Value) {
    app.api(
        Method::PATCH,
        &format!("/environments/{env}/settings/security"),
        Some(patch),
    )
    .await
    .assert_status(200);
}

pub struct Enrolled {
    pub device_id: String,
    pub secret: String,
    pub recovery_codes: Vec<String>,
}

/// Enrols and confirms a TOTP device with `token`; the confirm answer too.
pub async fn enrol_totp(app: &TestApp, env: &str, token: &str) -> (Enrolled, Value) {
    let begun = app
        .post(&format!("/sdk/v1/{env}/mfa/totp"), Some(token), json!({}))
        .await;
    let body = begun.assert_status(201).clone();
    let device_id = body["device_id"].as_str().unwrap().to_string();
    let secret = body["secret"].as_str().unwrap().to_string();
    let confirmed = app
        .post(
            &format!("/sdk/v1/{env}/mfa/totp/{device_id}/confirm"),
            Some(token),
            json!({ "code": totp_code(&secret, now_s(app)) }),
        )
        .await;
    let answer = confirmed.assert_status(200).clone();
    let recovery_codes = answer["recovery_codes"]
        .as_array()
        .map(|codes| {
            codes
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    (
        Enrolled {
            device_id,
            secret,
            recovery_codes,
        },
        answer,
    )
}

/// A session of a user with a TOTP device, in an environment that now
/// asks elevated tokens for actions: `(session token, device)`.
pub async fn enrolled_with_action_enforcement(
    app: &TestApp,
    env: &str,
    email: &str,
) -> (String, Enrolled) {
    let (token, _) = app.sign_in(env, email).await;
    let (device, _) = enrol_totp(app, env, &token).await;
    patch_settings(
        app,
        env,
        json!({"mfa": {"action_enforcement": {"enabled": true}}}),
    )
    .await;
    (token, device)
}

/// Steps up `bearer`'s session for `scope` with the code of the next step.
pub async fn elevated_token(
    app: &TestApp,
    env: &str,
    device: &Enrolled,
    bearer: &str,
    scope: &str,
) -> String {
    next_step(app);
    let code = totp_code(&device.secret, now_s(app));
    let r = app
        .post(
            &format!("/sdk/v1/{env}/mfa/step-up"),
            Some(bearer),
            json!({ "scope": scope, "code": code }),
        )
        .await;
    r.assert_status(200)["elevated_token"]
        .as_str()
        .expect("an elevated token")
        .to_string()
}

pub async fn verify(app: &TestApp, env: &str, token: &str, body: Value) -> crate::harness::Reply {
    app.post(&format!("/sdk/v1/{env}/mfa/verify"), Some(token), body)
        .await
}

#[tokio::test]
async fn a_totp_device_is_active_only_after_a_right_code_and_its_secret_is_sealed() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let (token, result) = app.sign_in(&env, "totp@example.com").await;
    assert_eq!(result["mfa"]["enrolled"], false);
    assert_eq!(result["mfa"]["required"], false);

    let begun = app
        .post(&format!("/sdk/v1/{env}/mfa/totp"), Some(&token), json!({}))
        .await;
    let body = begun.assert_status(201).clone();
    let device_id = body["device_id"].as_str().unwrap();
    assert!(device_id.starts_with("mfa_"));
    let secret = body["secret"].as_str().unwrap().to_string();
    let uri = body["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")));
    assert!(body["qr_svg"].as_str().unwrap().contains("<svg"));

    // Pending until confirmed.
    let devices = app
        .get(&format!("/sdk/v1/{env}/mfa/devices"), Some(&token))
        .await;
    assert_eq!(devices.assert_status(200)["data"][0]["confirmed"], false);
    let confirm = format!("/sdk/v1/{env}/mfa/totp/{device_id}/confirm");
    let wrong = if totp_code(&secret, now_s(&app)) == "000000" {
        "111111"
    } else {
        "000000"
    };
    app.post(&confirm, Some(&token), json!({ "code": wrong }))
        .await
        .assert_problem(400, "invalid_code");
    app.post(&confirm, Some(&token), json!({ "code": "12ab56" }))
        .await
        .assert_problem(400, "validation_failed");
    // A code of the step before or after is accepted too (clock drift).
    let code = totp_code(&secret, now_s(&app) - 30);
    let confirmed = app
        .post(&confirm, Some(&token), json!({ "code": code }))
        .await;
    let answer = confirmed.assert_status(200);
    assert_eq!(answer["device"]["confirmed"], true);
    let codes = answer["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    assert!(
        answer.get("auth").is_none(),
        "the session was complete already"
    );
    app.post(&confirm, Some(&token), json!({ "code": code }))
        .await
        .assert_problem(409, "conflict");

    // One TOTP device per user.
    app.post(&format!("/sdk/v1/{env}/mfa/totp"), Some(&token), json!({}))
        .await
        .assert_problem(409, "conflict");

    // Neither the secret nor a recovery code is stored in the clear.
    let raw_secret = totp_rs::Secret::try_from_base32(&secret)
        .unwrap()
        .as_ref()
        .to_vec();
    let bytes = app.stop().await.stored_bytes();
    let hex: String = raw_secret.iter().map(|b| format!("{b:02x}")).collect();
    for needle in [&raw_secret[..], hex.as_bytes(), secret.as_bytes()] {
        assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    }
    for code in codes {
        let code = code.as_str().unwrap().replace('-', "");
        assert!(!bytes.windows(code.len()).any(|w| w == code.as_bytes()));
    }
}

#[tokio::test]
async fn with_session_enforcement_a_sign_in_is_partial_until_the_second_factor() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let (token, _) = app.sign_in(&env, "mfa@example.com").await;
    let (device, _) = enrol_totp(&app, &env, &token).await;
    patch_settings(&app, &env, json!({"mfa": {"session_enforcement": true}})).await;

    let (partial, result) = app.sign_in(&env, "mfa@example.com").await;
    assert_eq!(result["mfa"]["required"], true);
    assert_eq!(result["mfa"]["enrolled"], true);
    assert_eq!(result["mfa"]["methods"], json!(["totp"]));
    let claims = claims_of(&partial);
    assert_eq!(claims["scope"], "requiresAdditionalAuth");
    let sid = claims["sid"].as_str().unwrap().to_string();

    // Every non-MFA route refuses the partial token.
    app.session(&env, &partial)
        .await
        .assert_problem(403, "mfa_required");
    app.get(&format!("/sdk/v1/{env}/sessions"), Some(&partial))
        .await
        .assert_problem(403, "mfa_required");
    app.post(&format!("/sdk/v1/{env}/logout"), Some(&partial), json!({}))
        .await
        .assert_problem(403, "mfa_required");
    app.post(
        &format!("/sdk/v1/{env}/mfa/step-up"),
        Some(&partial),
        json!({"scope": "credential:link", "code": "123456"}),
    )
    .await
    .assert_problem(403, "mfa_required");
    // Nor may it enrol a device of its own: that would skip the factor.
    app.post(
        &format!("/sdk/v1/{env}/mfa/totp"),
        Some(&partial),
        json!({}),
    )
    .await
    .assert_problem(403, "mfa_required");
    // It may list the devices, to choose one.
    app.get(&format!("/sdk/v1/{env}/mfa/devices"), Some(&partial))
        .await
        .assert_status(200);

    // The code of the step used at enrolment is spent: a fresh step.
    let spent = totp_code(&device.secret, now_s(&app));
    verify(&app, &env, &partial, json!({ "code": spent }))
        .await
        .assert_problem(400, "invalid_code");
    next_step(&app);
    let code = totp_code(&device.secret, now_s(&app));
    let upgraded = verify(&app, &env, &partial, json!({ "code": code })).await;
    let body = upgraded.assert_status(200).clone();
    let full = body["token"].as_str().unwrap();
    let claims = claims_of(full);
    assert_eq!(claims["sid"], sid, "the same session");
    assert_eq!(claims["scope"], "user:basic");
    let amr: Vec<&str> = claims["amr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(amr.contains(&"mfa") && amr.contains(&"otp"), "{amr:?}");
    assert_eq!(body["mfa"]["required"], false);
    assert_eq!(body["session"]["id"], sid);
    app.session(&env, full).await.assert_status(200);

    // The same code again is a replay, whatever session sends it.
    let (other_partial, _) = app.sign_in(&env, "mfa@example.com").await;
    verify(&app, &env, &other_partial, json!({ "code": code }))
        .await
        .assert_problem(400, "invalid_code");
    // The management API sees the session as completed.
    let r = app
        .api(
            Method::GET,
            &format!(
                "/environments/{env}/users/{}/sessions",
                claims["sub"].as_str().unwrap()
            ),
            None,
        )
        .await;
    let sessions = r.assert_status(200)["data"].as_array().unwrap().clone();
    let this = sessions.iter().find(|s| s["id"] == sid).unwrap();
    assert!(this["amr"].as_array().unwrap().contains(&json!("mfa")));
}

#[tokio::test]
async fn required_enrolment_lets_a_partial_session_enrol_and_nothing_else() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    patch_settings(&app, &env, json!({"mfa": {"enrollment": "required"}})).await;
    let (partial, result) = app.sign_in(&env, "new@example.com").await;
    assert_eq!(result["mfa"]["required"], true);
    assert_eq!(result["mfa"]["enrolled"], false);
    assert_eq!(claims_of(&partial)["scope"], "requiresAdditionalAuth");
    app.session(&env, &partial)
        .await
        .assert_problem(403, "mfa_required");
    // Verifying without a device is a wrong code, not a way in.
    verify(&app, &env, &partial, json!({"code": "123456"}))
        .await
        .assert_problem(400, "invalid_code");

    let (_, confirmed) = enrol_totp(&app, &env, &partial).await;
    assert_eq!(confirmed["recovery_codes"].as_array().unwrap().len(), 10);
    let auth = &confirmed["auth"];
    let full = auth["token"].as_str().expect("the session completed");
    assert_eq!(claims_of(full)["sid"], claims_of(&partial)["sid"]);
    assert_eq!(claims_of(full)["scope"], "user:basic");
    assert_eq!(auth["mfa"]["enrolled"], true);
    app.session(&env, full).await.assert_status(200);

    // Enrolled, and enforcement is off: the next sign-in is complete.
    let (_, next) = app.sign_in(&env, "new@example.com").await;
    assert_eq!(next["mfa"]["required"], false);
    // Enrolment off: no new device.
    patch_settings(&app, &env, json!({"mfa": {"enrollment": "off"}})).await;
    let (other, _) = app.sign_in(&env, "other@example.com").await;
    app.post(&format!("/sdk/v1/{env}/mfa/totp"), Some(&other), json!({}))
        .await
        .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn five_wrong_codes_lock_code_verification_for_the_rest_of_the_window() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let (token, _) = app.sign_in(&env, "locked@example.com").await;
    let (device, _) = enrol_totp(&app, &env, &token).await;
    next_step(&app);
    let right = totp_code(&device.secret, now_s(&app));
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        verify(&app, &env, &token, json!({ "code": wrong }))
            .await
            .assert_problem(400, "invalid_code");
    }
    let refused = verify(&app, &env, &token, json!({ "code": right })).await;
    refused.assert_problem(429, "rate_limited");
    let retry = refused.retry_after();
    assert!((1..=300).contains(&retry), "{retry}");
    // Recovery codes share the counter.
    verify(
        &app,
        &env,
        &token,
        json!({ "recovery_code": device.recovery_codes[0] }),
    )
    .await
    .assert_problem(429, "rate_limited");

    // The lock ends with the window; a guesser who carries on gets 5 more
    // tries, then a lock twice as long.
    app.advance(time::Duration::minutes(5));
    let wrong = |app: &TestApp| {
        let right = totp_code(&device.secret, now_s(app));
        if right == "000000" {
            "111111"
        } else {
            "000000"
        }
    };
    for _ in 0..5 {
        verify(&app, &env, &token, json!({ "code": wrong(&app) }))
            .await
            .assert_problem(400, "invalid_code");
    }
    let right = totp_code(&device.secret, now_s(&app));
    let refused = verify(&app, &env, &token, json!({ "code": right })).await;
    refused.assert_problem(429, "rate_limited");
    let retry = refused.retry_after();
    assert!((301..=600).contains(&retry), "{retry}");
    app.advance(time::Duration::minutes(5));
    let right = totp_code(&device.secret, now_s(&app));
    verify(&app, &env, &token, json!({ "code": right }))
        .await
        .assert_problem(429, "rate_limited");

    // A right code after the lock starts the count over.
    app.advance(time::Duration::minutes(5));
    let right = totp_code(&device.secret, now_s(&app));
    verify(&app, &env, &token, json!({ "code": right }))
        .await
        .assert_status(200);
    for _ in 0..5 {
        verify(&app, &env, &token, json!({ "code": wrong(&app) }))
            .await
            .assert_problem(400, "invalid_code");
    }
    let refused = verify(&app, &env, &token, json!({ "code": right })).await;
    let retry = refused.retry_after();
    assert!((1..=300).contains(&retry), "{retry}");
}

#[tokio::test]
async fn recovery_codes_work_once_and_regenerating_kills_the_old_ones() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let (token, _) = app.sign_in(&env, "recovery@example.com").await;
    let (device, _) = enrol_totp(&app, &env, &token).await;
    let first = &device.recovery_codes[0];
    // Typed in upper case, the code still works, once.
    verify(
        &app,
        &env,
        &token,
        json!({ "recovery_code": first.to_uppercase() }),
    )
    .await
    .assert_status(200);
    verify(&app, &env, &token, json!({ "recovery_code": first }))
        .await
        .assert_problem(400, "invalid_code");
    verify(&app, &env, &token, json!({ "recovery_code": "not a code" }))
        .await
        .assert_problem(400, "validation_failed");
    verify(&app, &env, &token, json!({}))
        .await
        .assert_problem(400, "validation_failed");

    let r = app
        .post(
            &format!("/sdk/v1/{env}/mfa/recovery-codes"),
            Some(&token),
            json!({}),
        )
        .await;
    let fresh = r.assert_status(200)["recovery_codes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(fresh.len(), 10);
    verify(
        &app,
        &env,
        &token,
        json!({ "recovery_code": device.recovery_codes[1] }),
    )
    .await
    .assert_problem(400, "invalid_code");
    verify(&app, &env, &token, json!({ "recovery_code": fresh[0] }))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn an_elevated_token_serves_one_action_of_one_session_once() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let (token, device) =
        enrolled_with_action_enforcement(&app, &env, "elevated@example.com").await;
    let regenerate = format!("/sdk/v1/{env}/mfa/recovery-codes");
    let remove = format!("/sdk/v1/{env}/mfa/devices/{}", device.device_id);
    let with_elevated = |method: Method, path: &str, elevated: &str| {
        app.client
            .request(method, format!("{}{path}", app.base))
            .bearer_auth(&token)
            .header("X-Portcullis-Elevated-Token", elevated)
    };

    // Without an elevated token, both actions are refused.
    app.post(&regenerate, Some(&token), json!({}))
        .await
        .assert_problem(403, "elevated_token_required");
    app.request(Method::DELETE, &remove, Some(&token), None)
        .await
        .assert_problem(403, "elevated_token_required");

    let link = elevated_token(&app, &env, &device, &token, "credential:link").await;
    let header: Value = crate::harness::header_of(&link);
    assert_eq!(header["typ"], "elevated+jwt");
    let claims = claims_of(&link);
    assert_eq!(claims["scope"], "credential:link");
    assert_eq!(claims["sid"], claims_of(&token)["sid"]);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );

    // Not for another scope, and not as a session token.
    app.raw(with_elevated(Method::DELETE, &remove, &link))
        .await
        .assert_problem(403, "elevated_token_required");
    app.session(&env, &link)
        .await
        .assert_problem(401, "invalid_token");
    // Once for its own action, then never again.
    let r = app
        .raw(with_elevated(Method::POST, &regenerate, &link))
        .await;
    let codes = r.assert_status(200)["recovery_codes"].clone();
    app.raw(with_elevated(Method::POST, &regenerate, &link))
        .await
        .assert_problem(403, "elevated_token_required");

    // Not from another session of the same user.
    let (other, _) = app.sign_in(&env, "elevated@example.com").await;
    let others = elevated_token(&app, &env, &device, &other, "credential:unlink").await;
    app.raw(with_elevated(Method::DELETE, &remove, &others))
        .await
        .assert_problem(403, "elevated_token_required");

    // A backend may look at an elevated token by introspection, which
    // does not spend it (introspection.rs).
    let sign = elevated_token(&app, &env, &device, &token, "wallet:sign").await;
    let introspect = format!("/environments/{env}/sessions/introspect");
    for _ in 0..2 {
        let r = app
            .api(Method::POST, &introspect, Some(json!({ "token": sign })))
            .await;
        assert_eq!(r.assert_status(200)["active"], true);
        assert_eq!(r.body["token_type"], "elevated");
        assert_eq!(r.body["scope"], "wallet:sign");
    }

    // Expired after 5 minutes.
    let unlink = elevated_token(&app, &env, &device, &token, "credential:unlink").await;
    app.advance(time::Duration::seconds(301));
    app.raw(with_elevated(Method::DELETE, &remove, &unlink))
        .await
        .assert_problem(403, "elevated_token_required");
    // A fresh one removes the device.
    let unlink = elevated_token(&app, &env, &device, &token, "credential:unlink").await;
    app.raw(with_elevated(Method::DELETE, &remove, &unlink))
        .await
        .assert_status(204);
    let devices = app
        .get(&format!("/sdk/v1/{env}/mfa/devices"), Some(&token))
        .await;
    assert_eq!(devices.assert_status(200)["data"], json!([]));
    // With the last device gone, its recovery codes are gone too.
    verify(&app, &env, &token, json!({ "recovery_code": codes[0] }))
        .await
        .assert_problem(400, "invalid_code");

    // Unknown scopes are refused before any code is checked.
    app.post(
        &format!("/sdk/v1/{env}/mfa/step-up"),
        Some(&token),
        json!({ "scope": "admin:everything", "code": "123456" }),
    )
    .await
    .assert_problem(400, "validation_failed");
}

#[tokio::test]
async fn operators_list_delete_and_reset_a_users_devices() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let (token, result) = app.sign_in(&env, "operator@example.com").await;
    let user_id = result["user"]["id"].as_str().unwrap().to_string();
    let (device, _) = enrol_totp(&app, &env, &token).await;
    let path = format!("/environments/{env}/users/{user_id}/mfa/devices");
    let r = app.api(Method::GET, &path, None).await;
    let listed = r.assert_status(200)["data"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], device.device_id.as_str());
    assert_eq!(listed[0]["kind"], "totp");
    assert!(listed[0].get("secret").is_none());

    app.api(Method::DELETE, &format!("{path}/mfa_unknown"), None)
        .await
        .assert_problem(404, "not_found");
    app.api(
        Method::GET,
        &format!("/environments/{env}/users/usr_unknown/mfa/devices"),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    // Another environment's id for the same user is not found.
    app.api(
        Method::GET,
        &format!("/environments/{}/users/{user_id}/mfa/devices", app.live),
        None,
    )
    .await
    .assert_problem(404, "not_found");

    // Reset: every device and recovery code goes; the session stays.
    let r = app.api(Method::DELETE, &path, None).await;
    assert_eq!(r.assert_status(200)["removed_count"], 1);
    let r = app.api(Method::GET, &path, None).await;
    assert_eq!(r.assert_status(200)["data"], json!([]));
    app.session(&env, &token).await.assert_status(200);
    verify(
        &app,
        &env,
        &token,
        json!({ "recovery_code": device.recovery_codes[0] }),
    )
    .await
    .assert_problem(400, "invalid_code");
    // The user can enrol again, and gets new recovery codes.
    let (again, _) = enrol_totp(&app, &env, &token).await;
    assert_eq!(again.recovery_codes.len(), 10);
    app.api(Method::DELETE, &format!("{path}/{}", again.device_id), None)
        .await
        .assert_status(204);

    // The audit log: each device added by the user, the reset and the
    // removal by the operator's token, newest first.
    let log = app
        .api(Method::GET, &format!("/environments/{env}/events"), None)
        .await;
    let mfa: Vec<(String, String)> = log.assert_status(200)["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_str().unwrap().starts_with("user.mfa"))
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["actor"]["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("user.mfa.device.removed", "api_token"),
        ("user.mfa.device.added", "user"),
        ("user.mfa.reset", "api_token"),
        ("user.mfa.device.added", "user"),
    ];
    assert_eq!(mfa, expected.map(|(k, a)| (k.to_string(), a.to_string())));
}

/// The SDK routes a partial session may call: the ones it needs to finish
/// signing in. Every other route that takes a session token refuses it.
pub(crate) const PARTIAL_SESSION_ROUTES: [(&str, &str); 7] = [
    ("get", "/sdk/v1/{environment_id}/mfa/devices"),
    ("post", "/sdk/v1/{environment_id}/mfa/totp"),
    (
        "post",
        "/sdk/v1/{environment_id}/mfa/totp/{device_id}/confirm",
    ),
    (
        "post",
        "/sdk/v1/{environment_id}/mfa/passkey/register/start",
    ),
    (
        "post",
        "/sdk/v1/{environment_id}/mfa/passkey/register/finish",
    ),
    ("post", "/sdk/v1/{environment_id}/mfa/passkey/challenge"),
    ("post", "/sdk/v1/{environment_id}/mfa/verify"),
];

#[tokio::test]
async fn a_partial_token_is_refused_by_every_route_but_those_that_finish_the_sign_in() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    patch_settings(&app, &env, json!({"mfa": {"enrollment": "required"}})).await;
    let (partial, _) = app.sign_in(&env, "partial@example.com").await;
    assert_eq!(claims_of(&partial)["scope"], "requiresAdditionalAuth");

    // Walk the OpenAPI document, so that a new route needs a decision.
    let doc = app.get("/openapi.json", None).await;
    let paths = doc.assert_status(200)["paths"].as_object().unwrap().clone();
    let mut refused = 0;
    for (path, operations) in &paths {
        for (method, operation) in operations.as_object().unwrap() {
            let takes_session = operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("session_jwt").is_some()));
            if !takes_session || PARTIAL_SESSION_ROUTES.contains(&(method.as_str(), path.as_str()))
            {
                continue;
            }
            let concrete = path
                .replace("{environment_id}", &env)
                .replace("{session_id}", "ses_x")
                .replace("{device_id}", "mfa_x");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = (method != Method::GET && method != Method::DELETE).then(|| json!({}));
            let r = app
                .request(method.clone(), &concrete, Some(&partial), body)
                .await;
            assert_eq!(
                (r.status.as_u16(), r.body["code"].as_str()),
                (403, Some("mfa_required")),
                "{method} {path}"
            );
            refused += 1;
        }
    }
    assert!(refused >= 7, "only {refused} routes were walked");
    for (method, path) in PARTIAL_SESSION_ROUTES {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is not in the document"
        );
    }
}
