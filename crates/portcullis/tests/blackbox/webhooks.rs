//! Webhooks (issue 6): registration, signed deliveries of session events
//! (checked with the `standardwebhooks` crate), the fan-out of wide
//! revocations, retries with backoff on the test clock, every attempt
//! recorded, auto-disable, ping and redelivery, and SSRF refusals.

use reqwest::Method;
use serde_json::json;
use time::Duration;

use crate::harness::Receiver;
use crate::harness::*;

fn hooks(env: &str) -> String {
    format!("/environments/{env}/webhooks")
}

#[tokio::test]
async fn webhooks_are_registered_listed_changed_and_deleted() {
    let app = spawn_app_for_webhooks().await;
    let env = app.sandbox.clone();
    let r = app
        .api(
            Method::POST,
            &hooks(&env),
            Some(json!({"url": "https://hooks.example.com/portcullis", "events": ["user.session.revoked"], "description": "prod"})),
        )
        .await;
    let created = r.assert_status(201).clone();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("whk_"));
    let secret = created["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 30,
        "{secret}"
    );
    assert_eq!(created["enabled"], true);
    assert_eq!(created["events"], json!(["user.session.revoked"]));
    // The secret is shown once.
    let one = app
        .api(Method::GET, &format!("{}/{id}", hooks(&env)), None)
        .await;
    assert_eq!(
        one.assert_status(200)["url"],
        "https://hooks.example.com/portcullis"
    );
    assert!(one.body.get("secret").is_none());
    let list = app.api(Method::GET, &hooks(&env), None).await;
    assert_eq!(list.assert_status(200)["data"].as_array().unwrap().len(), 1);
    assert!(!list.text.contains(secret));
    // Not at rest either: not the text, its base64, the key, nor its hex.
    use base64::Engine;
    let encoded = secret.trim_start_matches("whsec_");
    let key = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    let stored = app.storage.stored_bytes();
    for needle in [
        encoded.as_bytes().to_vec(),
        key.clone(),
        hex::encode(&key).into_bytes(),
    ] {
        assert!(!stored.windows(needle.len()).any(|w| w == needle.as_slice()));
    }

    // Changes; bad input is refused and changes nothing.
    let r = app
        .api(
            Method::PATCH,
            &format!("{}/{id}", hooks(&env)),
            Some(json!({"events": [], "enabled": false})),
        )
        .await;
    assert_eq!(r.assert_status(200)["enabled"], false);
    assert_eq!(r.body["events"], json!([]));
    for (body, field) in [
        (json!({"events": ["user.*"]}), "events"),
        (json!({"url": "ftp://x.example.com"}), "url"),
        (json!({"url": "not a url"}), "url"),
        (json!({"description": "x".repeat(201)}), "description"),
    ] {
        let r = app
            .api(Method::PATCH, &format!("{}/{id}", hooks(&env)), Some(body))
            .await;
        r.assert_problem(400, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field);
    }
    app.api(
        Method::PATCH,
        &format!("{}/{id}", hooks(&env)),
        Some(json!({"nope": 1})),
    )
    .await
    .assert_problem(400, "validation_failed");
    app.api(Method::POST, &hooks(&env), Some(json!({"events": []})))
        .await
        .assert_problem(400, "validation_failed");

    // Rotation: a new secret, shown once.
    let r = app
        .api(
            Method::POST,
            &format!("{}/{id}/rotate-secret", hooks(&env)),
            None,
        )
        .await;
    let rotated = r.assert_status(200)["secret"].as_str().unwrap().to_string();
    assert!(rotated.starts_with("whsec_") && rotated != secret);

    // At most 10 per environment.
    for i in 1..10 {
        app.create_webhook(&env, &format!("https://h{i}.example.com/"), &[])
            .await;
    }
    app.api(
        Method::POST,
        &hooks(&env),
        Some(json!({"url": "https://eleven.example.com/"})),
    )
    .await
    .assert_problem(400, "validation_failed");

    // Deleting; unknown and other environments' ids are not found.
    for missing in [
        format!("/environments/{}/webhooks/{id}", app.live),
        format!("{}/whk_00000000000000000000000000000000", hooks(&env)),
        format!("{}/nope", hooks(&env)),
    ] {
        app.api(Method::GET, &missing, None)
            .await
            .assert_problem(404, "not_found");
    }
    let one = format!("{}/{id}", hooks(&env));
    app.api(Method::DELETE, &one, None).await.assert_status(204);
    app.api(Method::DELETE, &one, None)
        .await
        .assert_problem(404, "not_found");

    // Each change is in the audit log, with the host but not the URL.
    let log = app
        .api(
            Method::GET,
            &format!("/environments/{env}/events?limit=100"),
            None,
        )
        .await;
    let of_this: Vec<&str> = log.assert_status(200)["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["data"]["webhook_id"] == id.as_str())
        .map(|e| {
            assert_eq!(e["data"]["host"], "hooks.example.com");
            assert!(!e.to_string().contains("/portcullis"));
            e["type"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        of_this,
        [
            "environment.webhook.deleted",
            "environment.webhook.secret_rotated",
            "environment.webhook.updated",
            "environment.webhook.created",
        ]
    );
}

#[tokio::test]
async fn destinations_are_checked_against_request_forgery() {
    // Without --allow-private-webhook-urls (the default).
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    for url in [
        "http://hooks.example.com/",
        "https://127.0.0.1/hook",
        "https://localhost:8443/hook",
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://2130706433/hook",
        "https://user:pass@hooks.example.com/",
    ] {
        let r = app
            .api(Method::POST, &hooks(&env), Some(json!({ "url": url })))
            .await;
        r.assert_problem(400, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "url", "{url}");
    }
    app.api(
        Method::POST,
        &hooks(&env),
        Some(json!({ "url": "https://hooks.example.com/ok" })),
    )
    .await
    .assert_status(201);
}

#[tokio::test]
async fn session_revocations_are_delivered_signed_with_the_session() {
    let app = spawn_app_for_webhooks().await;
    let env = app.sandbox.clone();
    let receiver = Receiver::start().await;
    let (_, secret) = app.create_webhook(&env, &receiver.url, &[]).await;

    // The user logs out: user.session.revoked.
    let (token, signed_in) = app.sign_in(&env, "ada@example.com").await;
    let sid = signed_in["session"]["id"].as_str().unwrap().to_string();
    let uid = signed_in["user"]["id"].as_str().unwrap().to_string();
    app.post(&format!("/sdk/v1/{env}/logout"), Some(&token), json!({}))
        .await
        .assert_status(204);
    let got = receiver.wait_for("user.session.revoked", 1).await;
    let d = &got[0];
    assert!(
        d.signed_with(&secret),
        "signature: {}",
        d.header("webhook-signature")
    );
    assert!(!d.signed_with("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    assert_eq!(d.header("content-type"), "application/json");
    assert!(d.id().starts_with("evt_"));
    assert_eq!(d.body["id"], d.id());
    assert_eq!(d.body["environment_id"], env.as_str());
    assert!((d.timestamp() - app.clock_now_s()).abs() <= 2);
    let session = &d.body["data"];
    assert_eq!(session["id"], sid.as_str());
    assert_eq!(session["user_id"], uid.as_str());
    assert_eq!(session["environment_id"], env.as_str());
    assert_eq!(session["revoked_by"]["kind"], "user");
    for field in [
        "created_at",
        "expires_at",
        "revoked_at",
        "ip_address",
        "user_agent",
    ] {
        assert!(session.get(field).is_some(), "{field} in {session}");
    }

    // An API token revokes one session: admin.user.session.revoked.
    let (_, second) = app.sign_in(&env, "ada@example.com").await;
    let sid2 = second["session"]["id"].as_str().unwrap();
    app.revoke_session(&env, sid2).await.assert_status(200);
    let got = receiver.wait_for("admin.user.session.revoked", 1).await;
    assert_eq!(got[0].body["data"]["id"], sid2);
    assert_eq!(got[0].body["data"]["revoked_by"]["kind"], "api_token");
    assert!(got[0].signed_with(&secret));
    // Each sign-in wrote user.session.created; the first also user.created.
    let created = receiver.wait_for("user.session.created", 2).await;
    assert_eq!(created[0].body["data"]["id"], sid.as_str());
    assert_eq!(created[1].body["data"]["id"], sid2);
    let users = receiver.wait_for("user.created", 1).await;
    assert_eq!(users[0].body["data"]["id"], uid.as_str());
    assert_eq!(users[0].body["data"]["email"], "ada@example.com");
    assert_eq!(
        receiver
            .received()
            .iter()
            .filter(|r| r.kind() == "user.created")
            .count(),
        1
    );
    // Revoking it again changes nothing and emits nothing.
    app.revoke_session(&env, sid2).await.assert_status(200);
    app.revoke_session(&env, &sid).await.assert_status(200);

    // The audit log has both, with who did it and from where.
    let log = app
        .api(Method::GET, &format!("/environments/{env}/events"), None)
        .await;
    let events = log.assert_status(200)["events"].as_array().unwrap().clone();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .filter(|k| k.contains("revoked"))
        .collect();
    assert_eq!(
        kinds,
        ["admin.user.session.revoked", "user.session.revoked"]
    );
    assert_eq!(events[0]["actor"]["kind"], "api_token");
    assert_eq!(events[1]["actor"]["kind"], "user");
    assert_eq!(events[1]["actor"]["id"], uid.as_str());
    assert_eq!(events[1]["actor"]["ip_address"], "127.0.0.1");
    // No duplicate deliveries.
    assert_eq!(
        receiver
            .received()
            .iter()
            .filter(|r| r.kind().contains("revoked"))
            .count(),
        2
    );
}

#[tokio::test]
async fn wide_revocations_fan_out_into_one_event_per_session() {
    let app = spawn_app_for_webhooks().await;
    let env = app.sandbox.clone();
    let receiver = Receiver::start().await;
    let (_, secret) = app.create_webhook(&env, &receiver.url, &[]).await;
    let mut alive = vec![];
    for i in 0..3 {
        let (_, r) = app.sign_in(&env, &format!("u{i}@example.com")).await;
        alive.push(r["session"]["id"].as_str().unwrap().to_string());
    }
    // One session is revoked already, one has expired: neither is revoked
    // again by the environment.
    app.revoke_session(&env, &alive.remove(0))
        .await
        .assert_status(200);
    receiver.wait_for("admin.user.session.revoked", 1).await;
    let (_, r) = app.sign_in(&env, "twice@example.com").await;
    let uid = r["user"]["id"].as_str().unwrap().to_string();
    let (_, r2) = app.sign_in(&env, "twice@example.com").await;
    alive.push(r["session"]["id"].as_str().unwrap().to_string());
    alive.push(r2["session"]["id"].as_str().unwrap().to_string());

    // A user-wide revocation: one event per session, and the summary.
    let r = app.revoke_user(&env, &uid).await;
    assert_eq!(r.assert_status(200)["revoked_count"], 2);
    let summary = receiver.wait_for("user.sessions.revoked", 1).await;
    assert_eq!(summary[0].body["data"]["revoked_count"], 2);
    assert_eq!(summary[0].body["data"]["user_id"], uid.as_str());
    let per_session = receiver.wait_for("admin.user.session.revoked", 3).await;
    let mut ids: Vec<&str> = per_session[1..]
        .iter()
        .map(|d| d.body["data"]["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut expected = alive[2..].iter().map(String::as_str).collect::<Vec<_>>();
    expected.sort();
    assert_eq!(ids, expected);

    // The environment: the two left.
    let r = app.revoke_environment(&env).await;
    assert_eq!(r.assert_status(200)["revoked_count"], 2);
    let summary = receiver.wait_for("environment.sessions.revoked", 1).await;
    assert_eq!(summary[0].body["data"]["revoked_count"], 2);
    assert_eq!(summary[0].body["data"]["revoked_by"]["kind"], "api_token");
    let per_session = receiver.wait_for("admin.user.session.revoked", 5).await;
    let mut ids: Vec<&str> = per_session[3..]
        .iter()
        .map(|d| d.body["data"]["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut expected = alive[..2].iter().map(String::as_str).collect::<Vec<_>>();
    expected.sort();
    assert_eq!(ids, expected);
    for d in receiver.received() {
        assert!(d.signed_with(&secret));
    }
    // Every event once: 1 + 1 + 2 + 1 + 2.
    assert_eq!(
        receiver
            .received()
            .iter()
            .filter(|r| r.kind().contains("revoked"))
            .count(),
        7
    );
}

/// A receiver (its answers set by `prepare`), an endpoint of the sandbox
/// to it for `environment.origin.added`, and an origin added: a delivery
/// on its way. Returns the receiver, and the endpoint's id and secret.
async fn deliver_origin_added(
    app: &TestApp,
    prepare: impl FnOnce(&Receiver),
) -> (Receiver, String, String) {
    let receiver = Receiver::start().await;
    prepare(&receiver);
    let (id, secret) = app
        .create_webhook(&app.sandbox, &receiver.url, &["environment.origin.added"])
        .await;
    app.add_origin(&app.sandbox, "https://domain.com")
        .await
        .assert_status(201);
    (receiver, id, secret)
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff_and_every_attempt_recorded() {
    let app = spawn_app_for_webhooks().await;
    let env = app.sandbox.clone();
    let (receiver, id, secret) = deliver_origin_added(&app, |r| r.answer(500)).await;
    let first = receiver.wait_for("environment.origin.added", 1).await;
    assert_eq!(first[0].body["data"]["origin"], "https://domain.com");
    // Not again until the backoff (5 s, +20 % jitter at most) has passed.
    // The wait is for the delivery's own state (its count moves with the
    // outcome, in the attempt's transaction), and every listing seen on the
    // way shows each delivery with exactly the attempts it counts.
    let deliveries = format!("{}/{id}/deliveries", hooks(&env));
    let listed = eventually_async("the attempt's outcome is recorded", || async {
        let r = app.api(Method::GET, &deliveries, None).await;
        assert_attempts_agree(&r);
        (r.body["data"][0]["attempt_count"] == 1).then_some(r)
    })
    .await;
    let delivery = &listed.body["data"][0];
    assert_eq!(delivery["status"], "pending");
    assert_eq!(delivery["attempts"].as_array().map(Vec::len), Some(1));
    assert_eq!(delivery["attempts"][0]["response_status"], 500);
    assert!(delivery["next_attempt_at"].is_string());
    let at = |field: &serde_json::Value| {
        time::OffsetDateTime::parse(
            field.as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    let backoff = at(&delivery["next_attempt_at"]) - at(&delivery["attempts"][0]["attempted_at"]);
    assert!(
        backoff >= Duration::seconds(5) && backoff <= Duration::seconds(6),
        "{backoff}"
    );
    app.advance(Duration::seconds(7));
    let second = receiver.wait_for("environment.origin.added", 2).await;
    // The same webhook-id, a fresh timestamp, a valid signature.
    assert_eq!(second[1].id(), second[0].id());
    assert!(second[1].timestamp() > second[0].timestamp());
    assert!(second[1].signed_with(&secret));
    // Third attempt (after 5 min) succeeds.
    receiver.answer(200);
    app.advance(Duration::minutes(7));
    receiver.wait_for("environment.origin.added", 3).await;
    let r = eventually_async("the delivery succeeds", || async {
        let r = app.api(Method::GET, &deliveries, None).await;
        assert_attempts_agree(&r);
        (r.body["data"][0]["status"] == "succeeded").then_some(r)
    })
    .await;
    let delivery = &r.body["data"][0];
    assert_eq!(delivery["attempt_count"], 3);
    let statuses: Vec<i64> = delivery["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["response_status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 500, 200]);
    assert!(delivery["completed_at"].is_string());

    // Redelivery on demand: the same event and webhook-id once more.
    let did = delivery["id"].as_str().unwrap();
    app.api(Method::POST, &format!("{deliveries}/{did}/redeliver"), None)
        .await
        .assert_status(202);
    let again = receiver.wait_for("environment.origin.added", 4).await;
    assert_eq!(again[3].id(), again[0].id());
    app.api(
        Method::POST,
        &format!("{deliveries}/dlv_00000000000000000000000000000000/redeliver"),
        None,
    )
    .await
    .assert_problem(404, "not_found");
}

/// Each listed delivery shows as many attempts as it counts: the list is
/// read at one instant, and an attempt is stored with its outcome or not
/// at all.
fn assert_attempts_agree(r: &Reply) {
    for d in r.assert_status(200)["data"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let listed = d["attempts"].as_array().map_or(0, Vec::len);
        assert_eq!(d["attempt_count"].as_u64(), Some(listed as u64), "{d}");
    }
}

/// Issue 14, item 10: an attempt that ends after its delivery was taken
/// over (here by a redelivery while the endpoint had not answered yet)
/// stores neither itself nor its outcome; the attempt that holds the
/// delivery is the one recorded.
#[tokio::test]
async fn an_attempt_whose_delivery_was_taken_over_is_not_recorded() {
    let app = spawn_app_for_webhooks().await;
    let env = app.sandbox.clone();
    let (receiver, id, _) = deliver_origin_added(&app, |r| {
        r.answer(500);
        r.hold();
    })
    .await;
    receiver.wait_for("environment.origin.added", 1).await;
    // The first attempt waits for its 500; meanwhile the delivery is
    // redelivered, which takes it from that attempt's lease.
    let deliveries = format!("{}/{id}/deliveries", hooks(&env));
    let listed = app.api(Method::GET, &deliveries, None).await;
    assert_eq!(listed.assert_status(200)["data"][0]["attempt_count"], 0);
    let did = listed.body["data"][0]["id"].as_str().unwrap().to_string();
    app.api(Method::POST, &format!("{deliveries}/{did}/redeliver"), None)
        .await
        .assert_status(202);
    receiver.answer(200);
    receiver.release();
    receiver.wait_for("environment.origin.added", 2).await;
    let r = eventually_async("the redelivery succeeds", || async {
        let r = app.api(Method::GET, &deliveries, None).await;
        (r.body["data"][0]["status"] == "succeeded").then_some(r)
    })
    .await;
    assert_attempts_agree(&r);
    let delivery = &r.body["data"][0];
    assert_eq!(delivery["attempt_count"], 1);
    assert_eq!(delivery["attempts"][0]["response_status"], 200);
    assert_eq!(delivery["last_response_status"], 200);
    // Both requests went out; the first one's 500 changed nothing.
    let answered: Vec<u16> = receiver.received().iter().map(|r| r.answered).collect();
    assert_eq!(answered, [500, 200]);
    let webhook = app
        .api(Method::GET, &format!("{}/{id}", hooks(&env)), None)
        .await;
    assert_eq!(webhook.assert_status(200)["enabled"], true);
}

#[tokio::test]
async fn an_endpoint_that_keeps_failing_is_disabled() {
    let app = spawn_app_for_webhooks().await;
    let env = app.sandbox.clone();
    let (receiver, id, _) = deliver_origin_added(&app, |r| r.answer(503)).await;
    receiver
        .wait_through_every_retry(&app, "environment.origin.added")
        .await;
    let webhook = format!("{}/{id}", hooks(&env));
    let r = eventually_async("the endpoint is disabled", || async {
        let r = app.api(Method::GET, &webhook, None).await;
        (r.body["enabled"] == false).then_some(r)
    })
    .await;
    assert!(r.body["disabled_reason"].as_str().is_some());
    let deliveries = app
        .api(Method::GET, &format!("{webhook}/deliveries"), None)
        .await;
    assert_attempts_agree(&deliveries);
    assert_eq!(deliveries.body["data"][0]["status"], "failed");
    assert_eq!(deliveries.body["data"][0]["attempt_count"], 8);
    // Nothing more goes to it: an endpoint still enabled gets the next
    // event, dispatched in the same step, and the disabled one does not.
    let witness = Receiver::start().await;
    app.create_webhook(&env, &witness.url, &[]).await;
    app.add_origin(&env, "https://other.com")
        .await
        .assert_status(201);
    witness.wait_for("environment.origin.added", 1).await;
    let deliveries = app
        .api(Method::GET, &format!("{webhook}/deliveries"), None)
        .await;
    assert_eq!(deliveries.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(receiver.received().len(), 8);
    let r = app
        .api(Method::PATCH, &webhook, Some(json!({"enabled": true})))
        .await;
    assert_eq!(r.assert_status(200)["enabled"], true);
    assert_eq!(r.body["disabled_reason"], serde_json::Value::Null);
}

#[tokio::test]
async fn a_ping_reaches_only_its_endpoint_and_filters_apply() {
    let app = spawn_app_for_webhooks().await;
    let env = app.sandbox.clone();
    let (a, b) = (Receiver::start().await, Receiver::start().await);
    let (id_a, secret_a) = app
        .create_webhook(&env, &a.url, &["environment.origin.removed"])
        .await;
    app.create_webhook(&env, &b.url, &["environment.origin.added"])
        .await;
    let r = app
        .api(Method::POST, &format!("{}/{id_a}/test", hooks(&env)), None)
        .await;
    let event_id = r.assert_status(202)["id"].as_str().unwrap().to_string();
    let ping = a.wait_for("ping", 1).await;
    assert_eq!(ping[0].id(), event_id);
    assert!(ping[0].signed_with(&secret_a));
    let added = app.add_origin(&env, "https://domain.com").await;
    let origin_id = added.body["id"].as_str().unwrap().to_string();
    b.wait_for("environment.origin.added", 1).await;
    app.api(
        Method::DELETE,
        &format!("/environments/{env}/origins/{origin_id}"),
        None,
    )
    .await
    .assert_status(204);
    a.wait_for("environment.origin.removed", 1).await;
    assert_eq!(a.received().len(), 2);
    assert_eq!(b.received().len(), 1);

    // A rotated secret: for a day both signatures come.
    let r = app
        .api(
            Method::POST,
            &format!("{}/{id_a}/rotate-secret", hooks(&env)),
            None,
        )
        .await;
    let new_secret = r.assert_status(200)["secret"].as_str().unwrap().to_string();
    app.api(Method::POST, &format!("{}/{id_a}/test", hooks(&env)), None)
        .await
        .assert_status(202);
    let pings = a.wait_for("ping", 2).await;
    assert!(pings[1].signed_with(&new_secret) && pings[1].signed_with(&secret_a));
    app.advance(Duration::hours(25));
    app.api(Method::POST, &format!("{}/{id_a}/test", hooks(&env)), None)
        .await
        .assert_status(202);
    let pings = a.wait_for("ping", 3).await;
    assert!(pings[2].signed_with(&new_secret) && !pings[2].signed_with(&secret_a));
}

/// Retention (issue 6, docs/events.md): finished deliveries and mails go
/// after 30 days, events after `event_retention_days` (default 365), and
/// nothing newer goes with them.
#[tokio::test]
async fn deliveries_mails_and_events_are_pruned_past_their_retention() {
    let app = spawn_app_with(|c| {
        c.allow_private_webhook_urls = true;
        c.activity_flush_interval = std::time::Duration::from_millis(50);
    })
    .await;
    let env = app.sandbox.clone();
    let receiver = Receiver::start().await;
    let (webhook, _) = app
        .create_webhook(&env, &receiver.url, &["environment.origin.added"])
        .await;
    app.api(
        Method::PATCH,
        &format!("/environments/{env}/settings/security"),
        Some(json!({ "notifications": { "recipients": ["sec@example.com"] } })),
    )
    .await
    .assert_status(200);
    app.add_origin(&env, "https://old.example.com")
        .await
        .assert_status(201);
    receiver.wait_for("environment.origin.added", 1).await;
    let deliveries = format!("/environments/{env}/webhooks/{webhook}/deliveries");
    let count = |path: String, key: &'static str| {
        let app = &app;
        async move {
            app.api(Method::GET, &path, None).await.assert_status(200)[key]
                .as_array()
                .unwrap()
                .len()
        }
    };
    eventually_async("the delivery is recorded as done", || async {
        let reply = app.api(Method::GET, &deliveries, None).await;
        assert_attempts_agree(&reply);
        (reply.body["data"][0]["status"] == "succeeded").then_some(())
    })
    .await;
    let audit = format!("/environments/{env}/events");
    let events_before = count(audit.clone(), "events").await;
    assert!(events_before >= 3, "settings, webhook and origin events");

    // A month later the delivery is gone; the events stay.
    app.advance(time::Duration::days(31));
    app.add_origin(&env, "https://new.example.com")
        .await
        .assert_status(201);
    receiver.wait_for("environment.origin.added", 2).await;
    // Pruning runs at most once a minute of clock time; the clock moves a
    // minute on each look, so a pass that came too early, or failed (it is
    // retried, as in production, a minute later), does not end the test.
    let a_minute_later = || app.advance(time::Duration::minutes(1));
    eventually_async("the old delivery is pruned", || async {
        a_minute_later();
        (count(deliveries.clone(), "data").await == 1).then_some(())
    })
    .await;
    assert_eq!(count(audit.clone(), "events").await, events_before + 1);

    // A year later the old events are gone, the newer one is not.
    app.advance(time::Duration::days(340));
    eventually_async("the old events are pruned", || async {
        a_minute_later();
        (count(audit.clone(), "events").await == 1).then_some(())
    })
    .await;
    let reply = app.api(Method::GET, &audit, None).await;
    assert_eq!(
        reply.body["events"][0]["data"]["origin"],
        "https://new.example.com"
    );
}
