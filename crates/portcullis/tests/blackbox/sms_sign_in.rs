//! Sign-in by SMS code (docs/sign-in.md, "SMS codes"): off until the
//! environment turns it on; a code texted to an international number signs
//! in once, as the number's user; numbers, calling codes and the hourly
//! cap are checked before anything is stored or sent; the providers
//! (Twilio's Messages API, the operator's signed webhook) are real HTTP
//! servers the tests run, and a provider that fails or hangs costs a
//! bounded wait and never puts the code in the log.

use std::time::Duration;

use base64::Engine;
use portcullis::clock::Clock;
use portcullis::config::{SmsConfig, SmsProvider};
use portcullis::sms::TwilioSender;
use reqwest::Method;
use serde_json::{Value, json};

use crate::cli::{Server, portcullis_on};
use crate::harness::{
    Receiver, Storage, TestApp, claims_of, eventually, spawn_app, spawn_app_with, wrong_code,
};

const UK_MOBILE: &str = "+447400123456";
const US_NUMBER: &str = "+12015550123";
const TWILIO_PATH: &str = "/2010-04-01/Accounts/AC0123/Messages.json";

async fn sms_app() -> TestApp {
    let app = spawn_app().await;
    app.enable_sms(&app.sandbox, json!({})).await;
    app
}

fn verification_id(started: &Value) -> String {
    started["verification_id"]
        .as_str()
        .expect("verification id")
        .to_string()
}

#[tokio::test]
async fn sms_sign_in_is_off_until_the_environment_turns_it_on() {
    let app = spawn_app().await;
    let refused = app.start_sms(&app.sandbox, UK_MOBILE).await;
    refused.assert_problem(403, "forbidden");
    assert!(
        refused.body["detail"].as_str().unwrap().contains("SMS"),
        "{:?}",
        refused.body
    );
    app.verify_sms(&app.sandbox, "vrf_x", "123456")
        .await
        .assert_problem(403, "forbidden");
    assert!(app.texts().is_empty());

    app.enable_sms(&app.sandbox, json!({})).await;
    app.start_sms(&app.sandbox, UK_MOBILE)
        .await
        .assert_status(202);
    // E-mail can be turned off, but not every method at once.
    let path = format!("/environments/{}/settings/security", app.sandbox);
    app.api(
        Method::PATCH,
        &path,
        Some(json!({"sign_in": {"email": {"enabled": false}}})),
    )
    .await
    .assert_status(200);
    app.start_email(&app.sandbox, "ada@example.com")
        .await
        .assert_problem(403, "forbidden");
    app.api(
        Method::PATCH,
        &path,
        Some(json!({"sign_in": {"sms": {"enabled": false}}})),
    )
    .await
    .assert_problem(400, "validation_failed");
}

#[tokio::test]
async fn a_texted_code_signs_the_numbers_user_in_once() {
    let app = sms_app().await;
    let started = app.start_sms(&app.sandbox, "+44 7400 123456").await;
    let first = started.assert_status(202).clone();
    let code = app.take_sms_code(UK_MOBILE).await;
    let vid = verification_id(&first);
    app.verify_sms(&app.sandbox, &vid, wrong_code(&code))
        .await
        .assert_problem(400, "invalid_code");
    let signed_in = app
        .verify_sms(&app.sandbox, &vid, &code)
        .await
        .assert_status(200)
        .clone();
    let claims = claims_of(signed_in["token"].as_str().unwrap());
    assert_eq!(claims["phone_number"], UK_MOBILE);
    assert_eq!(claims["amr"], json!(["sms"]));
    assert!(claims.get("email").is_none(), "{claims}");
    assert_eq!(signed_in["user"]["email"], Value::Null);
    assert_eq!(
        signed_in["user"]["verified_credentials"],
        json!([{"kind": "phone", "value": UK_MOBILE}])
    );
    // Used once.
    app.verify_sms(&app.sandbox, &vid, &code)
        .await
        .assert_problem(400, "invalid_code");

    // The same number again is the same user, with one credential.
    let (token, again) = app.sign_in_by_sms(&app.sandbox, UK_MOBILE).await;
    assert_eq!(again["user"]["id"], signed_in["user"]["id"]);
    let credentials = app
        .get(
            &format!("/sdk/v1/{}/credentials", app.sandbox),
            Some(&token),
        )
        .await
        .assert_status(200)["data"]
        .clone();
    assert_eq!(credentials.as_array().unwrap().len(), 1, "{credentials}");
    assert_eq!(credentials[0]["kind"], "phone");
    assert_eq!(credentials[0]["value"], UK_MOBILE);
    // The management API finds the user, phone and all.
    let user = app
        .api(
            Method::GET,
            &format!(
                "/environments/{}/users/{}",
                app.sandbox,
                again["user"]["id"].as_str().unwrap()
            ),
            None,
        )
        .await
        .assert_status(200)
        .clone();
    assert_eq!(user["verified_credentials"][0]["value"], UK_MOBILE);

    // A known and an unknown number get the same answer.
    let known = app.start_sms(&app.sandbox, UK_MOBILE).await;
    let unknown = app.start_sms(&app.sandbox, US_NUMBER).await;
    let shape = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(
        shape(known.assert_status(202)),
        shape(unknown.assert_status(202))
    );
}

#[tokio::test]
async fn a_code_is_good_for_its_own_method_and_environment_only() {
    let app = sms_app().await;
    let (email_vid, email_code) = app
        .start_and_read_code(&app.sandbox, "ada@example.com")
        .await;
    // An e-mail code at the SMS route: refused, and left unused.
    app.verify_sms(&app.sandbox, &email_vid, &email_code)
        .await
        .assert_problem(400, "invalid_code");
    app.verify_email(&app.sandbox, &email_vid, &email_code)
        .await
        .assert_status(200);

    let started = app.start_sms(&app.sandbox, UK_MOBILE).await;
    let vid = verification_id(started.assert_status(202));
    let code = app.take_sms_code(UK_MOBILE).await;
    app.verify_email(&app.sandbox, &vid, &code)
        .await
        .assert_problem(400, "invalid_code");
    app.enable_sms(&app.live, json!({})).await;
    app.verify_sms(&app.live, &vid, &code)
        .await
        .assert_problem(400, "invalid_code");
    app.verify_sms(&app.sandbox, &vid, &code)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn numbers_that_cannot_get_a_code_are_refused_and_nothing_is_sent() {
    let app = sms_app().await;
    for bad in [
        "07400 123456",  // not international
        "+44740012345",  // too short for its country
        "+449012345678", // premium rate
        "+44 7400 123456 ext. 12",
        "call me",
        "",
    ] {
        let refused = app.start_sms(&app.sandbox, bad).await;
        refused.assert_problem(400, "validation_failed");
        assert_eq!(refused.body["errors"][0]["field"], "phone", "{bad}");
    }
    app.post(
        &format!("/sdk/v1/{}/auth/sms/start", app.sandbox),
        None,
        json!({"phone": 447400123456_i64}),
    )
    .await
    .assert_problem(400, "validation_failed");

    app.enable_sms(&app.sandbox, json!({"allowed_country_codes": [44]}))
        .await;
    let refused = app.start_sms(&app.sandbox, US_NUMBER).await;
    refused.assert_problem(400, "validation_failed");
    assert!(
        refused.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("+1"),
        "{:?}",
        refused.body
    );
    assert!(app.texts().is_empty(), "{:?}", app.texts());
    app.start_sms(&app.sandbox, UK_MOBILE)
        .await
        .assert_status(202);
    assert_eq!(app.texts().len(), 1);
}

#[tokio::test]
async fn the_hourly_cap_stops_texts_until_the_next_hour() {
    let app = spawn_app().await;
    app.enable_sms(&app.sandbox, json!({"max_per_hour": 2}))
        .await;
    // Start at the top of an hour: the cap counts clock hours.
    let now = app.clock.now().unix_timestamp();
    app.clock
        .advance(time::Duration::seconds(3600 - now.rem_euclid(3600)));
    for number in [UK_MOBILE, US_NUMBER] {
        app.start_sms(&app.sandbox, number).await.assert_status(202);
    }
    let refused = app.start_sms(&app.sandbox, "+15062345678").await;
    refused.assert_problem(429, "rate_limited");
    assert_eq!(app.texts().len(), 2, "the refused one was not sent");
    // Another environment has its own cap.
    app.enable_sms(&app.live, json!({"max_per_hour": 2})).await;
    app.start_sms(&app.live, "+15062345678")
        .await
        .assert_status(202);

    app.clock.advance(time::Duration::minutes(59));
    app.start_sms(&app.sandbox, "+15062345678")
        .await
        .assert_problem(429, "rate_limited");
    app.clock.advance(time::Duration::minutes(1));
    app.start_sms(&app.sandbox, "+15062345678")
        .await
        .assert_status(202);
}

fn twilio(receiver: &Receiver, deadline: Duration) -> SmsConfig {
    let base_url = receiver.url.trim_end_matches(TWILIO_PATH).to_string();
    SmsConfig {
        provider: SmsProvider::Twilio {
            base_url,
            account_sid: "AC0123".into(),
            auth_token: "twilio-auth-token".to_string().into(),
            sender: TwilioSender::From("+15005550006".into()),
        },
        send_deadline: deadline,
    }
}

/// The form fields of a request Twilio got.
fn form(raw: &[u8]) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(raw).into_owned().collect()
}

#[tokio::test]
async fn twilio_gets_the_code_with_basic_auth_and_a_5xx_is_tried_again() {
    let receiver = Receiver::start_at(TWILIO_PATH).await;
    receiver.answer(201);
    receiver.answer_in_turn(&[500]);
    let config = twilio(&receiver, Duration::from_secs(5));
    let app = spawn_app_with(move |c| c.sms = config).await;
    app.enable_sms(&app.sandbox, json!({})).await;
    let started = app.start_sms(&app.sandbox, UK_MOBILE).await;
    let vid = verification_id(started.assert_status(202));

    let received = receiver.received();
    assert_eq!(
        received.iter().map(|r| r.answered).collect::<Vec<_>>(),
        [500, 201]
    );
    let request = &received[1];
    let expected = base64::engine::general_purpose::STANDARD.encode("AC0123:twilio-auth-token");
    assert_eq!(request.header("authorization"), format!("Basic {expected}"));
    assert_eq!(
        request.header("content-type"),
        "application/x-www-form-urlencoded"
    );
    let fields = form(&request.raw);
    assert_eq!(fields["To"], UK_MOBILE);
    assert_eq!(fields["From"], "+15005550006");
    let code: String = fields["Body"].chars().take(6).collect();
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{fields:?}");
    app.verify_sms(&app.sandbox, &vid, &code)
        .await
        .assert_status(200);

    // Refused by the provider (a 4xx): no retry, 500 for the client.
    receiver.answer(400);
    app.start_sms(&app.sandbox, US_NUMBER)
        .await
        .assert_problem(500, "internal");
    assert_eq!(receiver.received().len(), 3);
}

#[tokio::test]
async fn the_operators_endpoint_gets_a_signed_message() {
    let receiver = Receiver::start().await;
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let config = SmsConfig {
        provider: SmsProvider::Webhook {
            url: receiver.url.clone(),
            secret: secret.to_string().into(),
        },
        send_deadline: Duration::from_secs(5),
    };
    let app = spawn_app_with(move |c| c.sms = config).await;
    app.enable_sms(&app.sandbox, json!({})).await;
    let started = app.start_sms(&app.sandbox, UK_MOBILE).await;
    let vid = verification_id(started.assert_status(202));
    let received = receiver.received();
    let [message] = received.as_slice() else {
        panic!("one message: {received:?}")
    };
    assert!(message.signed_with(secret), "{:?}", message.headers);
    assert_eq!(message.kind(), "sms.code");
    let data = &message.body["data"];
    assert_eq!(data["to"], UK_MOBILE);
    assert_eq!(data["environment_id"], app.sandbox.as_str());
    let code = data["code"].as_str().unwrap();
    assert!(data["body"].as_str().unwrap().contains(code));
    app.verify_sms(&app.sandbox, &vid, code)
        .await
        .assert_status(200);
}

/// The real binary with Twilio configured in its file, pointed at a
/// receiver that never answers: the start answers 500 once the deadline
/// has passed, and the log names neither the code nor the auth token.
#[tokio::test]
async fn a_provider_that_hangs_costs_the_deadline_and_the_log_keeps_the_code_out() {
    let receiver = Receiver::start_at(TWILIO_PATH).await;
    receiver.hold();
    let storage = Storage::new();
    let config = storage.data_dir.join("portcullis.toml");
    let base_url = receiver.url.trim_end_matches(TWILIO_PATH);
    std::fs::write(
        &config,
        format!(
            "[sms]\nprovider = \"twilio\"\ntwilio_base_url = \"{base_url}\"\n\
             twilio_account_sid = \"AC0123\"\ntwilio_auth_token = \"twilio-auth-token\"\n\
             twilio_from = \"+15005550006\"\nsend_deadline_ms = 1000\n"
        ),
    )
    .expect("the configuration is written");
    let mut cmd = portcullis_on(&storage);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .env("RUST_LOG", "debug");
    let server = Server::start(&mut cmd).await;
    let token = std::fs::read_to_string(storage.data_dir.join("owner-token"))
        .expect("the owner token")
        .trim()
        .to_string();
    let env = crate::cli::init_json(&storage)["environments"]["sandbox"]
        .as_str()
        .expect("the sandbox")
        .to_string();
    let client = reqwest::Client::new();
    let patched = client
        .patch(format!(
            "{}/api/v1/environments/{env}/settings/security",
            server.base
        ))
        .bearer_auth(&token)
        .json(&json!({"sign_in": {"sms": {"enabled": true}}}))
        .send()
        .await
        .expect("the settings answer");
    assert_eq!(patched.status(), 200);

    let answer = client
        .post(format!("{}/sdk/v1/{env}/auth/sms/start", server.base))
        .json(&json!({"phone": UK_MOBILE}))
        .send()
        .await
        .expect("an answer within the deadline");
    assert_eq!(answer.status(), 500);
    let body: Value = answer.json().await.expect("problem+json");
    assert_eq!(body["code"], "internal");

    let received = receiver.received();
    assert!(!received.is_empty());
    let code: String = form(&received[0].raw)["Body"].chars().take(6).collect();
    let log = eventually("the failure is logged", || {
        let log = server.log_text();
        log.contains("sending the SMS failed").then_some(log)
    })
    .await;
    assert!(!log.contains(&code), "the code reached the log");
    assert!(
        !log.contains("twilio-auth-token"),
        "the auth token reached the log"
    );
    receiver.release();
}
