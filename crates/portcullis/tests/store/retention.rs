//! Retention: each pruning call deletes what is past its instant and keeps
//! the rest, the boundary included. What was pruned is observed through
//! the store's own reads, asked at an instant when the row would still
//! count (the store takes every instant as an argument).

use portcullis::store::{Attempt, ChallengeRecord};

use crate::fixtures::{DAY, HOUR, MINUTE, T0, TestStore, id};

#[tokio::test]
async fn expired_codes_are_pruned_and_the_others_kept() {
    let t = TestStore::open().await;
    // Codes last ten minutes from their creation (`TestStore::code`).
    let gone = t.code(&t.env, "gone@example.test", b"mac", T0).await;
    let edge = t
        .code(&t.env, "edge@example.test", b"mac", T0 + MINUTE)
        .await;
    let live = t.code(&t.env, "live@example.test", b"mac", T0 + HOUR).await;
    let verifications = &t.store.verifications;
    // Prunes what expired before the instant: `edge` expires at it.
    verifications.prune_expired(T0 + 11 * MINUTE).await.unwrap();

    let at = T0 + 1;
    let gone = verifications.attempt(&t.env, &gone, 5, at, b"mac").await;
    assert!(matches!(gone, Ok(Attempt::Refused)), "{gone:?}");
    for kept in [edge, live] {
        let kept = verifications.attempt(&t.env, &kept, 5, at, b"mac").await;
        assert!(matches!(kept, Ok(Attempt::Matched(_))), "{kept:?}");
    }
}

#[tokio::test]
async fn spent_elevated_tokens_and_challenges_are_forgotten_once_expired() {
    let t = TestStore::open().await;
    let mfa = &t.store.mfa;
    assert!(
        mfa.spend_elevated_token("jti-old", T0 + MINUTE)
            .await
            .unwrap()
    );
    assert!(
        mfa.spend_elevated_token("jti-edge", T0 + 2 * MINUTE)
            .await
            .unwrap()
    );
    assert!(
        mfa.spend_elevated_token("jti-new", T0 + HOUR)
            .await
            .unwrap()
    );
    assert!(
        !mfa.spend_elevated_token("jti-new", T0 + HOUR)
            .await
            .unwrap()
    );
    let challenge = |expires_at: i64| ChallengeRecord {
        id: id("chl"),
        environment_id: t.env.clone(),
        session_id: "ses_any".into(),
        purpose: "assert".into(),
        state: format!("state until {expires_at}"),
        created_at: T0,
        expires_at,
    };
    let (old, edge, new) = (
        challenge(T0 + MINUTE),
        challenge(T0 + 2 * MINUTE),
        challenge(T0 + HOUR),
    );
    for c in [&old, &edge, &new] {
        mfa.insert_challenge(c).await.unwrap();
    }

    mfa.prune_expired(T0 + 2 * MINUTE).await.unwrap();

    assert!(!mfa.elevated_token_spent("jti-old").await.unwrap());
    assert!(mfa.elevated_token_spent("jti-edge").await.unwrap());
    assert!(mfa.elevated_token_spent("jti-new").await.unwrap());
    assert_eq!(take(&t, &old).await, None);
    assert_eq!(take(&t, &edge).await, Some(edge.state.clone()));
    assert_eq!(take(&t, &new).await, Some(new.state.clone()));
    // A challenge is used once.
    assert_eq!(take(&t, &new).await, None);
}

/// Uses the challenge before it expires: its state, if it is still there.
async fn take(t: &TestStore, challenge: &ChallengeRecord) -> Option<String> {
    t.store
        .mfa
        .take_challenge(&t.env, &challenge.id, "ses_any", "assert", T0 + 1)
        .await
        .expect("the challenge is read")
}

/// The live-session counters by minute of expiry, which an
/// environment-wide revocation sums (exactly only for the minute under
/// way): pruning at an instant forgets the minutes before it.
#[tokio::test]
async fn session_counters_of_past_minutes_are_forgotten() {
    let t = TestStore::open().await;
    for i in 0..2 {
        let email = format!("soon{i}@example.test");
        t.sign_in(&t.env, &email, T0, T0 + 10 * MINUTE).await;
    }
    t.sign_in(&t.env, "later@example.test", T0, T0 + 30 * MINUTE)
        .await;
    t.store
        .sessions
        .prune_expired(T0 + 20 * MINUTE)
        .await
        .unwrap();
    // A revocation dated before the pruning reads the counters as they
    // are: the minute that passed is forgotten, the later one kept.
    let (revoked, _) = t.revoke_environment(T0).await;
    assert_eq!(revoked, 1);
}

#[tokio::test]
async fn the_outbox_prune_deletes_finished_old_rows_and_keeps_the_rest() {
    let t = TestStore::open().await;
    let webhook = t.webhook(T0).await;
    let (old, new) = (T0, T0 + DAY);
    let before = T0 + HOUR;

    // Deleted: an old dispatched event nothing refers to, an old finished
    // delivery and an old sent mail, and then their events.
    let done = t.event("user.created", old);
    t.dispatched(&done, &[], &[]).await;
    let delivered = t.event("user.created", old);
    let finished = t.delivery(&webhook, &delivered, "succeeded", None);
    t.dispatched(&delivered, std::slice::from_ref(&finished), &[])
        .await;
    let mailed = t.event("user.mfa.enabled", old);
    let sent = t.notification(&mailed, "sent", None);
    t.dispatched(&mailed, &[], std::slice::from_ref(&sent))
        .await;

    // Kept: an old event not dispatched yet, a new dispatched one, an old
    // event with a pending delivery (and the delivery), an old event whose
    // failed delivery is new (and the delivery).
    let undispatched = t.event("user.created", old);
    t.store.events.insert(&undispatched).await.unwrap();
    let recent = t.event("user.created", new);
    t.dispatched(&recent, &[], &[]).await;
    let retrying = t.event("user.created", old);
    let pending = t.delivery(&webhook, &retrying, "pending", Some(new));
    t.dispatched(&retrying, std::slice::from_ref(&pending), &[])
        .await;
    let referred = t.event("user.created", old);
    let failed = portcullis::store::DeliveryRecord {
        created_at: new,
        ..t.delivery(&webhook, &referred, "failed", None)
    };
    t.dispatched(&referred, std::slice::from_ref(&failed), &[])
        .await;

    // At most `limit` of each kind per call: one delivery, one mail and
    // one event, then the rest.
    let outbox = &t.store.events;
    assert_eq!(outbox.prune(before, before, 1).await.unwrap(), 3);
    assert_eq!(outbox.prune(before, before, 100).await.unwrap(), 2);
    assert_eq!(outbox.prune(before, before, 100).await.unwrap(), 0);

    for gone in [&done, &delivered, &mailed] {
        assert!(
            outbox.get(&gone.id).await.unwrap().is_none(),
            "{}",
            gone.kind
        );
    }
    for kept in [&undispatched, &recent, &retrying, &referred] {
        assert!(outbox.get(&kept.id).await.unwrap().is_some(), "{}", kept.id);
    }
    let hooks = &t.store.webhooks;
    assert!(
        hooks
            .delivery(&webhook.id, &finished.id)
            .await
            .unwrap()
            .is_none()
    );
    for kept in [&pending, &failed] {
        assert!(
            hooks
                .delivery(&webhook.id, &kept.id)
                .await
                .unwrap()
                .is_some()
        );
    }
}
