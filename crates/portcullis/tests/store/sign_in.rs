//! The sign-in statement (`SessionStore::sign_in`) uses its
//! code once, however many sign-ins race for it, and a code takes only as
//! many attempts as allowed.

use futures::future::join_all;
use portcullis::store::{Attempt, SessionFilter, SignInRecord};

use crate::fixtures::{HOUR, MINUTE, T0, TestStore};

#[tokio::test]
async fn a_code_signs_in_once() {
    let t = TestStore::open().await;
    let email = "once@example.test";
    let code = t.code(&t.env, email, b"right", T0).await;
    let first = attempt(&t, &t.env, &code, 5, T0 + 1, b"right").await;
    assert!(matches!(first, Attempt::Matched(_)), "{first:?}");

    let SignInRecord {
        user,
        session,
        mfa_kinds: kinds,
    } = t
        .sign_in_with(&code, &t.env, email, T0 + 2, T0 + HOUR)
        .await
        .unwrap()
        .expect("the first use of the code signs in");
    assert_eq!(session.user_id, user.id);
    assert_eq!(user.email.as_deref(), Some(email));
    assert!(kinds.is_empty());

    let again = t
        .sign_in_with(&code, &t.env, email, T0 + 3, T0 + HOUR)
        .await
        .unwrap();
    assert!(again.is_none(), "a used code signed in again: {again:?}");
    let sessions = t
        .store
        .sessions
        .list_for_user(&t.env, &user.id, &SessionFilter::All)
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].session.id, session.id);
    // A used code takes no more attempts, not even the right one.
    let after = attempt(&t, &t.env, &code, 5, T0 + 4, b"right").await;
    assert!(matches!(after, Attempt::Refused), "{after:?}");
}

#[tokio::test]
async fn racing_sign_ins_with_one_code_make_one_session() {
    let t = TestStore::open().await;
    let email = "race@example.test";
    let code = t.code(&t.env, email, b"right", T0).await;
    let racers = (0..8).map(|i| t.sign_in_with(&code, &t.env, email, T0 + i, T0 + HOUR));
    let results = join_all(racers).await;
    let signed_in: Vec<_> = results
        .into_iter()
        .filter_map(|r| r.expect("no racer fails"))
        .collect();
    assert_eq!(
        signed_in.len(),
        1,
        "one code made {} sessions",
        signed_in.len()
    );

    let users = t.users_with_email(&t.env, email).await;
    assert_eq!(users.len(), 1);
    let sessions = t
        .store
        .sessions
        .list_for_user(&t.env, &users[0].id, &SessionFilter::All)
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1);
}

/// The address's user is found, not made again, and a session is born
/// under the newest revocation the store knows.
#[tokio::test]
async fn a_sign_in_finds_the_user_and_takes_the_stored_epochs() {
    let t = TestStore::open().await;
    let email = "again@example.test";
    let (first_user, first) = t.sign_in(&t.env, email, T0, T0 + HOUR).await;
    assert_eq!((first.env_epoch, first.user_epoch), (0, 0));

    let at = T0 + MINUTE;
    t.revoke_user(&first_user.id, at).await;
    t.revoke_environment(at).await;
    t.revoke_environment(at).await;

    // `new_session` asks for epoch 0: the store raises it.
    let (user, session) = t.sign_in(&t.env, email, at + 1, at + HOUR).await;
    assert_eq!(user.id, first_user.id);
    assert_eq!(session.user_id, first_user.id);
    assert_eq!((session.env_epoch, session.user_epoch), (2, 1));
    // The same address in another environment is another user.
    let (elsewhere, session) = t.sign_in(&t.other_env, email, at + 2, at + HOUR).await;
    assert_ne!(elsewhere.id, first_user.id);
    assert_eq!((session.env_epoch, session.user_epoch), (0, 0));
}

#[tokio::test]
async fn racing_wrong_guesses_spend_no_more_than_the_allowed_attempts() {
    let t = TestStore::open().await;
    let code = t.code(&t.env, "guess@example.test", b"right", T0).await;
    let guesses = (0..10).map(|i| {
        t.store
            .verifications
            .attempt(&t.env, &code, 3, T0 + i, b"wrong")
    });
    let outcomes: Vec<Attempt> = join_all(guesses)
        .await
        .into_iter()
        .map(|r| r.expect("no guess fails"))
        .collect();
    let wrong = outcomes
        .iter()
        .filter(|a| matches!(a, Attempt::Wrong(_)))
        .count();
    let refused = outcomes
        .iter()
        .filter(|a| matches!(a, Attempt::Refused))
        .count();
    assert_eq!((wrong, refused), (3, 7));
    let right = attempt(&t, &t.env, &code, 3, T0 + 20, b"right").await;
    assert!(matches!(right, Attempt::Refused), "{right:?}");
}

#[tokio::test]
async fn only_the_newest_unexpired_code_takes_attempts() {
    let t = TestStore::open().await;
    let email = "newest@example.test";
    let older = t.code(&t.env, email, b"one", T0).await;
    let newer = t.code(&t.env, email, b"two", T0 + 1).await;
    let superseded = attempt(&t, &t.env, &older, 5, T0 + 2, b"one").await;
    assert!(matches!(superseded, Attempt::Refused), "{superseded:?}");
    // Another environment does not know the code.
    let foreign = attempt(&t, &t.other_env, &newer, 5, T0 + 2, b"two").await;
    assert!(matches!(foreign, Attempt::Refused), "{foreign:?}");
    // Codes last ten minutes (`TestStore::code`).
    let expired = attempt(&t, &t.env, &newer, 5, T0 + 1 + 10 * MINUTE, b"two").await;
    assert!(matches!(expired, Attempt::Refused), "{expired:?}");
    let live = attempt(&t, &t.env, &newer, 5, T0 + 10 * MINUTE, b"two").await;
    assert!(matches!(live, Attempt::Matched(_)), "{live:?}");
}

/// One attempt at `code` with `mac`, allowing `max` attempts.
async fn attempt(t: &TestStore, env: &str, code: &str, max: i64, at: i64, mac: &[u8]) -> Attempt {
    t.store
        .verifications
        .attempt(env, code, max, at, mac)
        .await
        .expect("the attempt is made")
}
