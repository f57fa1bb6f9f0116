//! Revocation: a user's or an environment's epoch goes up by one per
//! revocation, the count of sessions revoked is that of the sessions alive
//! then, and one session is revoked once.

use portcullis::store::{FanoutScope, SessionFilter};

use crate::fixtures::{HOUR, MINUTE, T0, TestStore, revocation};

#[tokio::test]
async fn revoking_an_environment_counts_its_live_sessions_and_raises_its_epoch() {
    let t = TestStore::open().await;
    let at = T0 + 10 * MINUTE;
    t.sign_in(&t.env, "a@example.test", T0, T0 + HOUR).await;
    t.sign_in(&t.env, "b@example.test", T0, at + 1).await;
    // Not counted: a session revoked before, one expired, one elsewhere.
    let (_, revoked) = t.sign_in(&t.env, "c@example.test", T0, T0 + HOUR).await;
    let event = t.event("admin.user.session.revoked", T0 + 1);
    t.store
        .sessions
        .revoke(&t.env, &revoked.id, &revocation(T0 + 1), &event)
        .await
        .unwrap()
        .expect("the session exists");
    t.sign_in(&t.env, "d@example.test", T0, at - 1).await;
    t.sign_in(&t.other_env, "e@example.test", T0, T0 + HOUR)
        .await;

    let environments = &t.store.environments;
    let event = t.event("admin.environment.sessions.revoked", at);
    let done = environments
        .revoke_all_sessions(&t.env, &revocation(at), &event)
        .await
        .unwrap();
    assert_eq!(done, (2, 1));
    // Its event carries the revocation's scope for the fan-out.
    let stored = t.store.events.get(&event.id).await.unwrap().unwrap();
    let scope: FanoutScope = serde_json::from_str(stored.data.as_deref().unwrap()).unwrap();
    assert_eq!((scope.epoch, scope.revoked_count), (1, 2));
    assert_eq!(scope.user_id, None);

    assert_eq!(t.revoke_environment(at + 1).await, (0, 2));
    assert_eq!(environments.epochs().await.unwrap(), [(t.env.clone(), 2)]);
    let record = environments.get(&t.env).await.unwrap().unwrap();
    assert_eq!(record.sessions_epoch, 2);
    assert_eq!(record.sessions_revoked_at, Some(at + 1));
}

#[tokio::test]
async fn revoking_a_user_counts_their_live_sessions_and_raises_their_epoch() {
    let t = TestStore::open().await;
    let (ada, _) = t.sign_in(&t.env, "ada@example.test", T0, T0 + HOUR).await;
    t.sign_in(&t.env, "ada@example.test", T0 + 1, T0 + 2 * HOUR)
        .await;
    t.sign_in(&t.env, "bob@example.test", T0, T0 + HOUR).await;
    let at = T0 + MINUTE;
    let users = &t.store.users;
    let done = t.revoke_user(&ada.id, at).await;
    assert_eq!(done, (2, 1));
    assert_eq!(users.epochs().await.unwrap(), [(ada.id.clone(), 1, at)]);
    let again = t.revoke_user(&ada.id, at + 1).await;
    assert_eq!(again, (0, 2));

    // The environment's count leaves out what the user's revocation took.
    let (count, _) = t.revoke_environment(at + 2).await;
    assert_eq!(count, 1);
}

#[tokio::test]
async fn a_session_is_revoked_once() {
    let t = TestStore::open().await;
    let (user, session) = t.sign_in(&t.env, "one@example.test", T0, T0 + HOUR).await;
    t.sign_in(&t.env, "two@example.test", T0, T0 + HOUR).await;
    let sessions = &t.store.sessions;
    let first = t.event("admin.user.session.revoked", T0 + 1);
    let view = sessions
        .revoke(&t.env, &session.id, &revocation(T0 + 1), &first)
        .await
        .unwrap()
        .expect("the session exists");
    assert_eq!(view.session.revoked_at, Some(T0 + 1));
    let second = t.event("admin.user.session.revoked", T0 + 2);
    let view = sessions
        .revoke(&t.env, &session.id, &revocation(T0 + 2), &second)
        .await
        .unwrap()
        .expect("the session exists");
    assert_eq!(view.session.revoked_at, Some(T0 + 1));
    // Only the revocation that changed something wrote its event.
    assert!(t.store.events.get(&first.id).await.unwrap().is_some());
    assert!(t.store.events.get(&second.id).await.unwrap().is_none());
    // Not in another environment, nor an unknown one.
    let elsewhere = t.event("admin.user.session.revoked", T0 + 3);
    let found = sessions
        .revoke(&t.other_env, &session.id, &revocation(T0 + 3), &elsewhere)
        .await
        .unwrap();
    assert!(found.is_none());

    let revoked = sessions
        .list_for_user(&t.env, &user.id, &SessionFilter::Revoked)
        .await
        .unwrap();
    assert_eq!(revoked.len(), 1);
    // Revoked sessions stay listed for the nodes until they expire.
    let exp = (T0 + HOUR) / 1000;
    let listed = sessions.revoked_unexpired(exp - 1).await.unwrap();
    assert_eq!(listed, [(session.id.clone(), exp)]);
    assert!(sessions.revoked_unexpired(exp).await.unwrap().is_empty());
    // The environment's count leaves it out.
    let (count, _) = t.revoke_environment(T0 + 4).await;
    assert_eq!(count, 1);
}
