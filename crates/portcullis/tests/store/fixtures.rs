//! What every test starts from: a store on the run's backend holding one
//! tenant, and records to write into it. Instants are fixed (`T0` and
//! offsets from it): the store takes time as an argument, so no test
//! depends on the clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use portcullis::domain::delivery::{DeliveryStatus, MailStatus};
use portcullis::domain::roles::Role;
use portcullis::store::{
    ApiTokenRecord, Backend, Constraint, CredentialKey, DeliveryRecord, EnvironmentRecord,
    EventRecord, MemberRecord, MfaDeviceRecord, NewTenant, NotificationRecord, OrganizationRecord,
    ProjectRecord, Revocation, SessionRecord, SignInEventIds, SignInRecord, Store, StoreError,
    StoreResult, UsedCode, UserQuery, UserRecord, VerificationRecord, WebhookRecord,
};
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};
use tempfile::TempDir;

use crate::postgres::PgDatabase;

/// An instant in Unix ms, the start of every test's timeline.
pub const T0: i64 = 1_700_000_000_000;
pub const MINUTE: i64 = 60_000;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// The backend this run of the tests uses, as the black-box tests decide
/// it (`tests/blackbox/harness/storage.rs`): `PORTCULLIS_TEST_BACKEND`,
/// SQLite unless it says `postgres`.
pub fn backend() -> Backend {
    match std::env::var("PORTCULLIS_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("PORTCULLIS_TEST_BACKEND: sqlite or postgres, not {other}"),
    }
}

/// A fresh id with a prefix; unique within the test process.
pub fn id(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{prefix}_{:08}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A store of its own for one test, with one organization whose project
/// has two environments (`env` and `other_env`) and an owner.
pub struct TestStore {
    pub store: Store,
    pub org: String,
    pub env: String,
    pub other_env: String,
    pub owner_id: String,
    pub owner_token_hash: Vec<u8>,
    /// The database's URL, for the rows no store method writes yet.
    url: String,
    pg: Option<PgDatabase>,
    _dir: Option<TempDir>,
}

impl TestStore {
    /// A new database (a SQLite file in a temporary directory, or a fresh
    /// PostgreSQL database), migrated, with the tenant written.
    pub async fn open() -> TestStore {
        let (url, pg, dir) = match backend() {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/store.db", dir.path().display());
                (url, None, Some(dir))
            }
            Backend::Postgres => {
                let pg = PgDatabase::fresh();
                (pg.url(), Some(pg), None)
            }
        };
        let store = Store::open(&url).await.expect("the store opens");
        let tenant = tenant();
        store
            .organizations
            .create_tenant(&tenant)
            .await
            .expect("the tenant is written");
        TestStore {
            store,
            org: tenant.organization.id.clone(),
            env: tenant.environments[0].id.clone(),
            other_env: tenant.environments[1].id.clone(),
            owner_id: tenant.owner.id.clone(),
            owner_token_hash: tenant.owner_token.token_hash.clone(),
            url,
            pg,
            _dir: dir,
        }
    }

    /// An event of the organization in `env`, written by the system.
    pub fn event(&self, kind: &str, at: i64) -> EventRecord {
        EventRecord {
            id: id("evt"),
            organization_id: self.org.clone(),
            environment_id: Some(self.env.clone()),
            kind: kind.into(),
            actor_kind: "system".into(),
            actor_id: None,
            ip_address: None,
            subject_id: None,
            data: None,
            fanout: None,
            fanout_cursor: None,
            created_at: at,
            dispatched_at: None,
            notify: None,
        }
    }

    /// A new code for `email` in `environment_id`, good for ten minutes
    /// from `at`, whose MAC is `mac`; its id.
    pub async fn code(&self, environment_id: &str, email: &str, mac: &[u8], at: i64) -> String {
        let verification = VerificationRecord {
            id: id("vrf"),
            environment_id: environment_id.into(),
            channel: "email".into(),
            destination: email.into(),
            code_mac: mac.to_vec(),
            attempts: 0,
            created_at: at,
            expires_at: at + 10 * MINUTE,
            consumed_at: None,
        };
        self.store
            .verifications
            .insert(&verification)
            .await
            .expect("the code is stored");
        verification.id
    }

    /// Signs `email` in with a new code at `at`: the user (found or made)
    /// and a session that expires at `expires_at`.
    pub async fn sign_in(
        &self,
        environment_id: &str,
        email: &str,
        at: i64,
        expires_at: i64,
    ) -> (UserRecord, SessionRecord) {
        let code = self.code(environment_id, email, b"mac", at).await;
        let signed_in = self
            .sign_in_with(&code, environment_id, email, at, expires_at)
            .await
            .expect("the sign-in is stored")
            .expect("the code was not used before");
        (signed_in.user, signed_in.session)
    }

    /// `SessionStore::sign_in` with code `code` and the e-mail credential
    /// `email`, for a new user and session.
    pub async fn sign_in_with(
        &self,
        code: &str,
        environment_id: &str,
        email: &str,
        at: i64,
        expires_at: i64,
    ) -> StoreResult<Option<SignInRecord>> {
        self.sign_in_by(code, environment_id, "email", email, at, expires_at)
            .await
    }

    /// `SessionStore::sign_in` with code `code` and the credential
    /// `(kind, value)`, for a new user (whose primary of that kind it is)
    /// and session.
    pub async fn sign_in_by(
        &self,
        code: &str,
        environment_id: &str,
        kind: &str,
        value: &str,
        at: i64,
        expires_at: i64,
    ) -> StoreResult<Option<SignInRecord>> {
        let used = UsedCode {
            verification_id: code.into(),
            used_at: at,
        };
        let events = SignInEventIds {
            session_created: None,
            user_created: None,
        };
        let mut candidate = new_user(environment_id, value, at);
        if kind != "email" {
            candidate.email = None;
        }
        match kind {
            "phone" => candidate.phone_number = Some(value.into()),
            "wallet" => candidate.wallet = Some(value.into()),
            _ => {}
        }
        let credential = CredentialKey {
            id: id("vcr"),
            kind: kind.into(),
            value: value.into(),
        };
        self.store
            .sessions
            .sign_in(
                &used,
                &credential,
                &candidate,
                &new_session(environment_id, at, expires_at),
                &events,
            )
            .await
    }

    /// The users of `environment_id` with the verified address `email`.
    pub async fn users_with_email(&self, environment_id: &str, email: &str) -> Vec<UserRecord> {
        let query = UserQuery {
            credential: Some(("email".into(), email.into())),
            after: None,
            limit: 10,
        };
        self.store
            .users
            .list(environment_id, &query)
            .await
            .expect("the users are listed")
    }

    /// Revokes every session of `env` at `at`: how many it revoked and
    /// the environment's new epoch.
    pub async fn revoke_environment(&self, at: i64) -> (u64, i64) {
        let event = self.event("admin.environment.sessions.revoked", at);
        self.store
            .environments
            .revoke_all_sessions(&self.env, &revocation(at), &event)
            .await
            .expect("the environment's sessions are revoked")
    }

    /// Revokes every session of a user of `env` at `at`: how many it
    /// revoked and the user's new epoch.
    pub async fn revoke_user(&self, user_id: &str, at: i64) -> (u64, i64) {
        let event = self.event("admin.user.sessions.revoked", at);
        self.store
            .users
            .revoke_sessions(&self.env, user_id, &revocation(at), &event)
            .await
            .expect("the user's sessions are revoked")
    }

    /// A webhook of `env`, taking every event, stored.
    pub async fn webhook(&self, at: i64) -> WebhookRecord {
        let webhook = self.webhook_record(at);
        let added = self
            .store
            .webhooks
            .insert(&webhook, 10, &self.event("webhook.created", at))
            .await
            .expect("the webhook is stored");
        assert!(added);
        webhook
    }

    /// A webhook of `env`, taking every event.
    pub fn webhook_record(&self, at: i64) -> WebhookRecord {
        WebhookRecord {
            id: id("whk"),
            environment_id: self.env.clone(),
            url: "https://hooks.example.test/in".into(),
            description: String::new(),
            events: "[]".into(),
            enabled: true,
            secret_sealed: vec![7; 48],
            previous_secret_sealed: None,
            previous_secret_until: None,
            consecutive_failures: 0,
            disabled_reason: None,
            created_at: at,
            updated_at: at,
        }
    }

    /// A delivery of `event` to `webhook` in the state `status`, due at
    /// `due` when pending.
    pub fn delivery(
        &self,
        webhook: &WebhookRecord,
        event: &EventRecord,
        status: &str,
        due: Option<i64>,
    ) -> DeliveryRecord {
        DeliveryRecord {
            id: id("dlv"),
            webhook_id: webhook.id.clone(),
            event_id: event.id.clone(),
            environment_id: self.env.clone(),
            status: DeliveryStatus::try_from(status.to_string()).expect("a delivery status"),
            attempts: 0,
            next_attempt_at: due,
            last_response_status: None,
            created_at: event.created_at,
            completed_at: None,
        }
    }

    /// A notification e-mail about `event` in the state `status`, due at
    /// `due` when pending.
    pub fn notification(
        &self,
        event: &EventRecord,
        status: &str,
        due: Option<i64>,
    ) -> NotificationRecord {
        NotificationRecord {
            id: id("ntf"),
            event_id: event.id.clone(),
            environment_id: self.env.clone(),
            recipient: "security@example.test".into(),
            status: MailStatus::try_from(status.to_string()).expect("a mail status"),
            attempts: 0,
            next_attempt_at: due,
            last_error: None,
            created_at: event.created_at,
            sent_at: None,
        }
    }

    /// Writes `event` and dispatches it at once with these deliveries and
    /// notifications.
    pub async fn dispatched(
        &self,
        event: &EventRecord,
        deliveries: &[DeliveryRecord],
        notifications: &[NotificationRecord],
    ) {
        self.store.events.insert(event).await.expect("event stored");
        let dispatched = self
            .store
            .events
            .dispatch(&event.id, None, deliveries, notifications, event.created_at)
            .await
            .expect("event dispatched");
        assert!(dispatched);
    }

    /// A member's TOTP authenticator, confirmed at `confirmed_at` (`None`:
    /// enrolment begun, not confirmed), written with plain SQL: the
    /// dashboard that will write it has no store method yet.
    pub async fn member_totp(&self, member_id: &str, confirmed_at: Option<i64>) {
        const INSERT: &str = "INSERT INTO member_totp (member_id, secret_sealed, created_at, \
                              confirmed_at) VALUES ($1, $2, $3, $4)";
        // The same statement on either backend's connection.
        macro_rules! insert {
            ($conn:ty) => {{
                let mut conn = <$conn>::connect(&self.url).await.expect("connect");
                sqlx::query(INSERT)
                    .bind(member_id)
                    .bind(b"sealed".as_slice())
                    .bind(T0)
                    .bind(confirmed_at)
                    .execute(&mut conn)
                    .await
                    .map(|r| r.rows_affected())
            }};
        }
        let written = match backend() {
            Backend::Sqlite => insert!(SqliteConnection),
            Backend::Postgres => insert!(PgConnection),
        };
        assert_eq!(written.expect("member_totp written"), 1);
    }

    /// PostgreSQL only: another node's transaction, holding the row of
    /// `table` whose `key_column` is `key` locked (`FOR UPDATE`) until it
    /// is released.
    pub async fn lock_row(&self, table: &str, key_column: &str, key: &str) -> RowLock {
        let pg = self
            .pg
            .as_ref()
            .expect("row locks are a PostgreSQL test's tool");
        let mut conn = PgConnection::connect(&pg.url())
            .await
            .expect("a second connection");
        sqlx::query("BEGIN")
            .execute(&mut conn)
            .await
            .expect("BEGIN");
        let locked = sqlx::query(AssertSqlSafe(format!(
            "SELECT 1 FROM {table} WHERE {key_column} = $1 FOR UPDATE"
        )))
        .bind(key)
        .execute(&mut conn)
        .await
        .expect("the row is locked");
        assert_eq!(locked.rows_affected(), 1, "no {table} row {key}");
        RowLock { conn }
    }
}

impl RowLock {
    /// Waits until another session of the database waits for a lock (the
    /// statement under test has reached the row this one holds); fails
    /// after 10 s.
    pub async fn wait_for_a_waiter(&mut self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()",
            )
            .fetch_one(&mut self.conn)
            .await
            .expect("pg_locks is read");
            if waiting > 0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "nothing waited for the held row"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// A transaction of another node holding a row lock (`TestStore::lock_row`).
pub struct RowLock {
    conn: PgConnection,
}

impl RowLock {
    /// Ends the transaction (a rollback: it changed nothing).
    pub async fn release(mut self) {
        sqlx::query("ROLLBACK")
            .execute(&mut self.conn)
            .await
            .expect("ROLLBACK");
    }
}

/// A store call that must not wait for a lock another transaction holds:
/// its answer, or a failure naming `what` if it has none within seconds.
pub async fn without_waiting<T>(what: &str, call: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .unwrap_or_else(|_| panic!("{what} waited for a row another transaction holds"))
}

/// The first tenant: an organization, its project with a `sandbox` and a
/// `live` environment, an owner and an owner token.
pub fn tenant() -> NewTenant {
    let organization = OrganizationRecord {
        id: id("org"),
        name: "Store tests".into(),
        created_at: T0,
    };
    let project = ProjectRecord {
        id: id("prj"),
        organization_id: organization.id.clone(),
        name: "Default".into(),
        created_at: T0,
    };
    let environments = ["sandbox", "live"]
        .into_iter()
        .map(|kind| EnvironmentRecord {
            id: id("env"),
            project_id: project.id.clone(),
            organization_id: organization.id.clone(),
            kind: kind.into(),
            settings: Default::default(),
            locked: false,
            sessions_epoch: 0,
            sessions_revoked_at: None,
            sessions_revoked_by_kind: None,
            sessions_revoked_by_id: None,
            created_at: T0,
        })
        .collect();
    let owner_token = api_token(&organization.id, "owner", id("hash").into_bytes());
    let owner = member(&organization.id, "owner@example.test", "owner");
    NewTenant {
        organization,
        project,
        environments,
        signing_keys: vec![],
        owner_token,
        owner,
    }
}

/// An organization-wide API token with this role and secret hash.
pub fn api_token(organization_id: &str, role: &str, token_hash: Vec<u8>) -> ApiTokenRecord {
    ApiTokenRecord {
        id: id("tok"),
        organization_id: organization_id.into(),
        environment_id: None,
        role: Role::parse(role).expect("a role"),
        note: String::new(),
        token_hash,
        created_at: T0,
        expires_at: None,
        revoked_at: None,
        last_used_at: None,
        previous_hash: None,
        previous_expires_at: None,
        rotated_at: None,
    }
}

pub fn member(organization_id: &str, email: &str, role: &str) -> MemberRecord {
    MemberRecord {
        id: id("mem"),
        organization_id: organization_id.into(),
        email: email.into(),
        name: None,
        role: Role::parse(role).expect("a role"),
        created_at: T0,
        updated_at: T0,
    }
}

/// A user to create if the address has none in the environment.
pub fn new_user(environment_id: &str, email: &str, at: i64) -> UserRecord {
    UserRecord {
        id: id("usr"),
        environment_id: environment_id.into(),
        email: Some(email.into()),
        phone_number: None,
        wallet: None,
        created_at: at,
        sessions_epoch: 0,
        sessions_revoked_at: None,
        sessions_revoked_by_kind: None,
        sessions_revoked_by_id: None,
    }
}

/// A session to insert; the store sets its user and epochs.
pub fn new_session(environment_id: &str, at: i64, expires_at: i64) -> SessionRecord {
    SessionRecord {
        id: id("ses"),
        environment_id: environment_id.into(),
        user_id: String::new(),
        iat: at / 1000,
        env_epoch: 0,
        user_epoch: 0,
        created_at: at,
        expires_at,
        ip_address: None,
        user_agent: None,
        last_active_at: None,
        revoked_at: None,
        revoked_by_kind: None,
        revoked_by_id: None,
        amr: r#"["otp"]"#.into(),
        scope: "full".into(),
    }
}

/// An unconfirmed TOTP device of a user.
pub fn totp(user: &UserRecord, at: i64) -> MfaDeviceRecord {
    MfaDeviceRecord {
        id: id("mfa"),
        environment_id: user.environment_id.clone(),
        user_id: user.id.clone(),
        kind: "totp".into(),
        name: "phone".into(),
        secret_sealed: Some(vec![3; 40]),
        credential: None,
        credential_id: None,
        created_at: at,
        confirmed_at: None,
        last_used_at: None,
        last_used_step: None,
    }
}

/// A passkey of a user, confirmed at once, with this credential id.
pub fn passkey(user: &UserRecord, credential_id: &str, at: i64) -> MfaDeviceRecord {
    MfaDeviceRecord {
        kind: "passkey".into(),
        name: "laptop".into(),
        secret_sealed: None,
        credential: Some("{}".into()),
        credential_id: Some(credential_id.into()),
        confirmed_at: Some(at),
        ..totp(user, at)
    }
}

pub fn revocation(at: i64) -> Revocation {
    Revocation {
        at,
        by_kind: "api_token".into(),
        by_id: Some("tok_store_tests".into()),
    }
}

/// Fails unless `result` is a conflict with `rule`.
pub fn assert_conflict<T: std::fmt::Debug>(result: StoreResult<T>, rule: Constraint) {
    match result {
        Err(StoreError::Conflict(found)) => assert_eq!(found, rule),
        other => panic!("expected a conflict with {rule:?}, got {other:?}"),
    }
}
