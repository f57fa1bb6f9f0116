//! Sessions, their live counters by expiry minute, and revocations (one
//! session, a user's, an environment's). The sign-in statement, which
//! differs per dialect, lives in `sqlite/sessions.rs` and
//! `postgres/sessions.rs`.

pub(super) mod view;

use crate::store::{CredentialKey, EventRecord, StoreResult, UserRecord};
use async_trait::async_trait;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRecord {
    pub id: String,
    pub environment_id: String,
    pub user_id: String,
    /// The JWT's `iat` (seconds).
    pub iat: i64,
    /// The revocation epochs the session was issued under.
    pub env_epoch: i64,
    pub user_epoch: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub last_active_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub revoked_by_kind: Option<String>,
    pub revoked_by_id: Option<String>,
    pub amr: String,
    pub scope: String,
}

/// A session as read back: its own fields plus the user's and the
/// environment's latest revocation, so its effective revocation can be derived.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub session: SessionRecord,
    pub user_revocation: Option<ScopeRevocation>,
    pub environment_revocation: Option<ScopeRevocation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFilter {
    All,
    Revoked,
    NotRevoked,
    /// Neither revoked nor expired at this instant (ms).
    Live(i64),
}

/// Who revoked, and when (ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub at: i64,
    pub by_kind: String,
    pub by_id: Option<String>,
}

/// One entry of an environment's revocation feed (docs/verify.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    pub seq: i64,
    /// `session`, `user` or `environment`.
    pub kind: String,
    pub subject_id: String,
    /// A session's user.
    pub user_id: Option<String>,
    /// The epoch a user or environment was raised to.
    pub epoch: Option<i64>,
    /// A session's expiry (ms).
    pub expires_at: Option<i64>,
}

/// A page of the feed, and where the feed stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPage {
    pub environment_epoch: i64,
    /// The newest entry's `seq` (0: none yet).
    pub latest: i64,
    /// The highest `seq` pruned: a cursor below it is too old.
    pub floor: i64,
    pub entries: Vec<FeedEntry>,
}

/// A user's or environment's latest revocation: sessions issued under an
/// epoch below `epoch` are revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeRevocation {
    pub epoch: i64,
    pub revocation: Revocation,
}

/// What a sign-in stored: the user (found or created), the session, and
/// the kinds of the user's confirmed MFA devices.
#[derive(Debug, Clone)]
pub struct SignInRecord {
    pub user: UserRecord,
    pub session: SessionRecord,
    pub mfa_kinds: Vec<String>,
}

/// The verification a sign-in uses up (`SessionStore::sign_in`).
#[derive(Debug, Clone)]
pub struct UsedCode {
    pub verification_id: String,
    pub used_at: i64,
}

/// The ids of the events a sign-in writes with its session:
/// `user.session.created`, and `user.created` when it creates the user.
/// `None`: not written (no webhook of the environment takes it).
#[derive(Debug, Clone)]
pub struct SignInEventIds {
    pub session_created: Option<String>,
    pub user_created: Option<String>,
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// A sign-in by a verified credential, in one round trip: finds the
    /// user of `candidate.environment_id` whose credential is
    /// `(credential.kind, credential.value)` and marks it used, or creates
    /// `candidate` with that credential (id `credential.id`), and inserts
    /// `session` for the user. The store sets the session's `user_id`, its
    /// `user_epoch` to the user's stored epoch and its `env_epoch` to the
    /// larger of the given one and the environment's stored epoch, so the
    /// session is born under the newest revocation the store knows. Also
    /// returns the kinds of the user's confirmed MFA devices. Writes the
    /// sign-in's events in the same round trip.
    ///
    /// First marks the verification `proof.verification_id` used at
    /// `proof.used_at` (its code or nonce matched), and does nothing else,
    /// returning `None`, if it already was. Two first sign-ins of one new
    /// credential racing on PostgreSQL: the loser fails with
    /// `Conflict(Constraint::Credential)` and writes nothing (its
    /// verification stays unused); trying again finds the winner's user.
    async fn sign_in(
        &self,
        proof: &UsedCode,
        credential: &CredentialKey,
        candidate: &UserRecord,
        session: &SessionRecord,
        events: &SignInEventIds,
    ) -> StoreResult<Option<SignInRecord>>;
    async fn get(&self, environment_id: &str, session_id: &str)
    -> StoreResult<Option<SessionView>>;
    async fn list_for_user(
        &self,
        environment_id: &str,
        user_id: &str,
        filter: &SessionFilter,
    ) -> StoreResult<Vec<SessionView>>;
    /// Revokes one session; `None` if it does not exist in the environment.
    /// Revoking a revoked session changes nothing and returns it as it is.
    /// `event` is stored only when this revoked a session that was alive.
    async fn revoke(
        &self,
        environment_id: &str,
        session_id: &str,
        revocation: &Revocation,
        event: &EventRecord,
    ) -> StoreResult<Option<SessionView>>;
    /// How many of the environment's sessions are alive at `now`.
    async fn count_live(&self, environment_id: &str, now: i64) -> StoreResult<u64>;
    /// Revoked sessions that could still be presented (`exp > now_s`).
    async fn revoked_unexpired(&self, now_s: i64) -> StoreResult<Vec<(String, i64)>>;
    async fn record_activity(&self, activity: &[(String, i64)]) -> StoreResult<()>;
    /// Forgets session counters of minutes before `now_ms`.
    async fn prune_expired(&self, now_ms: i64) -> StoreResult<()>;
    /// At most `limit` entries of the environment's revocation feed after
    /// `after`; `NotFound` for an unknown environment.
    async fn revocation_feed(
        &self,
        environment_id: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<FeedPage>;
    /// Forgets the feed's entries recorded before `before_ms`.
    async fn prune_revocation_log(&self, before_ms: i64) -> StoreResult<()>;
    /// The session's second factor was proved: its new scope and methods
    /// (`amr`, a JSON array). False if there is no such session.
    async fn complete_mfa(
        &self,
        environment_id: &str,
        session_id: &str,
        scope: &str,
        amr: &str,
    ) -> StoreResult<bool>;
}
