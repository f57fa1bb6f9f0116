//! Verified credentials: a sign-in finds its user by the credential it
//! proves, one value belongs to one user of an environment however many
//! first sign-ins race for it, and the migration that brought credentials
//! gave every existing user their address.

use futures::future::join_all;
use portcullis::store::{
    Backend, Constraint, SessionFilter, SignInRecord, Store, StoreError, UserQuery,
};
use sqlx::{Connection, PgConnection, SqliteConnection};

use crate::fixtures::{HOUR, MINUTE, T0, TestStore, backend};
use crate::postgres::PgDatabase;

#[tokio::test]
async fn racing_first_sign_ins_of_one_new_address_make_one_user_with_one_credential() {
    let t = TestStore::open().await;
    let email = "first@example.test";
    let mut codes = Vec::new();
    for i in 0..8 {
        codes.push(t.code(&t.env, email, b"right", T0 + i).await);
    }
    let racers = codes
        .iter()
        .map(|code| t.sign_in_with(code, &t.env, email, T0 + MINUTE, T0 + HOUR));
    let mut signed_in: Vec<SignInRecord> = Vec::new();
    let mut refused = Vec::new();
    for (code, result) in codes.iter().zip(join_all(racers).await) {
        match result {
            Ok(Some(s)) => signed_in.push(s),
            // PostgreSQL: the later of two first sign-ins breaks the
            // credential's unique rule and writes nothing.
            Err(StoreError::Conflict(Constraint::Credential)) => refused.push(code),
            other => panic!("a racer: {other:?}"),
        }
    }
    if backend() == Backend::Sqlite {
        assert!(refused.is_empty(), "one writer cannot race: {refused:?}");
    }
    // A refused sign-in left its code unused: trying again signs in, as
    // the service does, as the user the winner made.
    for code in refused {
        let again = t
            .sign_in_with(code, &t.env, email, T0 + MINUTE, T0 + HOUR)
            .await
            .expect("the second try is stored")
            .expect("the refused try left its code unused");
        signed_in.push(again);
    }
    assert_eq!(signed_in.len(), 8);
    let user_id = &signed_in[0].user.id;
    assert!(signed_in.iter().all(|s| &s.user.id == user_id));
    assert!(signed_in.iter().all(|s| &s.session.user_id == user_id));

    let users = t.users_with_email(&t.env, email).await;
    assert_eq!(users.len(), 1);
    let credentials = t.store.users.credentials(&t.env, user_id).await.unwrap();
    assert_eq!(credentials.len(), 1, "{credentials:?}");
    assert_eq!(
        (credentials[0].kind.as_str(), credentials[0].value.as_str()),
        ("email", email)
    );
    let sessions = t
        .store
        .sessions
        .list_for_user(&t.env, user_id, &SessionFilter::All)
        .await
        .unwrap();
    assert_eq!(sessions.len(), 8);
}

/// PostgreSQL: the later of two first sign-ins of one new address breaks
/// the credential's unique rule and writes nothing, its code unused, so
/// that its retry finds the earlier one's user. (SQLite's one writer runs
/// them one after the other: nothing to race.)
#[tokio::test]
async fn a_first_sign_in_that_loses_the_race_writes_nothing() {
    let t = TestStore::open().await;
    if backend() != Backend::Postgres {
        return;
    }
    let email = "loser@example.test";
    let late = t.code(&t.env, email, b"late", T0).await;
    let early = t.code(&t.env, email, b"early", T0 + 1).await;
    // The late one starts first (its snapshot sees no credential), then
    // waits for its verification's row while the early one signs in.
    let mut held = t.lock_row("verifications", "id", &late).await;
    let late_sign_in = t.sign_in_with(&late, &t.env, email, T0 + MINUTE, T0 + HOUR);
    let early_sign_in = async {
        held.wait_for_a_waiter().await;
        let won = t
            .sign_in_with(&early, &t.env, email, T0 + MINUTE, T0 + HOUR)
            .await;
        held.release().await;
        won
    };
    let (lost, won) = tokio::join!(late_sign_in, early_sign_in);
    let won = won.expect("stored").expect("signed in");
    assert!(
        matches!(lost, Err(StoreError::Conflict(Constraint::Credential))),
        "{lost:?}"
    );
    assert_eq!(t.users_with_email(&t.env, email).await.len(), 1);
    let sessions = t
        .store
        .sessions
        .list_for_user(&t.env, &won.user.id, &SessionFilter::All)
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1, "the loser stored no session");

    let retried = t
        .sign_in_with(&late, &t.env, email, T0 + MINUTE, T0 + HOUR)
        .await
        .expect("stored")
        .expect("the loser's code was left unused");
    assert_eq!(retried.user.id, won.user.id);
    let credentials = t
        .store
        .users
        .credentials(&t.env, &won.user.id)
        .await
        .unwrap();
    assert_eq!(credentials.len(), 1);
}

#[tokio::test]
async fn a_later_sign_in_marks_the_credential_used_and_makes_no_other() {
    let t = TestStore::open().await;
    let phone = "+14155550123";
    let code = t.code(&t.env, phone, b"right", T0).await;
    let first = t
        .sign_in_by(&code, &t.env, "phone", phone, T0 + 1, T0 + HOUR)
        .await
        .unwrap()
        .expect("signed in");
    assert_eq!(first.user.phone_number.as_deref(), Some(phone));
    assert_eq!(first.user.email, None);
    let before = t
        .store
        .users
        .credentials(&t.env, &first.user.id)
        .await
        .unwrap();
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].last_used_at, Some(T0 + 1));

    let code = t.code(&t.env, phone, b"right", T0 + MINUTE).await;
    let later = t
        .sign_in_by(&code, &t.env, "phone", phone, T0 + 2 * MINUTE, T0 + HOUR)
        .await
        .unwrap()
        .expect("signed in");
    assert_eq!(later.user.id, first.user.id);
    let after = t
        .store
        .users
        .credentials(&t.env, &first.user.id)
        .await
        .unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].id, before[0].id);
    assert_eq!(after[0].verified_at, before[0].verified_at);
    assert_eq!(after[0].last_used_at, Some(T0 + 2 * MINUTE));

    // The same value of another kind, or in another environment, is
    // another credential and another user.
    let code = t.code(&t.other_env, phone, b"right", T0).await;
    let elsewhere = t
        .sign_in_by(&code, &t.other_env, "phone", phone, T0 + 3, T0 + HOUR)
        .await
        .unwrap()
        .expect("signed in");
    assert_ne!(elsewhere.user.id, first.user.id);
    let theirs = t
        .store
        .users
        .credentials(&t.env, &elsewhere.user.id)
        .await
        .unwrap();
    assert!(theirs.is_empty(), "another environment's: {theirs:?}");
}

#[tokio::test]
async fn a_page_of_users_reads_the_credentials_of_its_id_range() {
    let t = TestStore::open().await;
    let mut ids = Vec::new();
    for name in ["a", "b", "c"] {
        let (user, _) = t
            .sign_in(&t.env, &format!("{name}@example.test"), T0, T0 + HOUR)
            .await;
        ids.push(user.id);
    }
    t.sign_in(&t.other_env, "a@example.test", T0, T0 + HOUR)
        .await;
    ids.sort();
    let range = t
        .store
        .users
        .credentials_of_range(&t.env, &ids[0], &ids[1])
        .await
        .unwrap();
    let owners: Vec<&str> = range.iter().map(|c| c.user_id.as_str()).collect();
    assert_eq!(owners, [ids[0].as_str(), ids[1].as_str()]);
}

/// Rows of a database at the migration before credentials: a tenant's
/// environment, two users with an address (one signed in twice), one
/// without.
const BEFORE_CREDENTIALS: &[&str] = &[
    "INSERT INTO organizations (id, name, created_at) VALUES ('org_1', 'Org', 1000)",
    "INSERT INTO projects (id, organization_id, name, created_at) VALUES ('prj_1', 'org_1', 'P', 1000)",
    "INSERT INTO environments (id, project_id, organization_id, kind, settings_json, created_at) \
     VALUES ('env_1', 'prj_1', 'org_1', 'sandbox', '{}', 1000)",
    "INSERT INTO users (id, environment_id, email, created_at) VALUES \
     ('usr_00000000000000000000000000000001', 'env_1', 'ada@example.test', 2000), \
     ('usr_00000000000000000000000000000002', 'env_1', 'bob@example.test', 3000), \
     ('usr_00000000000000000000000000000003', 'env_1', NULL, 4000)",
    "INSERT INTO sessions (id, environment_id, user_id, iat, env_epoch, user_epoch, created_at, \
     expires_at, amr, scope) VALUES \
     ('ses_1', 'env_1', 'usr_00000000000000000000000000000001', 5, 0, 0, 5000, 9000, '[]', 'user:basic'), \
     ('ses_2', 'env_1', 'usr_00000000000000000000000000000001', 6, 0, 0, 6000, 9000, '[]', 'user:basic')",
];

#[tokio::test]
async fn the_migration_gives_every_user_with_an_address_its_credential() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pg;
    // The database at the migration before credentials, with rows.
    macro_rules! at_previous_migration {
        ($conn:ty, $url:expr, $migrations:literal, $before:expr) => {{
            let url = $url;
            let mut conn = <$conn>::connect(&url).await.expect("connect");
            sqlx::migrate!($migrations)
                .run_to($before, &mut conn)
                .await
                .expect("migrated to the one before");
            for statement in BEFORE_CREDENTIALS {
                sqlx::query(*statement)
                    .execute(&mut conn)
                    .await
                    .expect(statement);
            }
            url
        }};
    }
    let url = match backend() {
        Backend::Sqlite => at_previous_migration!(
            SqliteConnection,
            format!("sqlite://{}/store.db?mode=rwc", dir.path().display()),
            "./migrations/sqlite",
            11
        ),
        Backend::Postgres => {
            pg = PgDatabase::fresh();
            at_previous_migration!(PgConnection, pg.url(), "./migrations/postgres", 12)
        }
    };
    let store = Store::open(&url).await.expect("the store migrates");

    let ada = "usr_00000000000000000000000000000001";
    let credentials = store.users.credentials("env_1", ada).await.unwrap();
    assert_eq!(credentials.len(), 1, "{credentials:?}");
    let c = &credentials[0];
    assert_eq!(c.id, "vcr_00000000000000000000000000000001");
    assert_eq!(
        (c.kind.as_str(), c.value.as_str()),
        ("email", "ada@example.test")
    );
    assert_eq!((c.verified_at, c.created_at), (2000, 2000));
    assert_eq!(c.last_used_at, Some(6000), "the newest session's");

    let bob = store
        .users
        .credentials("env_1", "usr_00000000000000000000000000000002")
        .await
        .unwrap();
    assert_eq!(bob.len(), 1);
    assert_eq!(bob[0].last_used_at, None, "never signed in");
    let none = store
        .users
        .credentials("env_1", "usr_00000000000000000000000000000003")
        .await
        .unwrap();
    assert!(none.is_empty());

    // The address is found through its credential, and the primary stays.
    let found = store
        .users
        .list(
            "env_1",
            &UserQuery {
                credential: Some(("email".into(), "ada@example.test".into())),
                after: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, ada);
    assert_eq!(found[0].email.as_deref(), Some("ada@example.test"));
}
