//! `portcullis-verify` following the revocation feed of a real server
//! (issue 18, point 5): the library refuses a session revoked on another
//! node through the stream alone, or by polling the feed when the stream
//! cannot be used, and what it does when the feed is gone.
//! (The library does not depend on the server; the server's tests may
//! depend on the library.)

use std::sync::Arc;
use std::time::Duration;

use portcullis::clock::Clock;
use portcullis_verify::{
    FollowOptions, RevocationFollower, StalePolicy, Verifier, VerifierOptions, VerifyError,
};

use crate::harness::*;

/// A verifier for `node`'s tokens of `env` that follows `feed_node`'s feed.
async fn following(
    node: &TestApp,
    feed_node: &TestApp,
    env: &str,
    options: FollowOptions,
) -> (Verifier, Arc<RevocationFollower>) {
    following_via(node, &node.base, &feed_node.base, env, options).await
}

/// The same, with the keys and the feed both reached at `reach`.
async fn following_at(
    node: &TestApp,
    reach: &str,
    env: &str,
    options: FollowOptions,
) -> (Verifier, Arc<RevocationFollower>) {
    following_via(node, reach, reach, env, options).await
}

async fn following_via(
    node: &TestApp,
    keys_at: &str,
    feed_at: &str,
    env: &str,
    options: FollowOptions,
) -> (Verifier, Arc<RevocationFollower>) {
    let (_, api_token) = node.create_token("viewer", Some(env)).await;
    let follower =
        RevocationFollower::start(feed_at, env, &api_token, options).expect("the follower starts");
    tokio::time::timeout(Duration::from_secs(10), follower.synced())
        .await
        .expect("the first sync within 10 s");
    let issuer = node.issuer(env);
    let verifier = Verifier::new(
        &format!("{keys_at}/sdk/v1/{env}/.well-known/jwks.json"),
        &issuer,
        env,
        VerifierOptions::default().revocation(follower.clone()),
    )
    .expect("a verifier");
    verifier.refresh_keys().await.expect("the keys");
    (verifier, follower)
}

/// Waits until `verifier` refuses `token` as revoked.
async fn until_revoked(verifier: &Verifier, token: &str) {
    eventually_async("the verifier refuses the revoked session", || async {
        matches!(
            verifier.verify_session(token).await,
            Err(VerifyError::SessionRevoked)
        )
        .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_one_node_is_refused_by_the_library_following_the_other() {
    let nodes = spawn_nodes(2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let env = a.sandbox.clone();
    // Polling an hour apart: only the stream can bring the news in time.
    let options = FollowOptions {
        poll_interval: Duration::from_secs(3600),
        ..FollowOptions::default()
    };
    let (verifier, _follower) = following(a, b, &env, options).await;

    // One session.
    let (token, result) = a.sign_in(&env, "one@example.com").await;
    let claims = verifier.verify_session(&token).await.expect("valid");
    assert_eq!(claims.sid, result["session"]["id"].as_str().unwrap());
    a.revoke_session(&env, &claims.sid).await.assert_status(200);
    until_revoked(&verifier, &token).await;

    // A user: every session issued before.
    let (first, result) = a.sign_in(&env, "user@example.com").await;
    let user = result["user"]["id"].as_str().unwrap().to_string();
    a.revoke_user(&env, &user).await.assert_status(200);
    until_revoked(&verifier, &first).await;
    let (after, _) = a.sign_in(&env, "user@example.com").await;
    verifier.verify_session(&after).await.expect("issued after");

    // The environment.
    a.revoke_environment(&env).await.assert_status(200);
    until_revoked(&verifier, &after).await;
    let (fresh, _) = a.sign_in(&env, "new@example.com").await;
    verifier.verify_session(&fresh).await.expect("issued after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_stream_the_library_polls_the_other_nodes_feed() {
    let nodes = spawn_nodes(2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let env = a.sandbox.clone();
    // Node B reached through a proxy that cannot carry the stream: only
    // polling brings the news.
    let proxy = NoStream::start(&b.base).await;
    let options = FollowOptions {
        poll_interval: Duration::from_millis(200),
        ..FollowOptions::default()
    };
    let (verifier, follower) = following_via(a, &a.base, &proxy.base, &env, options).await;
    eventually_async("the follower tried the stream", || async {
        (proxy.streams_refused() > 0).then_some(())
    })
    .await;

    let (token, result) = a.sign_in(&env, "poll@example.com").await;
    let (other, _) = a.sign_in(&env, "other@example.com").await;
    verifier.verify_session(&token).await.expect("valid");
    let sid = result["session"]["id"].as_str().unwrap();
    a.revoke_session(&env, sid).await.assert_status(200);
    until_revoked(&verifier, &token).await;
    verifier.verify_session(&other).await.expect("not revoked");

    let user = result["user"]["id"].as_str().unwrap().to_string();
    let (second, _) = a.sign_in(&env, "poll@example.com").await;
    a.revoke_user(&env, &user).await.assert_status(200);
    until_revoked(&verifier, &second).await;

    a.revoke_environment(&env).await.assert_status(200);
    until_revoked(&verifier, &other).await;
    assert!(follower.is_fresh(), "polling keeps it fresh");
    assert!(
        proxy.streams_refused() >= 2,
        "it tries the stream again between polls"
    );
}

#[tokio::test]
async fn without_the_feed_the_policy_decides_after_the_bound_and_it_resumes_after() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    // The library reaches Portcullis through a line the test can cut.
    let line = Outage::start(&app.base).await;
    let clock = app.clock.clone();
    let options = |policy| FollowOptions {
        poll_interval: Duration::from_millis(100),
        stale_after: Duration::from_secs(60),
        policy,
        clock: {
            let clock = clock.clone();
            Arc::new(move || clock.now().into())
        },
        ..FollowOptions::default()
    };
    let (closed, closed_follower) =
        following_at(&app, &line.base, &env, options(StalePolicy::FailClosed)).await;
    let (open, _open_follower) =
        following_at(&app, &line.base, &env, options(StalePolicy::FailOpen)).await;
    let (token, _) = app.sign_in(&env, "ada@example.com").await;
    let (other, result) = app.sign_in(&env, "bob@example.com").await;
    closed.verify_session(&token).await.expect("valid");

    // Portcullis out of reach: the keys and the state are cached; within
    // the bound nothing changes, past it the policy decides.
    line.cut();
    closed
        .verify_session(&token)
        .await
        .expect("cached keys, fresh state");
    // A revocation the library cannot hear yet.
    let sid = result["session"]["id"].as_str().unwrap();
    app.revoke_session(&env, sid).await.assert_status(200);
    app.advance(time::Duration::seconds(61));
    assert!(!closed_follower.is_fresh());
    assert!(matches!(
        closed.verify_session(&token).await,
        Err(VerifyError::Unavailable)
    ));
    open.verify_session(&other)
        .await
        .expect("fail open: what it knew");

    // Back: the follower resumes from its cursor; nothing was missed.
    line.restore();
    eventually_async("the follower hears the feed again", || async {
        closed_follower.is_fresh().then_some(())
    })
    .await;
    until_revoked(&closed, &other).await;
    until_revoked(&open, &other).await;
    closed.verify_session(&token).await.expect("still valid");
}
