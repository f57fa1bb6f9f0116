//! What may be used once is used once, however many callers race for it:
//! a TOTP step, a recovery code, an elevated token; what is bounded stays
//! within its bound: wrong MFA codes, origins and webhooks per
//! environment, hits on a rate-limit key.

use futures::future::join_all;
use portcullis::domain::rate_limit::Quota;
use portcullis::store::{CodeAttempt, OriginRecord};

use crate::fixtures::{HOUR, MINUTE, T0, TestStore, id, totp};

/// How many of the racers' answers are `true`.
fn winners(answers: Vec<portcullis::store::StoreResult<bool>>) -> usize {
    answers
        .into_iter()
        .filter(|a| *a.as_ref().expect("no racer fails"))
        .count()
}

#[tokio::test]
async fn a_totp_step_proves_once_and_never_an_earlier_one() {
    let t = TestStore::open().await;
    let mfa = &t.store.mfa;
    let (user, _) = t.sign_in(&t.env, "steps@example.test", T0, T0 + HOUR).await;
    let device = totp(&user, T0);
    mfa.insert_device(&device, None).await.unwrap();
    let event = t.event("user.mfa.enabled", T0);
    assert!(mfa.confirm_device(&device.id, T0, 5, &event).await.unwrap());
    // Confirming proved step 5.
    assert!(!mfa.use_step(&device.id, 5, T0 + 1).await.unwrap());
    let racers = (0..6).map(|i| mfa.use_step(&device.id, 6, T0 + 2 + i));
    assert_eq!(winners(join_all(racers).await), 1);
    assert!(!mfa.use_step(&device.id, 4, T0 + 10).await.unwrap());
    assert!(mfa.use_step(&device.id, 8, T0 + 11).await.unwrap());
    assert!(!mfa.use_step(&device.id, 7, T0 + 12).await.unwrap());
}

#[tokio::test]
async fn a_recovery_code_is_used_once_and_replacing_drops_the_old_ones() {
    let t = TestStore::open().await;
    let mfa = &t.store.mfa;
    let (user, _) = t.sign_in(&t.env, "codes@example.test", T0, T0 + HOUR).await;
    let codes: Vec<(String, Vec<u8>)> = (0..3).map(|i| (id("rec"), vec![i; 32])).collect();
    mfa.replace_recovery_codes(&t.env, &user.id, &codes, T0)
        .await
        .unwrap();
    let first = &codes[0].0;
    let racers = (0..5).map(|i| mfa.use_recovery_code(first, T0 + i));
    assert_eq!(winners(join_all(racers).await), 1);
    let unused = mfa.unused_recovery_codes(&t.env, &user.id).await.unwrap();
    let mut unused: Vec<String> = unused.into_iter().map(|c| c.id).collect();
    unused.sort();
    assert_eq!(unused, [codes[1].0.clone(), codes[2].0.clone()]);

    let fresh = vec![(id("rec"), vec![9; 32])];
    mfa.replace_recovery_codes(&t.env, &user.id, &fresh, T0 + MINUTE)
        .await
        .unwrap();
    assert!(
        !mfa.use_recovery_code(&codes[1].0, T0 + MINUTE)
            .await
            .unwrap()
    );
    let unused = mfa.unused_recovery_codes(&t.env, &user.id).await.unwrap();
    assert_eq!(unused.len(), 1);
    assert_eq!(unused[0].id, fresh[0].0);
}

#[tokio::test]
async fn an_elevated_token_is_spent_once() {
    let t = TestStore::open().await;
    let mfa = &t.store.mfa;
    assert!(!mfa.elevated_token_spent("jti-1").await.unwrap());
    let racers = (0..6).map(|_| mfa.spend_elevated_token("jti-1", T0 + HOUR));
    assert_eq!(winners(join_all(racers).await), 1);
    assert!(mfa.elevated_token_spent("jti-1").await.unwrap());
}

/// `max` wrong codes per window, however many race; each window that
/// ends locked makes the next one twice as long (up to the longest); a
/// right code starts over.
#[tokio::test]
async fn racing_wrong_mfa_codes_stop_at_the_limit_and_lock_longer_each_time() {
    let t = TestStore::open().await;
    let mfa = &t.store.mfa;
    let (user, _) = t
        .sign_in(&t.env, "locked@example.test", T0, T0 + HOUR)
        .await;
    let window = MINUTE;
    let longest = 3 * MINUTE;
    let spend = |at: i64| mfa.spend_code_attempt(&user.id, at, window, 3, longest);
    let answers: Vec<CodeAttempt> = join_all((0..10).map(|_| spend(T0)))
        .await
        .into_iter()
        .map(|a| a.expect("no attempt fails"))
        .collect();
    let allowed = answers
        .iter()
        .filter(|a| **a == CodeAttempt::Allowed)
        .count();
    assert_eq!(allowed, 3);
    assert!(
        answers
            .iter()
            .all(|a| *a == CodeAttempt::Allowed || *a == CodeAttempt::LockedUntil(T0 + window))
    );

    // The next window is twice as long, then no longer than the longest.
    let second = T0 + window;
    for _ in 0..3 {
        assert_eq!(spend(second).await.unwrap(), CodeAttempt::Allowed);
    }
    let locked = CodeAttempt::LockedUntil(second + 2 * window);
    assert_eq!(spend(second).await.unwrap(), locked);
    let third = second + 2 * window;
    for _ in 0..3 {
        assert_eq!(spend(third).await.unwrap(), CodeAttempt::Allowed);
    }
    assert_eq!(
        spend(third).await.unwrap(),
        CodeAttempt::LockedUntil(third + longest)
    );
    mfa.clear_code_attempts(&user.id).await.unwrap();
    assert_eq!(spend(third + 1).await.unwrap(), CodeAttempt::Allowed);
}

#[tokio::test]
async fn racing_adds_never_pass_an_environments_limit() {
    let t = TestStore::open().await;
    let (origins, webhooks) = (&t.store.origins, &t.store.webhooks);
    let adds = (0..8).map(|i| {
        let origin = OriginRecord {
            id: id("ori"),
            environment_id: t.env.clone(),
            origin: format!("https://app{i}.example.test"),
            created_at: T0 + i,
        };
        let event = t.event("origin.added", T0 + i);
        async move { origins.add(&origin, 3, &event).await }
    });
    assert_eq!(winners(join_all(adds).await), 3);
    assert_eq!(origins.list(&t.env).await.unwrap().len(), 3);

    let hooks = (0..5).map(|i| {
        let webhook = t.webhook_record(T0 + i);
        let event = t.event("webhook.created", T0 + i);
        async move { webhooks.insert(&webhook, 2, &event).await }
    });
    assert_eq!(winners(join_all(hooks).await), 2);
    assert_eq!(webhooks.list(&t.env).await.unwrap().len(), 2);
}

/// A shared rate-limit key admits its burst, however many race for it; a
/// hit given back is admitted again.
#[tokio::test]
async fn racing_hits_on_a_key_pass_only_its_burst() {
    let t = TestStore::open().await;
    let limits = &t.store.rate_limits;
    let quota = Quota::per_minute(3);
    let hits = join_all((0..8).map(|_| limits.hit("sign-in:ada", quota, T0))).await;
    let waits: Vec<Option<i64>> = hits.into_iter().map(|h| h.expect("no hit fails")).collect();
    let admitted = waits.iter().filter(|w| w.is_none()).count();
    assert_eq!(admitted, 3);
    assert!(waits.iter().all(|w| w.is_none() || *w == Some(20_000)));
    // Another key has its own burst.
    assert_eq!(limits.hit("sign-in:bob", quota, T0).await.unwrap(), None);

    limits.give_back("sign-in:ada", quota).await.unwrap();
    assert_eq!(limits.hit("sign-in:ada", quota, T0).await.unwrap(), None);
    assert_eq!(
        limits.hit("sign-in:ada", quota, T0).await.unwrap(),
        Some(20_000)
    );
    // One interval later, one more.
    let later = T0 + 20_000;
    assert_eq!(limits.hit("sign-in:ada", quota, later).await.unwrap(), None);
    assert!(
        limits
            .hit("sign-in:ada", quota, later)
            .await
            .unwrap()
            .is_some()
    );
}
