//! Members' sign-ins, sessions and TOTP (the dashboard), on each backend:
//! only the newest code of an address works and each attempt is spent
//! before the comparison; a sign-in makes one session; a session is seen
//! with its member's role now, and not at all once the member is gone; a
//! TOTP step works once.

use portcullis::domain::roles::Role;
use portcullis::store::{
    MemberSignInRecord, MemberTotpRecord, NewMemberSession, SessionStage, SignInAttempt,
};

use crate::fixtures::{HOUR, MINUTE, T0, TestStore, id, member};

fn sign_in(org: &str, email: &str, member_id: Option<&str>, mac: &[u8]) -> MemberSignInRecord {
    MemberSignInRecord {
        id: id("msi"),
        organization_id: org.to_string(),
        email: email.to_string(),
        member_id: member_id.map(str::to_string),
        code_mac: mac.to_vec(),
        attempts: 0,
        created_at: T0,
        expires_at: T0 + 10 * MINUTE,
        consumed_at: None,
    }
}

fn session(member_id: &str, role: Role, stage: SessionStage) -> NewMemberSession {
    NewMemberSession {
        id_hash: id("hash").into_bytes(),
        member_id: member_id.to_string(),
        role,
        stage,
        created_at: T0,
        expires_at: T0 + 12 * HOUR,
    }
}

#[tokio::test]
async fn only_the_newest_code_works_each_attempt_is_spent_and_a_sign_in_makes_one_session() {
    let t = TestStore::open().await;
    let access = &t.store.member_access;
    let dev = member(&t.org, "dev@example.test", "developer");
    t.store.members.insert(&dev, &[]).await.unwrap();
    let old = sign_in(&t.org, &dev.email, Some(&dev.id), b"old");
    let new = sign_in(&t.org, &dev.email, Some(&dev.id), b"new");
    access.insert_sign_in(&old).await.unwrap();
    access.insert_sign_in(&new).await.unwrap();

    let attempt = |sign_in_id: String, mac: &'static [u8]| {
        let org = t.org.clone();
        async move {
            access
                .attempt_sign_in(&org, &sign_in_id, 3, T0 + MINUTE, mac)
                .await
                .unwrap()
        }
    };
    assert!(matches!(
        attempt(old.id.clone(), b"old").await,
        SignInAttempt::Refused
    ));
    assert!(
        matches!(attempt(new.id.clone(), b"bad").await, SignInAttempt::Wrong(s) if s.attempts == 1)
    );
    let SignInAttempt::Matched(matched) = attempt(new.id.clone(), b"new").await else {
        panic!("the newest code matches")
    };
    assert_eq!(matched.member_id.as_deref(), Some(dev.id.as_str()));
    let first = session(&dev.id, Role::Developer, SessionStage::SignedIn);
    assert!(
        access
            .begin_session(&new.id, &first, T0 + MINUTE)
            .await
            .unwrap()
    );
    let again = session(&dev.id, Role::Developer, SessionStage::SignedIn);
    assert!(
        !access
            .begin_session(&new.id, &again, T0 + MINUTE)
            .await
            .unwrap(),
        "a sign-in makes one session"
    );
    assert!(access.session(&again.id_hash).await.unwrap().is_none());
    assert!(
        matches!(
            attempt(new.id.clone(), b"new").await,
            SignInAttempt::Refused
        ),
        "a used sign-in takes no more attempts"
    );

    let stranger = sign_in(&t.org, "nobody@example.test", None, b"code");
    access.insert_sign_in(&stranger).await.unwrap();
    assert!(
        matches!(
            attempt(stranger.id.clone(), b"code").await,
            SignInAttempt::Wrong(_)
        ),
        "an address that is no member's never matches"
    );
    let limited = sign_in(&t.org, "other@example.test", Some(&dev.id), b"right");
    access.insert_sign_in(&limited).await.unwrap();
    for _ in 0..3 {
        assert!(matches!(
            attempt(limited.id.clone(), b"wrong").await,
            SignInAttempt::Wrong(_)
        ));
    }
    assert!(matches!(
        attempt(limited.id.clone(), b"right").await,
        SignInAttempt::Refused
    ));
    let late = access
        .attempt_sign_in(&t.org, &stranger.id, 3, T0 + 11 * MINUTE, b"code")
        .await
        .unwrap();
    assert!(matches!(late, SignInAttempt::Refused), "expired");
}

#[tokio::test]
async fn a_session_is_seen_with_its_members_role_now_and_ends_with_the_member() {
    let t = TestStore::open().await;
    let access = &t.store.member_access;
    let dev = member(&t.org, "dev@example.test", "developer");
    t.store.members.insert(&dev, &[]).await.unwrap();
    let s = session(&dev.id, Role::Developer, SessionStage::Totp);
    let si = sign_in(&t.org, &dev.email, Some(&dev.id), b"c");
    access.insert_sign_in(&si).await.unwrap();
    assert!(access.begin_session(&si.id, &s, T0).await.unwrap());

    let view = access.session(&s.id_hash).await.unwrap().unwrap();
    assert_eq!(
        (view.role, view.member_role),
        (Role::Developer, Role::Developer)
    );
    assert_eq!(view.stage, SessionStage::Totp);
    assert_eq!(
        (view.email.as_str(), view.organization_id.as_str()),
        (dev.email.as_str(), t.org.as_str())
    );
    assert!(!view.has_totp && !view.require_member_mfa);

    access
        .touch_session(&s.id_hash, T0 + 5 * MINUTE)
        .await
        .unwrap();
    let moved = b"moved".to_vec();
    assert!(
        access
            .complete_session(&s.id_hash, &moved, T0 + 6 * MINUTE)
            .await
            .unwrap()
    );
    assert!(
        access.session(&s.id_hash).await.unwrap().is_none(),
        "the id that waited for the code is gone"
    );
    assert!(
        !access
            .complete_session(&moved, b"again", T0 + 7 * MINUTE)
            .await
            .unwrap(),
        "only a waiting session completes"
    );
    let s = NewMemberSession {
        id_hash: moved,
        ..s
    };
    let view = access.session(&s.id_hash).await.unwrap().unwrap();
    assert_eq!(
        (view.stage, view.last_seen_at),
        (SessionStage::SignedIn, T0 + 6 * MINUTE)
    );

    access.set_require_member_mfa(&t.org, true).await.unwrap();
    t.member_totp(&dev.id, Some(T0)).await;
    let view = access.session(&s.id_hash).await.unwrap().unwrap();
    assert!(view.has_totp && view.require_member_mfa);
    let updated = t
        .store
        .members
        .update(
            &t.org,
            &dev.id,
            Role::Developer,
            &portcullis::store::MemberChanges {
                role: Some(Role::Viewer),
                ..Default::default()
            },
            T0,
            &[],
        )
        .await
        .unwrap();
    assert!(updated.is_some());
    assert!(
        access.session(&s.id_hash).await.unwrap().is_none(),
        "a role change ends the member's sessions in its transaction"
    );

    let later = session(&dev.id, Role::Viewer, SessionStage::SignedIn);
    let si = sign_in(&t.org, &dev.email, Some(&dev.id), b"c");
    access.insert_sign_in(&si).await.unwrap();
    assert!(access.begin_session(&si.id, &later, T0).await.unwrap());
    let renamed = t
        .store
        .members
        .update(
            &t.org,
            &dev.id,
            Role::Viewer,
            &portcullis::store::MemberChanges {
                name: Some(Some("Dev".into())),
                ..Default::default()
            },
            T0,
            &[],
        )
        .await
        .unwrap();
    assert!(renamed.is_some());
    assert!(
        access.session(&later.id_hash).await.unwrap().is_some(),
        "another change leaves them"
    );
    t.store
        .members
        .delete(&t.org, &dev.id, Role::Viewer, &[])
        .await
        .unwrap();
    assert!(
        access.session(&later.id_hash).await.unwrap().is_none(),
        "gone with its member"
    );

    let owner_session = session(&t.owner_id, Role::Owner, SessionStage::SignedIn);
    let si = sign_in(&t.org, "owner", Some(&t.owner_id), b"c");
    access.insert_sign_in(&si).await.unwrap();
    assert!(
        access
            .begin_session(&si.id, &owner_session, T0)
            .await
            .unwrap()
    );
    access.end_session(&owner_session.id_hash).await.unwrap();
    assert!(
        access
            .session(&owner_session.id_hash)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_member_totp_is_confirmed_once_and_each_step_is_used_once() {
    let t = TestStore::open().await;
    let access = &t.store.member_access;
    let record = |secret: &[u8]| MemberTotpRecord {
        member_id: t.owner_id.clone(),
        secret_sealed: secret.to_vec(),
        created_at: T0,
        confirmed_at: None,
        last_used_step: None,
    };
    assert!(access.totp(&t.owner_id).await.unwrap().is_none());
    assert!(access.begin_totp(&record(b"one")).await.unwrap());
    assert!(
        access.begin_totp(&record(b"two")).await.unwrap(),
        "a pending enrolment starts again"
    );
    assert_eq!(
        access
            .totp(&t.owner_id)
            .await
            .unwrap()
            .unwrap()
            .secret_sealed,
        b"two"
    );
    assert!(
        !access.use_totp_step(&t.owner_id, 10).await.unwrap(),
        "not confirmed yet"
    );
    assert!(
        !access
            .confirm_totp(&t.owner_id, T0 - 1, T0, 10)
            .await
            .unwrap(),
        "another enrolment than the one checked"
    );
    assert!(access.confirm_totp(&t.owner_id, T0, T0, 10).await.unwrap());
    assert!(!access.confirm_totp(&t.owner_id, T0, T0, 11).await.unwrap());
    assert!(
        !access.begin_totp(&record(b"three")).await.unwrap(),
        "confirmed: kept"
    );
    assert!(
        !access.use_totp_step(&t.owner_id, 10).await.unwrap(),
        "the confirming step is used"
    );
    assert!(access.use_totp_step(&t.owner_id, 11).await.unwrap());
    assert!(!access.use_totp_step(&t.owner_id, 11).await.unwrap());
    assert!(!access.use_totp_step(&t.owner_id, 9).await.unwrap());
}

#[tokio::test]
async fn pruning_removes_idle_sessions_and_keeps_busy_ones() {
    let t = TestStore::open().await;
    let access = &t.store.member_access;
    let si = sign_in(&t.org, "owner", Some(&t.owner_id), b"c");
    access.insert_sign_in(&si).await.unwrap();
    let busy = session(&t.owner_id, Role::Owner, SessionStage::SignedIn);
    let idle = session(&t.owner_id, Role::Owner, SessionStage::SignedIn);
    for (s, sign) in [
        (&busy, si.clone()),
        (&idle, sign_in(&t.org, "owner", Some(&t.owner_id), b"d")),
    ] {
        if sign.id != si.id {
            access.insert_sign_in(&sign).await.unwrap();
        }
        assert!(access.begin_session(&sign.id, s, T0).await.unwrap());
    }
    access
        .touch_session(&busy.id_hash, T0 + 40 * MINUTE)
        .await
        .unwrap();
    access
        .prune_member_access(T0 + 45 * MINUTE, 30 * MINUTE)
        .await
        .unwrap();
    assert!(access.session(&busy.id_hash).await.unwrap().is_some());
    assert!(access.session(&idle.id_hash).await.unwrap().is_none());
}

#[tokio::test]
async fn a_users_page_reads_the_newest_events_about_the_user_and_their_sessions() {
    let t = TestStore::open().await;
    let events = &t.store.events;
    let about = |subject: &str, at: i64| {
        let mut e = t.event("user.session.created", at);
        e.subject_id = Some(subject.to_string());
        e
    };
    for e in [
        about("usr_1", T0),
        about("ses_1", T0 + 1),
        about("usr_2", T0 + 2),
        about("ses_2", T0 + 3),
    ] {
        events.insert(&e).await.unwrap();
    }
    let mut pending = about("ses_1", T0 + 4);
    pending.fanout = Some("environment_sessions".into());
    events.insert(&pending).await.unwrap();
    let subjects = ["usr_1".to_string(), "ses_1".to_string()];
    let found = events.about(&t.env, &subjects, 10).await.unwrap();
    let got: Vec<_> = found
        .iter()
        .map(|e| e.subject_id.clone().unwrap())
        .collect();
    assert_eq!(got, ["ses_1", "usr_1"], "newest first, no fan-out pending");
    assert_eq!(events.about(&t.env, &subjects, 1).await.unwrap().len(), 1);
    assert!(
        events
            .about(&t.other_env, &subjects, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(events.about(&t.env, &[], 10).await.unwrap().is_empty());
}
