//! E-mail one-time-code sign-in (issue point 4).

use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn a_code_signs_in_once_and_creates_the_user_the_first_time() {
    let app = spawn_app().await;
    let started = app.start_email(&app.sandbox, "Ada@Example.com").await;
    let body = started.assert_status(202);
    let vid = body["verification_id"].as_str().unwrap().to_string();
    assert!(vid.starts_with("vrf_"));
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));

    let code = app.take_code("ada@example.com").await;
    assert_eq!(code.len(), 6);
    let first = app.verify_email(&app.sandbox, &vid, &code).await;
    let result = first.assert_status(200);
    assert_eq!(result["user"]["email"], "ada@example.com");
    assert_eq!(result["mfa"]["required"], false);
    let user_id = result["user"]["id"].as_str().unwrap().to_string();

    // Single use: the same code again is refused.
    app.verify_email(&app.sandbox, &vid, &code)
        .await
        .assert_problem(400, "invalid_code");

    // A second sign-in finds the same user, with a new session.
    let (_, again) = app.sign_in(&app.sandbox, "ada@example.com").await;
    assert_eq!(again["user"]["id"], user_id.as_str());
    assert_ne!(again["session"]["id"], result["session"]["id"]);
    let users = app
        .api(
            reqwest::Method::GET,
            &format!("/environments/{}/users", app.sandbox),
            None,
        )
        .await;
    assert_eq!(
        users.assert_status(200)["data"].as_array().unwrap().len(),
        1
    );
}

#[tokio::test]
async fn the_answer_to_start_does_not_reveal_whether_the_address_is_known() {
    let app = spawn_app().await;
    app.sign_in(&app.sandbox, "known@example.com").await;
    let known = app.start_email(&app.sandbox, "known@example.com").await;
    let unknown = app.start_email(&app.sandbox, "unknown@example.com").await;
    assert_eq!(known.status, unknown.status);
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&known.body), keys(&unknown.body));
    assert_eq!(known.body["expires_at"], unknown.body["expires_at"]);
}

#[tokio::test]
async fn five_wrong_codes_kill_the_verification_even_for_the_right_code() {
    let app = spawn_app().await;
    let (vid, code) = app
        .start_and_read_code(&app.sandbox, "eve@example.com")
        .await;
    app.spend_wrong_attempts(&app.sandbox, &vid, &code, 5).await;
    app.verify_email(&app.sandbox, &vid, &code)
        .await
        .assert_problem(400, "invalid_code");
}

#[tokio::test]
async fn four_wrong_codes_still_leave_the_right_one_working() {
    let app = spawn_app().await;
    let (vid, code) = app
        .start_and_read_code(&app.sandbox, "bob@example.com")
        .await;
    app.spend_wrong_attempts(&app.sandbox, &vid, &code, 4).await;
    app.verify_email(&app.sandbox, &vid, &code)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_code_expires_after_ten_minutes() {
    let app = spawn_app().await;
    let (vid, code) = app
        .start_and_read_code(&app.sandbox, "late@example.com")
        .await;
    app.advance(time::Duration::minutes(10));
    app.verify_email(&app.sandbox, &vid, &code)
        .await
        .assert_problem(400, "invalid_code");
}

#[tokio::test]
async fn a_code_just_inside_ten_minutes_works() {
    let app = spawn_app().await;
    let (vid, code) = app
        .start_and_read_code(&app.sandbox, "ontime@example.com")
        .await;
    app.advance(time::Duration::seconds(599));
    app.verify_email(&app.sandbox, &vid, &code)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_verification_belongs_to_its_environment() {
    let app = spawn_app().await;
    let (vid, code) = app
        .start_and_read_code(&app.sandbox, "cross@example.com")
        .await;
    app.verify_email(&app.live, &vid, &code)
        .await
        .assert_problem(400, "invalid_code");
    // The failed cross-environment try did not spend or consume it.
    app.verify_email(&app.sandbox, &vid, &code)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn malformed_addresses_and_codes_are_validation_errors() {
    let app = spawn_app().await;
    for bad in ["", "not-an-address", "a@b", "a b@example.com"] {
        let r = app.start_email(&app.sandbox, bad).await;
        r.assert_problem(400, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "email");
    }
    let r = app.verify_email(&app.sandbox, "vrf_x", "12ab56").await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "code");
    app.verify_email(&app.sandbox, "vrf_unknown", "123456")
        .await
        .assert_problem(400, "invalid_code");
    let r = app
        .post(
            &format!("/sdk/v1/{}/auth/email/verify", app.sandbox),
            None,
            json!({"verification_id": "vrf_x"}),
        )
        .await;
    r.assert_problem(400, "validation_failed");
}

#[tokio::test]
async fn the_code_is_stored_only_as_a_keyed_hash() {
    let app = spawn_app().await;
    app.start_email(&app.sandbox, "hash@example.com")
        .await
        .assert_status(202);
    let code = app.take_code("hash@example.com").await;
    let bytes = app.stop().await.stored_bytes();
    assert!(
        !bytes.windows(code.len()).any(|w| w == code.as_bytes()),
        "the code appears in the database"
    );
}

#[tokio::test]
async fn codes_travel_over_smtp_when_it_is_configured() {
    let (sink, url) = SmtpSink::start();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(url);
        c.smtp_from = "Acme Sign-in <signin@acme.test>".parse().unwrap();
    })
    .await;
    let vid = app
        .start_email(&app.sandbox, "ada@example.com")
        .await
        .assert_status(202)["verification_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mail = sink.wait_for("ada@example.com").await;
    assert_eq!(mail.from, "signin@acme.test");
    assert!(
        mail.data
            .contains("From: \"Acme Sign-in\" <signin@acme.test>")
            || mail.data.contains("From: Acme Sign-in <signin@acme.test>"),
        "{}",
        mail.data
    );
    let code = code_in(&mail.data).expect("a code in the mail");
    app.verify_email(&app.sandbox, &vid, &code)
        .await
        .assert_status(200);
    // Nothing went to the file transport.
    assert!(
        std::fs::read_dir(app.data_dir.join("mail"))
            .map(|d| d.count() == 0)
            .unwrap_or(true)
    );
}

#[tokio::test]
async fn an_unreachable_smtp_server_is_an_internal_error_that_leaks_nothing() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(|c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let r = app.start_email(&app.sandbox, "ada@example.com").await;
    r.assert_problem(500, "internal");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("correlation id")
    );
    app.get("/healthz", None).await.assert_status(200);
}

#[tokio::test]
async fn a_new_code_kills_the_previous_one() {
    let app = spawn_app().await;
    let (first_vid, first_code) = app
        .start_and_read_code(&app.sandbox, "ada@example.com")
        .await;
    let (second_vid, second_code) = app
        .start_and_read_code(&app.sandbox, "ada@example.com")
        .await;
    app.verify_email(&app.sandbox, &first_vid, &first_code)
        .await
        .assert_problem(400, "invalid_code");
    app.verify_email(&app.sandbox, &second_vid, &second_code)
        .await
        .assert_status(200);
}
