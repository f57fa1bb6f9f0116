//! Security notification e-mails (issue 6, point 5): recipients and
//! per-event toggles in the settings, sent from the outbox over SMTP to a
//! real SMTP server, retried when it refuses.

use reqwest::Method;
use serde_json::json;

use crate::harness::Receiver;
use crate::harness::*;

/// Waits until `n` messages whose subject contains `subject` went to
/// `address`.
async fn mails_with(sink: &SmtpSink, address: &str, subject: &str, n: usize) -> Vec<ReceivedMail> {
    eventually(&format!("{n} mails about {subject:?}"), || {
        let found: Vec<ReceivedMail> = sink
            .messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == address) && m.data.contains(subject))
            .collect();
        (found.len() >= n).then_some(found)
    })
    .await
}

#[tokio::test]
async fn security_events_are_mailed_to_the_recipients_over_smtp() {
    let (sink, url) = SmtpSink::start();
    let app = spawn_app_with(|c| c.smtp_url = Some(url)).await;
    let env = app.sandbox.clone();
    let settings = format!("/environments/{env}/settings/security");
    let r = app
        .api(
            Method::PATCH,
            &settings,
            Some(json!({"notifications": {"recipients": ["sec@example.com", "ops@example.com"]}})),
        )
        .await;
    r.assert_status(200);
    // The change that set the recipients is itself a settings change.
    let mail = mails_with(&sink, "sec@example.com", "Security settings changed", 1).await;
    assert!(mail[0].data.contains("environment.settings.updated"));
    assert!(mail[0].data.contains(&env));
    mails_with(&sink, "ops@example.com", "Security settings changed", 1).await;

    // Origins and an environment-wide revocation.
    app.add_origin(&env, "https://domain.com")
        .await
        .assert_status(201);
    let mail = mails_with(&sink, "sec@example.com", "An allowed origin was added", 1).await;
    assert!(mail[0].data.contains("https://domain.com"));
    assert!(mail[0].data.contains("api_token"));
    app.revoke_environment(&env).await.assert_status(200);
    mails_with(&sink, "sec@example.com", "Every session was revoked", 1).await;

    // A toggle turns one kind off; the others still come.
    app.api(
        Method::PATCH,
        &settings,
        Some(json!({"notifications": {"events": {"environment.origin.added": false}}})),
    )
    .await
    .assert_status(200);
    mails_with(&sink, "sec@example.com", "Security settings changed", 2).await;
    let added = app.add_origin(&env, "https://other.com").await;
    let id = added.body["id"].as_str().unwrap().to_string();
    app.api(
        Method::DELETE,
        &format!("/environments/{env}/origins/{id}"),
        None,
    )
    .await
    .assert_status(204);
    mails_with(&sink, "sec@example.com", "An allowed origin was removed", 1).await;
    // Removing the recipients is itself reported, to those removed.
    app.api(
        Method::PATCH,
        &settings,
        Some(json!({"notifications": {"recipients": ["ops@example.com"]}})),
    )
    .await
    .assert_status(200);
    mails_with(&sink, "sec@example.com", "Security settings changed", 3).await;
    mails_with(&sink, "ops@example.com", "Security settings changed", 3).await;
    // The removal was dispatched after the addition: had the addition been
    // mailed, it would be here by now.
    assert_eq!(
        sink.messages()
            .iter()
            .filter(|m| m.data.contains("An allowed origin was added"))
            .count(),
        2,
        "one mail per recipient for the first origin only"
    );
}

#[tokio::test]
async fn notification_settings_are_validated() {
    let app = spawn_app().await;
    let settings = format!("/environments/{}/settings/security", app.sandbox);
    for (patch, field) in [
        (
            json!({"notifications": {"recipients": ["not-an-address"]}}),
            "notifications.recipients[0]",
        ),
        (
            json!({"notifications": {"events": {"user.session.revoked": true}}}),
            "notifications.events.user.session.revoked",
        ),
        (
            json!({"notifications": {"events": {"nope": true}}}),
            "notifications.events.nope",
        ),
    ] {
        let r = app.api(Method::PATCH, &settings, Some(patch)).await;
        r.assert_problem(400, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field);
    }
    let many: Vec<String> = (0..21).map(|i| format!("r{i}@example.com")).collect();
    app.api(
        Method::PATCH,
        &settings,
        Some(json!({"notifications": {"recipients": many}})),
    )
    .await
    .assert_problem(400, "validation_failed");
}

#[tokio::test]
async fn a_disabled_webhook_is_announced_by_mail() {
    let (sink, url) = SmtpSink::start();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(url);
        c.allow_private_webhook_urls = true;
    })
    .await;
    let env = app.sandbox.clone();
    app.api(
        Method::PATCH,
        &format!("/environments/{env}/settings/security"),
        Some(json!({"notifications": {"recipients": ["sec@example.com"]}})),
    )
    .await
    .assert_status(200);
    let receiver = Receiver::start().await;
    receiver.answer(500);
    let (id, _) = app
        .create_webhook(&env, &receiver.url, &["environment.origin.added"])
        .await;
    app.add_origin(&env, "https://domain.com")
        .await
        .assert_status(201);
    receiver
        .wait_through_every_retry(&app, "environment.origin.added")
        .await;
    let mail = mails_with(
        &sink,
        "sec@example.com",
        "A webhook endpoint was disabled",
        1,
    )
    .await;
    assert!(mail[0].data.contains(&id));
    let log = app
        .api(
            Method::GET,
            &format!("/environments/{env}/events?type=environment.webhook.disabled"),
            None,
        )
        .await;
    let events = log.assert_status(200)["events"].as_array().unwrap().clone();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["actor"]["kind"], "system");
}

/// With no recipients in the settings, security e-mails go to the
/// organization's owner and admins (issue 7: members receive them); the
/// lock and API token events among them (issue 6, point 5).
#[tokio::test]
async fn without_recipients_the_owner_and_admins_are_mailed_about_locks_and_tokens() {
    let (sink, url) = SmtpSink::start();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(url);
        c.owner_email =
            portcullis::domain::email::EmailAddress::parse("owner@example.com").unwrap();
    })
    .await;
    let env = app.sandbox.clone();
    for (email, role) in [
        ("admin@example.com", "admin"),
        ("viewer@example.com", "viewer"),
    ] {
        app.api(
            Method::POST,
            "/members",
            Some(json!({ "email": email, "role": role })),
        )
        .await
        .assert_status(201);
    }
    app.set_locked(&env, true).await.assert_status(200);
    app.set_locked(&env, false).await.assert_status(200);
    let (id, _) = app.create_token("viewer", Some(&env)).await;
    app.api(Method::DELETE, &format!("/tokens/{id}"), None)
        .await
        .assert_status(204);
    for address in ["owner@example.com", "admin@example.com"] {
        let mail = mails_with(&sink, address, "The environment was locked", 1).await;
        assert!(mail[0].data.contains("environment.locked"));
        mails_with(&sink, address, "The environment was unlocked", 1).await;
        mails_with(&sink, address, "An API token was created", 1).await;
        let mail = mails_with(&sink, address, "An API token was deleted", 1).await;
        assert!(mail[0].data.contains(&id));
    }
    // Everything above was sent; the viewer got none of it.
    assert!(
        sink.messages()
            .iter()
            .all(|m| !m.to.iter().any(|t| t == "viewer@example.com"))
    );
}

/// A mail server that refuses: the mail is retried on the webhooks'
/// schedule (on the test clock) until it is accepted, and sent once.
#[tokio::test]
async fn a_refused_mail_is_retried_until_the_server_takes_it() {
    let (sink, url) = SmtpSink::start();
    let app = spawn_app_with(|c| c.smtp_url = Some(url)).await;
    let env = app.sandbox.clone();
    sink.refuse(true);
    app.api(
        Method::PATCH,
        &format!("/environments/{env}/settings/security"),
        Some(json!({"notifications": {"recipients": ["sec@example.com"]}})),
    )
    .await
    .assert_status(200);
    eventually("the server refuses the first attempt", || {
        (sink.refused() == 1).then_some(())
    })
    .await;
    // The next attempt comes when the clock says so (5 s, +20 % jitter).
    app.advance(time::Duration::seconds(7));
    eventually("the server refuses the second attempt", || {
        (sink.refused() == 2).then_some(())
    })
    .await;
    sink.refuse(false);
    app.advance(time::Duration::minutes(7));
    let mail = mails_with(&sink, "sec@example.com", "Security settings changed", 1).await;
    assert!(mail[0].data.contains("environment.settings.updated"));
    // Sent once, and tried no more after that.
    app.advance(time::Duration::hours(12));
    app.set_locked(&env, true).await.assert_status(200);
    mails_with(&sink, "sec@example.com", "The environment was locked", 1).await;
    let settings_mails = sink
        .messages()
        .iter()
        .filter(|m| m.data.contains("Security settings changed"))
        .count();
    assert_eq!(settings_mails, 1);
    assert_eq!(sink.refused(), 2);
}

/// The placeholder owner a first start makes when no address is configured
/// (`owner@portcullis.invalid`) is never mailed; the admins are.
#[tokio::test]
async fn the_placeholder_owner_is_not_mailed() {
    let (sink, url) = SmtpSink::start();
    let app = spawn_app_with(|c| c.smtp_url = Some(url)).await;
    app.api(
        Method::POST,
        "/members",
        Some(json!({ "email": "admin@example.com", "role": "admin" })),
    )
    .await
    .assert_status(201);
    app.set_locked(&app.sandbox, true).await.assert_status(200);
    mails_with(&sink, "admin@example.com", "The environment was locked", 1).await;
    // Mails go out in the order they fell due: once the unlock's has come,
    // a lock mail to anyone else would have come before it.
    app.set_locked(&app.sandbox, false).await.assert_status(200);
    mails_with(
        &sink,
        "admin@example.com",
        "The environment was unlocked",
        1,
    )
    .await;
    assert!(
        sink.messages()
            .iter()
            .all(|m| m.to.iter().all(|t| !t.ends_with(".invalid")))
    );
}
