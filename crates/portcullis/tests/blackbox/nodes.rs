//! Several nodes on one PostgreSQL database behave as one server: what one
//! node revokes or changes, the others refuse or apply within moments;
//! flows cross nodes; a restarted node or database heals by itself, and a
//! node that cannot hear the others refuses rather than guesses.
//! These tests use PostgreSQL in both runs of the suite.

use portcullis::clock::Clock;
use reqwest::Method;
use serde_json::json;

use std::time::Duration;

use crate::harness::{TestApp, claims_of, eventually_async, eventually_within, spawn_nodes};

/// Waits until `node`'s session check answers `status` for `token`.
async fn until_session_status(node: &TestApp, env: &str, token: &str, status: u16) {
    eventually_async(&format!("the session check answers {status}"), || async {
        (node.session(env, token).await.status.as_u16() == status).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_one_node_is_refused_by_the_other_in_every_scope() {
    let nodes = spawn_nodes(2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let env = a.sandbox.clone();

    // One session.
    let (token, result) = a.sign_in(&env, "one@example.com").await;
    b.session(&env, &token).await.assert_status(200);
    let sid = result["session"]["id"].as_str().unwrap();
    a.revoke_session(&env, sid).await.assert_status(200);
    until_session_status(b, &env, &token, 401).await;
    b.session(&env, &token)
        .await
        .assert_problem(401, "session_revoked");

    // A user.
    let (token, result) = a.sign_in(&env, "user@example.com").await;
    b.session(&env, &token).await.assert_status(200);
    let uid = result["user"]["id"].as_str().unwrap();
    b.revoke_user(&env, uid).await.assert_status(200);
    until_session_status(a, &env, &token, 401).await;

    // The environment.
    let (token, _) = b.sign_in(&env, "env@example.com").await;
    a.session(&env, &token).await.assert_status(200);
    a.revoke_environment(&env).await.assert_status(200);
    until_session_status(b, &env, &token, 401).await;
    // A sign-in after the revocation is alive on both.
    let (fresh, _) = b.sign_in(&env, "after@example.com").await;
    a.session(&env, &fresh).await.assert_status(200);
    b.session(&env, &fresh).await.assert_status(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_started_on_one_node_finishes_on_the_other() {
    let nodes = spawn_nodes(2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let env = a.sandbox.clone();
    let (vid, code) = a.start_and_read_code(&env, "cross@example.com").await;
    let verified = b.verify_email(&env, &vid, &code).await;
    let token = verified.assert_status(200)["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        claims_of(&token)["iss"],
        format!("http://portcullis.test/sdk/v1/{env}")
    );
    a.session(&env, &token).await.assert_status(200);
    // The code is used up for every node.
    a.verify_email(&env, &vid, &code)
        .await
        .assert_problem(400, "invalid_code");
    // Attempts are counted in the store: wrong tries on both nodes add up.
    let (vid, code) = a.start_and_read_code(&env, "guess@example.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for i in 0..5 {
        let node = if i % 2 == 0 { a } else { b };
        node.verify_email(&env, &vid, wrong)
            .await
            .assert_problem(400, "invalid_code");
    }
    b.verify_email(&env, &vid, &code)
        .await
        .assert_problem(400, "invalid_code");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_changed_on_one_node_apply_on_the_other() {
    let nodes = spawn_nodes(2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let env = a.sandbox.clone();
    // B caches the environment.
    let (before, _) = b.sign_in(&env, "cache@example.com").await;
    let lifetime = |t: &str| {
        let c = claims_of(t);
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap()
    };
    assert_ne!(lifetime(&before), 600);
    a.api(
        Method::PATCH,
        &format!("/environments/{env}/settings/security"),
        Some(json!({"jwt_expiration_seconds": 600})),
    )
    .await
    .assert_status(200);
    eventually_async("B signs tokens with the new lifetime", || async {
        let (token, _) = b.sign_in(&env, "after-change@example.com").await;
        (lifetime(&token) == 600).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_was_down_during_a_revocation_refuses_the_session_after_restart() {
    let mut nodes = spawn_nodes(2).await;
    let b = nodes.pop().unwrap();
    let a = nodes.pop().unwrap();
    let env = a.sandbox.clone();
    let (token, result) = a.sign_in(&env, "restart@example.com").await;
    b.session(&env, &token).await.assert_status(200);
    let storage = b.stop().await;
    let sid = result["session"]["id"].as_str().unwrap();
    a.revoke_session(&env, sid).await.assert_status(200);
    let b = crate::harness::start(storage, a.clock.clone(), |_| {}).await;
    b.session(&env, &token)
        .await
        .assert_problem(401, "session_revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_missed_by_a_cut_listener_heals_and_a_deaf_node_refuses() {
    let nodes = spawn_nodes(2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let env = a.sandbox.clone();
    let pg = a.storage.pg.clone().expect("PostgreSQL");
    let (token, result) = a.sign_in(&env, "db@example.com").await;
    b.session(&env, &token).await.assert_status(200);

    // The database goes away. What needs it is refused as unavailable, not
    // as a fault.
    pg.stop();
    eventually_async("requests needing the database are refused", || async {
        (b.start_email(&env, "down@example.com")
            .await
            .status
            .as_u16()
            == 503)
            .then_some(())
    })
    .await;
    b.start_email(&env, "down@example.com")
        .await
        .assert_problem(503, "unavailable");
    // Once more than 5 of their heartbeats (one a second) have gone
    // unheard, both nodes stop trusting their revocation index: not ready
    // because they are deaf, not merely because a ping failed.
    for node in [a, b] {
        eventually_within(
            Duration::from_secs(30),
            "the node stops trusting its index",
            || async {
                let r = node.get("/readyz", None).await;
                let deaf = r.status.as_u16() == 503
                    && r.body["detail"]
                        .as_str()
                        .is_some_and(|d| d.contains("not heard the other nodes"));
                deaf.then_some(r)
            },
        )
        .await
        .assert_problem(503, "not_ready");
    }
    b.session(&env, &token)
        .await
        .assert_problem(503, "unavailable");

    // It comes back: the nodes reconnect, catch up and serve again. Each
    // is ready only once it has heard its own heartbeat on a new listening
    // connection, so after this both nodes listen.
    pg.start_again();
    for node in [a, b] {
        eventually_async("the node is ready again", || async {
            (node.get("/readyz", None).await.status.as_u16() == 200).then_some(())
        })
        .await;
    }
    b.session(&env, &token).await.assert_status(200);

    // A revocation whose notification was lost (written here straight
    // into the database, so no node hears of it) is not seen...
    let sid = result["session"]["id"].as_str().unwrap();
    let at = a.clock.now().unix_timestamp() * 1000;
    let revoked = pg
        .execute(&format!(
            "UPDATE sessions SET revoked_at = {at}, revoked_by_kind = 'api_token' WHERE id = '{sid}'"
        ))
        .await;
    assert_eq!(revoked, 1);
    b.session(&env, &token).await.assert_status(200);
    // ...until B's listening connection drops: B merges the store when it
    // reconnects, before it trusts its index again.
    assert!(pg.terminate_listeners().await >= 2, "both nodes listen");
    until_session_status(b, &env, &token, 401).await;
    until_session_status(a, &env, &token, 401).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_starting_at_once_on_an_empty_database_make_one_tenant() {
    let storage = std::sync::Arc::new(crate::harness::Storage::cluster());
    let clock = std::sync::Arc::new(portcullis::clock::ManualClock::starting_now());
    let (a, b) = tokio::join!(
        crate::harness::start(storage.clone(), clock.clone(), |_| {}),
        crate::harness::start(storage.clone(), clock.clone(), |_| {}),
    );
    let creators: Vec<&TestApp> = [&a, &b]
        .into_iter()
        .filter(|n| !n.organization_id.is_empty())
        .collect();
    assert_eq!(creators.len(), 1, "exactly one node created the tenant");
    let creator = creators[0];
    let other = if std::ptr::eq(creator, &a) { &b } else { &a };
    let env = creator.sandbox.clone();
    let (token, _) = creator.sign_in(&env, "first@example.com").await;
    other.session(&env, &token).await.assert_status(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_shared_so_more_nodes_give_no_more_tries() {
    let nodes = crate::harness::spawn_nodes_with(2, |c| c.rate_limits.enabled = true).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let env = a.sandbox.clone();
    // 3 code requests a minute per address, counted across both nodes.
    for node in [a, b, a] {
        node.start_email(&env, "limited@example.com")
            .await
            .assert_status(202);
    }
    for node in [b, a] {
        let r = node.start_email(&env, "limited@example.com").await;
        r.assert_problem(429, "rate_limited");
        assert!(r.headers.contains_key("retry-after"));
    }
    a.advance(time::Duration::seconds(20));
    b.start_email(&env, "limited@example.com")
        .await
        .assert_status(202);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_work_is_claimed_by_one_node_at_a_time() {
    use portcullis::store::Store;
    use sqlx::Connection;

    let pg = crate::postgres::PgServer::start();
    let a = Store::open(&pg.url()).await.expect("node A's store");
    let b = Store::open(&pg.url()).await.expect("node B's store");
    const EVERY: i64 = 60_000;
    let now = 1_000_000;

    // Eight asks from two nodes at the same instant: exactly one wins.
    let asks: Vec<_> = (0..8)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                store
                    .jobs
                    .claim("test_job", &format!("node_{i}"), now, EVERY)
                    .await
                    .expect("claim")
            })
        })
        .collect();
    let mut won = 0;
    for ask in asks {
        won += usize::from(ask.await.expect("task"));
    }
    assert_eq!(won, 1, "exactly one claim of a due job succeeds");
    // Not due again before its interval has passed, then due again.
    assert!(
        !a.jobs
            .claim("test_job", "a", now + EVERY - 1, EVERY)
            .await
            .unwrap()
    );
    assert!(
        b.jobs
            .claim("test_job", "b", now + EVERY, EVERY)
            .await
            .unwrap()
    );

    // While another node holds the job's row (its claim not yet
    // committed), a claim passes over it at once rather than waiting...
    let mut holder = sqlx::PgConnection::connect(&pg.url()).await.unwrap();
    let mut held = holder.begin().await.unwrap();
    sqlx::query("SELECT * FROM jobs WHERE name = 'test_job' FOR UPDATE")
        .execute(&mut *held)
        .await
        .unwrap();
    let later = now + 10 * EVERY;
    let skipped = tokio::time::timeout(
        Duration::from_secs(30),
        a.jobs.claim("test_job", "a", later, EVERY),
    )
    .await
    .expect("a claim never waits for a row another node holds")
    .unwrap();
    assert!(!skipped);
    // ...and gets it once that node lets go without claiming.
    held.rollback().await.unwrap();
    assert!(a.jobs.claim("test_job", "a", later, EVERY).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mfa_crosses_nodes_and_an_elevated_token_is_spent_on_all_of_them() {
    use crate::mfa::{enrol_totp, next_step, now_s, totp_code, verify};
    let nodes = spawn_nodes(2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let env = a.sandbox.clone();
    let (token, _) = a.sign_in(&env, "mfa-nodes@example.com").await;
    let (device, _) = enrol_totp(a, &env, &token).await;
    a.api(
        Method::PATCH,
        &format!("/environments/{env}/settings/security"),
        Some(
            json!({"mfa": {"session_enforcement": true, "action_enforcement": {"enabled": true}}}),
        ),
    )
    .await
    .assert_status(200);
    // B applies the new settings: its sign-ins become partial.
    let partial = eventually_async("B enforces MFA", || async {
        let (t, result) = b.sign_in(&env, "mfa-nodes@example.com").await;
        (result["mfa"]["required"] == true).then_some(t)
    })
    .await;
    // A partial session started on B is completed on A.
    next_step(a);
    let r = verify(
        a,
        &env,
        &partial,
        json!({ "code": totp_code(&device.secret, now_s(a)) }),
    )
    .await;
    let full = r.assert_status(200)["token"].as_str().unwrap().to_string();
    b.session(&env, &full).await.assert_status(200);

    // An elevated token from A, used on B, is spent for A too.
    next_step(a);
    let r = a
        .post(
            &format!("/sdk/v1/{env}/mfa/step-up"),
            Some(&full),
            json!({ "scope": "credential:link", "code": totp_code(&device.secret, now_s(a)) }),
        )
        .await;
    let elevated = r.assert_status(200)["elevated_token"]
        .as_str()
        .unwrap()
        .to_string();
    let regenerate = |node: &TestApp| {
        node.client
            .post(format!("{}/sdk/v1/{env}/mfa/recovery-codes", node.base))
            .bearer_auth(&full)
            .header("X-Portcullis-Elevated-Token", &elevated)
    };
    b.raw(regenerate(b)).await.assert_status(200);
    a.raw(regenerate(a))
        .await
        .assert_problem(403, "elevated_token_required");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_list_change_reaches_every_node() {
    let nodes = spawn_nodes(2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let env = a.sandbox.clone();
    let (token, _) = a.sign_in(&env, "cors@example.com").await;
    let status_on = |node: &'static str, origin: &'static str| {
        let (node, env, token) = (if node == "a" { a } else { b }, &env, &token);
        async move {
            node.browser_request(
                Method::GET,
                &format!("/sdk/v1/{env}/session"),
                origin,
                Some(token),
                None,
            )
            .await
            .status
            .as_u16()
        }
    };
    // B has the (empty) list cached before A changes it.
    assert_eq!(status_on("b", "https://evil.com").await, 200);
    let added = a.add_origin(&env, "https://domain.com").await;
    let id = added.assert_status(201)["id"].as_str().unwrap().to_string();
    assert_eq!(status_on("a", "https://evil.com").await, 403);
    eventually_async("B refuses an origin A's new list leaves out", || async {
        (status_on("b", "https://evil.com").await == 403).then_some(())
    })
    .await;
    assert_eq!(status_on("b", "https://domain.com").await, 200);
    b.api(
        Method::DELETE,
        &format!("/environments/{env}/origins/{id}"),
        None,
    )
    .await
    .assert_status(204);
    eventually_async("A allows every origin again", || async {
        (status_on("a", "https://evil.com").await == 200).then_some(())
    })
    .await;

    // A change B cannot hear of (written straight into the database) is
    // not applied...
    assert_eq!(status_on("b", "https://evil.com").await, 200);
    let pg = a.storage.pg.clone().expect("PostgreSQL");
    let added = pg
        .execute(&format!(
            "INSERT INTO origins (id, environment_id, origin, created_at) \
             VALUES ('ori_00000000000000000000000000000001', '{env}', 'https://domain.com', 0)"
        ))
        .await;
    assert_eq!(added, 1);
    assert_eq!(status_on("b", "https://evil.com").await, 200);
    // ...until a notification B cannot read (a newer node's) arrives: B
    // cannot tell what changed, so it drops every cached environment.
    pg.execute("SELECT pg_notify('portcullis_changes', '{\"kind\": \"from_a_newer_node\"}')")
        .await;
    eventually_async("B reloads after an unreadable change", || async {
        (status_on("b", "https://evil.com").await == 403).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_reaches_every_node_at_once() {
    // The once-a-second read-back is slowed to an hour: only the lock's own
    // notification can reach B.
    let nodes = crate::harness::spawn_nodes_with(2, |c| {
        c.lock_watch_interval = Duration::from_secs(3600);
    })
    .await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let env = a.sandbox.clone();
    let (token, _) = a.sign_in(&env, "locked@example.com").await;
    b.session(&env, &token).await.assert_status(200);

    a.set_locked(&env, true).await.assert_status(200);
    until_session_status(b, &env, &token, 423).await;
    b.session(&env, &token)
        .await
        .assert_problem(423, "environment_locked");
    let introspection = b
        .api(
            Method::POST,
            &format!("/environments/{env}/sessions/introspect"),
            Some(json!({ "token": token })),
        )
        .await;
    assert_eq!(introspection.assert_status(200)["active"], false);
    b.api(
        Method::GET,
        &format!("/environments/{env}/settings/security"),
        None,
    )
    .await
    .assert_problem(423, "environment_locked");

    // B unlocks; A, which locked, follows.
    b.set_locked(&env, false).await.assert_status(200);
    until_session_status(a, &env, &token, 200).await;
    b.session(&env, &token).await.assert_status(200);
}
