//! Storage: one trait per aggregate, one implementation per backend.
//! Services hold a [`Store`] and never see SQL or the backend in use.
//! Instants are Unix milliseconds (`*_at`); JWT-facing instants (`iat`,
//! watermarks) are Unix seconds.

mod access_sql;
mod error;
mod outbox_sql;
pub mod postgres;
pub mod records;
mod shared;
mod sql;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::rate_limit::Quota;

pub(crate) use error::db;
pub use error::{Constraint, StoreError, StoreResult};
pub use records::*;

#[async_trait]
pub trait OrganizationStore: Send + Sync {
    /// Writes a whole new tenant in one transaction: organization, project,
    /// its environments with their first signing keys, and an owner token.
    /// Fails with `Conflict` when a first tenant exists already (another
    /// node created it at the same time).
    async fn create_tenant(&self, tenant: &NewTenant) -> StoreResult<()>;
    /// The oldest organization with its project and environments, if any.
    async fn first_tenant(&self) -> StoreResult<Option<TenantRecord>>;
}

#[async_trait]
pub trait EnvironmentStore: Send + Sync {
    async fn get(&self, environment_id: &str) -> StoreResult<Option<EnvironmentRecord>>;
    /// Saves new settings, and when the algorithm changed, the new active key
    /// (older keys are retired at `now`, and stay published until they expire).
    async fn update_settings(
        &self,
        environment_id: &str,
        settings_json: &str,
        new_key: Option<&SigningKeyRecord>,
        now: i64,
        event: &EventRecord,
    ) -> StoreResult<()>;
    /// The active key first, then retired keys, newest first.
    async fn signing_keys(&self, environment_id: &str) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Raises the environment's revocation epoch by one. Returns how many
    /// sessions it revoked (alive and not revoked before) and the new epoch.
    /// Flat in the number of sessions.
    /// `event` is stored with its `data` set to the revocation's
    /// `FanoutScope`, and fans out into one event per session revoked.
    async fn revoke_all_sessions(
        &self,
        environment_id: &str,
        revocation: &Revocation,
        event: &EventRecord,
    ) -> StoreResult<(u64, i64)>;
    /// Environments whose epoch is above 0: `(id, epoch)`.
    async fn epochs(&self) -> StoreResult<Vec<(String, i64)>>;
    /// Locks or unlocks; `false` (and no event) when it was so already.
    async fn set_locked(
        &self,
        environment_id: &str,
        locked: bool,
        event: &EventRecord,
    ) -> StoreResult<bool>;
    /// Every environment's id and whether it is locked: a cheap poll that
    /// lets a node see a lock made by another process (the CLI).
    async fn lock_states(&self) -> StoreResult<Vec<(String, bool)>>;
    /// The organization's environments, oldest first.
    async fn in_organization(&self, organization_id: &str) -> StoreResult<Vec<EnvironmentRecord>>;
}

/// The audit log and outbox. Changes write their events in their own
/// transaction (the other stores' methods take them); the dispatcher leases
/// events that are not dispatched yet, so two nodes do not dispatch one
/// event at the same time, and dispatching is conditional, so a second
/// dispatch of the same event (after a lease ran out) changes nothing.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// With each event's position (the order of insertion), newest first.
    async fn list(
        &self,
        environment_id: &str,
        query: &EventQuery,
    ) -> StoreResult<Vec<(i64, EventRecord)>>;
    async fn insert(&self, event: &EventRecord) -> StoreResult<()>;
    async fn get(&self, event_id: &str) -> StoreResult<Option<EventRecord>>;
    /// Up to `limit` events not dispatched and not leased at `now`, oldest
    /// first, leased until `lease_until`.
    async fn lease_undispatched(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<EventRecord>>;
    /// The next (at most `limit`) sessions, by id after `after`, that a
    /// user- or environment-wide revocation revoked: alive when it was made.
    async fn fanout_sessions(
        &self,
        scope: &FanoutScope,
        after: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<String>>;
    /// Stores a batch of the fan-out's events and moves its cursor from
    /// `cursor` to `next` (`None` with `done`: the fan-out is over). False,
    /// with nothing stored, when the cursor was moved meanwhile.
    async fn fan_out(
        &self,
        event_id: &str,
        cursor: Option<&str>,
        next: Option<&str>,
        done: bool,
        events: &[EventRecord],
    ) -> StoreResult<bool>;
    /// Marks the event dispatched with its final `data`, and stores its
    /// deliveries and notification e-mails. False, with nothing stored,
    /// when it was dispatched already.
    async fn dispatch(
        &self,
        event_id: &str,
        data: Option<&str>,
        deliveries: &[DeliveryRecord],
        notifications: &[NotificationRecord],
        now: i64,
    ) -> StoreResult<bool>;
    /// Marks events dispatched that have nothing to deliver (their `data`
    /// stays as written).
    async fn mark_dispatched(&self, event_ids: &[String], now: i64) -> StoreResult<()>;
    /// Up to `limit` notification e-mails due at `now`, leased to
    /// `lease_until`.
    async fn lease_due_notifications(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<NotificationRecord>>;
    /// The outcome of sending one: sent, retry at, or failed for good.
    /// As `WebhookStore::record_attempt`: nothing changes unless the
    /// notification is still under the lease `leased_until`.
    async fn record_notification(
        &self,
        notification_id: &str,
        outcome: &DeliveryOutcome,
        error: Option<&str>,
        leased_until: Option<i64>,
        now: i64,
    ) -> StoreResult<()>;
    /// Deletes up to `limit` finished webhook deliveries (with their
    /// attempts) and mails made before `records_before`, and up to `limit`
    /// dispatched events made before `events_before` that nothing refers to
    /// any more. Returns how many rows it deleted.
    async fn prune(&self, events_before: i64, records_before: i64, limit: i64) -> StoreResult<u64>;
}

/// Webhook endpoints, their deliveries and every attempt.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Oldest first.
    async fn list(&self, environment_id: &str) -> StoreResult<Vec<WebhookRecord>>;
    async fn get(
        &self,
        environment_id: &str,
        webhook_id: &str,
    ) -> StoreResult<Option<WebhookRecord>>;
    /// False (nothing stored) when the environment has `limit` already.
    /// Each change below stores its `event` in the same transaction.
    async fn insert(
        &self,
        webhook: &WebhookRecord,
        limit: i64,
        event: &EventRecord,
    ) -> StoreResult<bool>;
    /// Changes only the given fields, in one statement (so it cannot undo
    /// a concurrent rotation or auto-disable). Enabling a disabled endpoint
    /// clears its reason and failure count. `None` if there is no such
    /// webhook.
    async fn update(
        &self,
        environment_id: &str,
        webhook_id: &str,
        changes: &WebhookChanges,
        now: i64,
        event: &EventRecord,
    ) -> StoreResult<Option<WebhookRecord>>;
    /// The secret becomes `secret_sealed`; the one it replaces keeps
    /// signing until `previous_until`.
    async fn rotate_secret(
        &self,
        environment_id: &str,
        webhook_id: &str,
        secret_sealed: &[u8],
        previous_until: i64,
        now: i64,
        event: &EventRecord,
    ) -> StoreResult<Option<WebhookRecord>>;
    async fn delete(
        &self,
        environment_id: &str,
        webhook_id: &str,
        event: &EventRecord,
    ) -> StoreResult<bool>;
    /// Newest first, each with its attempts, read at one instant.
    async fn deliveries(&self, webhook_id: &str, limit: i64) -> StoreResult<Vec<DeliveryHistory>>;
    /// One delivery with its attempts, read at one instant.
    async fn delivery(
        &self,
        webhook_id: &str,
        delivery_id: &str,
    ) -> StoreResult<Option<DeliveryHistory>>;
    /// Up to `limit` pending deliveries due at `now`, leased (their next
    /// attempt moved) to `lease_until`, so no other worker takes them.
    async fn lease_due(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<DeliveryRecord>>;
    /// Records an attempt and its outcome; `disabled_event` is stored if
    /// this attempt disables the endpoint. A success resets the endpoint's
    /// count of consecutive failed attempts, a failure raises it. A
    /// delivery that fails for good while every attempt since its first
    /// failed (the endpoint has answered nothing but failures for as long as
    /// its retries lasted) disables the endpoint. Returns whether this
    /// attempt disabled it.
    /// `leased_until` is the lease the attempt was made under: the attempt
    /// and its outcome are one unit, stored together in one transaction
    /// only while the delivery is still under that lease. A worker whose
    /// lease was lost (a redelivery, or another worker after the lease ran
    /// out) stores neither (`LeaseLost`): the delivery is attempted again
    /// and that attempt is the one recorded.
    async fn record_attempt(
        &self,
        attempt: &AttemptRecord,
        outcome: &DeliveryOutcome,
        leased_until: Option<i64>,
        disabled_event: &EventRecord,
    ) -> StoreResult<AttemptRecorded>;
    /// Makes a delivery pending again, due at `now`. False if there is no
    /// such delivery.
    async fn redeliver(&self, webhook_id: &str, delivery_id: &str, now: i64) -> StoreResult<bool>;
}

/// An environment's allowed origins. Every change tells the other nodes
/// (`Change::EnvironmentChanged`) in its own transaction.
#[async_trait]
pub trait OriginStore: Send + Sync {
    /// In the order they were added.
    async fn list(&self, environment_id: &str) -> StoreResult<Vec<OriginRecord>>;
    /// Adds an origin; `false` (and nothing added) when the environment
    /// lists `limit` already, `Conflict` when it lists this one.
    async fn add(
        &self,
        origin: &OriginRecord,
        limit: i64,
        event: &EventRecord,
    ) -> StoreResult<bool>;
    /// `false` when the environment has no such origin.
    async fn delete(
        &self,
        environment_id: &str,
        origin_id: &str,
        event: &EventRecord,
    ) -> StoreResult<bool>;
}

/// API tokens. A token's changes write their events (one per environment
/// the token reaches) in their own transaction.
#[async_trait]
pub trait ApiTokenStore: Send + Sync {
    /// The token whose current or previous secret has this hash, revoked or not.
    async fn find_by_hash(&self, token_hash: &[u8]) -> StoreResult<Option<ApiTokenRecord>>;
    async fn insert(&self, token: &ApiTokenRecord, events: &[EventRecord]) -> StoreResult<()>;
    async fn touch(&self, token_id: &str, at: i64) -> StoreResult<()>;
    /// The organization's tokens that are not revoked, oldest first; only
    /// those limited to `environment_id` when it is given.
    async fn list(
        &self,
        organization_id: &str,
        environment_id: Option<&str>,
    ) -> StoreResult<Vec<ApiTokenRecord>>;
    /// A token that is not revoked.
    async fn get(
        &self,
        organization_id: &str,
        token_id: &str,
    ) -> StoreResult<Option<ApiTokenRecord>>;
    /// Revokes a token; `false` when there is no such token (or it was
    /// revoked already).
    async fn revoke(
        &self,
        organization_id: &str,
        token_id: &str,
        at: i64,
        events: &[EventRecord],
    ) -> StoreResult<bool>;
    /// Replaces the secret; the current one becomes the previous one, good
    /// until `previous_expires_at`, and the one before stops. The token's
    /// expiry becomes `expires_at`. `false` when there is no such token.
    async fn rotate(
        &self,
        organization_id: &str,
        token_id: &str,
        rotation: &TokenRotation,
        events: &[EventRecord],
    ) -> StoreResult<bool>;
}

/// A token's new secret and what changes with it.
#[derive(Debug, Clone)]
pub struct TokenRotation {
    pub new_hash: Vec<u8>,
    /// Until when the replaced secret keeps working (Unix ms).
    pub previous_expires_at: i64,
    /// The token's expiry from now on (`None`: never).
    pub expires_at: Option<i64>,
    pub at: i64,
}

/// Organization members. There is always exactly one owner (a unique
/// index); ownership moves only by `transfer_ownership`. Each change
/// writes its events in its own transaction.
#[async_trait]
pub trait MemberStore: Send + Sync {
    /// Oldest first.
    async fn list(&self, organization_id: &str) -> StoreResult<Vec<MemberRecord>>;
    async fn get(
        &self,
        organization_id: &str,
        member_id: &str,
    ) -> StoreResult<Option<MemberRecord>>;
    /// `Conflict` when the organization has a member with this e-mail.
    async fn insert(&self, member: &MemberRecord, events: &[EventRecord]) -> StoreResult<()>;
    /// Applies `changes` if the member still has `expected_role`; `None`
    /// when it does not (or there is no such member). `Conflict` on a
    /// duplicate e-mail.
    async fn update(
        &self,
        organization_id: &str,
        member_id: &str,
        expected_role: &str,
        changes: &MemberChanges,
        at: i64,
        events: &[EventRecord],
    ) -> StoreResult<Option<MemberRecord>>;
    /// In one transaction: applies `changes` (not the role) to the member
    /// if it still has `expected_role`, the owner becomes `admin`, the
    /// member becomes the owner. `None` (nothing changed) when the member
    /// is gone or changed meanwhile.
    async fn transfer_ownership(
        &self,
        organization_id: &str,
        member_id: &str,
        expected_role: &str,
        changes: &MemberChanges,
        at: i64,
        events: &[EventRecord],
    ) -> StoreResult<Option<MemberRecord>>;
    /// Removes a member that has `expected_role` (never the owner).
    async fn delete(
        &self,
        organization_id: &str,
        member_id: &str,
        expected_role: &str,
        events: &[EventRecord],
    ) -> StoreResult<bool>;
}

#[async_trait]
pub trait UserStore: Send + Sync {
    async fn get(&self, environment_id: &str, user_id: &str) -> StoreResult<Option<UserRecord>>;
    async fn list(&self, environment_id: &str, query: &UserQuery) -> StoreResult<Vec<UserRecord>>;
    /// Raises the user's revocation epoch by one; returns how many sessions
    /// it revoked and the new epoch.
    /// `event` as in `EnvironmentStore::revoke_all_sessions`.
    async fn revoke_sessions(
        &self,
        environment_id: &str,
        user_id: &str,
        revocation: &Revocation,
        event: &EventRecord,
    ) -> StoreResult<(u64, i64)>;
    /// Users whose epoch is above 0: `(id, epoch, when it was raised in ms)`.
    async fn epochs(&self) -> StoreResult<Vec<(String, i64, i64)>>;
}

#[async_trait]
pub trait VerificationStore: Send + Sync {
    /// Saves a new verification. From then on earlier ones for the same
    /// destination in the environment refuse every attempt: only the newest
    /// code works.
    async fn insert(&self, verification: &VerificationRecord) -> StoreResult<()>;
    /// One attempt at a code, given as its MAC. Spends an attempt if the
    /// verification still allows one at `now` and is the newest for its
    /// destination, then compares the stored MAC in constant time. The
    /// attempt is spent before the comparison, so concurrent guesses cannot
    /// exceed the limit. A match does not use the verification up: the
    /// sign-in that stores its session does, so of two concurrent right
    /// answers only one gets a session.
    async fn attempt(
        &self,
        environment_id: &str,
        verification_id: &str,
        max_attempts: i64,
        now: i64,
        code_mac: &[u8],
    ) -> StoreResult<Attempt>;
    /// Deletes verifications that expired before `now_ms`.
    async fn prune_expired(&self, now_ms: i64) -> StoreResult<()>;
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// A sign-in by e-mail address, in one round trip: finds the user of
    /// `user.environment_id` with `user.email`, or creates `user`, and
    /// inserts `session` for them. The store sets the session's `user_id`,
    /// its `user_epoch` to the user's stored epoch and its `env_epoch` to
    /// the larger of the given one and the environment's stored epoch, so
    /// the session is born under the newest revocation the store knows.
    /// Also returns the kinds of the user's confirmed MFA devices.
    /// Writes the sign-in's events in the same round trip.
    ///
    /// First marks the verification `code.verification_id` used at
    /// `code.used_at` (the code matched, `VerificationStore::attempt`), and
    /// does nothing else, returning `None`, if it already was.
    async fn insert_for_email_user(
        &self,
        code: &UsedCode,
        user: &UserRecord,
        session: &SessionRecord,
        events: &SignInEventIds,
    ) -> StoreResult<Option<(UserRecord, SessionRecord, Vec<String>)>>;
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
    /// Revoked sessions that could still be presented (`exp > now_s`).
    async fn revoked_unexpired(&self, now_s: i64) -> StoreResult<Vec<(String, i64)>>;
    async fn record_activity(&self, activity: &[(String, i64)]) -> StoreResult<()>;
    /// Forgets session counters of minutes before `now_ms`.
    async fn prune_expired(&self, now_ms: i64) -> StoreResult<()>;
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

#[async_trait]
pub trait HealthStore: Send + Sync {
    async fn ping(&self) -> StoreResult<()>;
    async fn get_meta(&self, key: &str) -> StoreResult<Option<String>>;
    /// Sets the value unless one exists; returns the value now stored.
    async fn init_meta(&self, key: &str, value: &str) -> StoreResult<String>;
}

/// Rate-limit counters (`domain::rate_limit`), where every node sees them.
#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// One event for `key` at `now_ms` under `quota`: `None` if allowed,
    /// else how many ms to wait.
    async fn hit(&self, key: &str, quota: Quota, now_ms: i64) -> StoreResult<Option<i64>>;
    /// Undoes one allowed `hit` of `key` under `quota`.
    async fn give_back(&self, key: &str, quota: Quota) -> StoreResult<()>;
    /// Forgets keys whose limits have fully recovered.
    async fn forget_idle(&self, now_ms: i64) -> StoreResult<()>;
}

/// A user's second factors, recovery codes and wrong-code counter, and
/// spent elevated tokens.
#[async_trait]
pub trait MfaStore: Send + Sync {
    async fn devices(
        &self,
        environment_id: &str,
        user_id: &str,
    ) -> StoreResult<Vec<MfaDeviceRecord>>;
    /// A new unconfirmed device; an unconfirmed device of the same kind that
    /// the user left behind is replaced.
    /// `event` is stored with it (a passkey, confirmed at once).
    async fn insert_device(
        &self,
        device: &MfaDeviceRecord,
        event: Option<&EventRecord>,
    ) -> StoreResult<()>;
    /// Confirms a device at `step` (TOTP). False if it was not pending; a
    /// second confirmed TOTP device is a conflict.
    /// `event` is stored when this confirmed the device.
    async fn confirm_device(
        &self,
        device_id: &str,
        now_ms: i64,
        step: i64,
        event: &EventRecord,
    ) -> StoreResult<bool>;
    /// Records that a code proved `step`, if no code proved that step or a
    /// later one before (replay): false otherwise.
    async fn use_step(&self, device_id: &str, step: i64, now_ms: i64) -> StoreResult<bool>;
    /// Deletes one device; false if the user has no such device.
    /// `event` is stored when a device was deleted.
    async fn delete_device(
        &self,
        environment_id: &str,
        user_id: &str,
        device_id: &str,
        event: &EventRecord,
    ) -> StoreResult<bool>;
    /// Deletes every device and recovery code of the user; returns the
    /// number of devices. `event` is stored when there was any.
    async fn reset(
        &self,
        environment_id: &str,
        user_id: &str,
        event: &EventRecord,
    ) -> StoreResult<u64>;
    /// Replaces the user's recovery codes (used or not) with these MACs.
    async fn replace_recovery_codes(
        &self,
        environment_id: &str,
        user_id: &str,
        codes: &[(String, Vec<u8>)],
        now_ms: i64,
    ) -> StoreResult<()>;
    async fn unused_recovery_codes(
        &self,
        environment_id: &str,
        user_id: &str,
    ) -> StoreResult<Vec<RecoveryCodeRecord>>;
    /// Marks a recovery code used; false if it already was.
    async fn use_recovery_code(&self, code_id: &str, now_ms: i64) -> StoreResult<bool>;
    /// Counts one code attempt of the user, unless `max` were counted in
    /// the window that is still open: then the user is locked until its end.
    /// Each window that ends locked makes the next one twice as long, up
    /// to `longest_ms`; a right code (`clear_code_attempts`) starts over.
    async fn spend_code_attempt(
        &self,
        user_id: &str,
        now_ms: i64,
        window_ms: i64,
        max: i64,
        longest_ms: i64,
    ) -> StoreResult<CodeAttempt>;
    /// A right code: the counter starts again.
    async fn clear_code_attempts(&self, user_id: &str) -> StoreResult<()>;
    /// Spends an elevated token; false if it was spent before.
    async fn spend_elevated_token(&self, jti: &str, expires_at_ms: i64) -> StoreResult<bool>;
    /// Whether an elevated token was spent; reads only (introspection).
    async fn elevated_token_spent(&self, jti: &str) -> StoreResult<bool>;
    /// Forgets spent elevated tokens, and WebAuthn challenges, that have
    /// expired anyway.
    async fn prune_expired(&self, now_ms: i64) -> StoreResult<()>;
    async fn insert_challenge(&self, challenge: &ChallengeRecord) -> StoreResult<()>;
    /// Uses a challenge of this session and purpose that is unexpired and
    /// unused; its state, or `None`.
    async fn take_challenge(
        &self,
        environment_id: &str,
        challenge_id: &str,
        session_id: &str,
        purpose: &str,
        now_ms: i64,
    ) -> StoreResult<Option<String>>;
    /// A passkey's credential after an assertion (its counter moved).
    async fn update_credential(
        &self,
        device_id: &str,
        credential: &str,
        now_ms: i64,
    ) -> StoreResult<()>;
}

/// Periodic work on the shared database (pruning, later outbox delivery)
/// that one node at a time does. Every node asks; the one whose claim
/// commits first does the work, and a node that finds the job being
/// claimed by another passes over it (PostgreSQL `FOR UPDATE SKIP LOCKED`)
/// rather than waits.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Claims job `name` for `node` if it is due at `now_ms`: `true` if
    /// this caller got it; it is then not due before `now_ms + every_ms`.
    async fn claim(&self, name: &str, node: &str, now_ms: i64, every_ms: i64) -> StoreResult<bool>;
}

/// What a node tells the others about a change it made, so that they
/// update their in-memory state at once (PostgreSQL `NOTIFY`). Published
/// in the transaction of the change: never for a change rolled back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// One session revoked; `exp` in Unix seconds.
    SessionRevoked { session_id: String, exp: i64 },
    /// Every session of a user revoked: their epoch was raised at `at_s`.
    UserRevoked {
        user_id: String,
        epoch: i64,
        at_s: i64,
    },
    /// Every session of an environment revoked: its epoch was raised.
    EnvironmentRevoked { environment_id: String, epoch: i64 },
    /// An environment's settings or keys changed: drop cached copies.
    EnvironmentChanged { environment_id: String },
    /// A node's liveness beacon; hearing its own tells a node that it hears
    /// everything committed before it was sent.
    Heartbeat { node: String, seq: u64 },
    /// A change this node cannot read (sent by a newer version): it drops
    /// whatever it caches, since it cannot tell what changed.
    #[serde(skip)]
    Unreadable,
}

/// Changes from other nodes.
#[async_trait]
pub trait ChangeFeed: Send + Sync {
    /// Starts listening. `None` when there are no other nodes to hear
    /// from: an embedded SQLite database belongs to one process.
    async fn listen(&self) -> StoreResult<Option<Box<dyn ChangeListener>>>;
    /// Publishes a change outside any transaction (heartbeats).
    async fn publish(&self, change: &Change) -> StoreResult<()>;
}

#[async_trait]
pub trait ChangeListener: Send {
    /// The next change. `Ok(None)` means the connection was lost and
    /// changes may have been missed; the next call reconnects.
    async fn next(&mut self) -> StoreResult<Option<Change>>;
}

/// All stores of one backend.
#[derive(Clone)]
pub struct Store {
    pub organizations: Arc<dyn OrganizationStore>,
    pub environments: Arc<dyn EnvironmentStore>,
    pub api_tokens: Arc<dyn ApiTokenStore>,
    pub members: Arc<dyn MemberStore>,
    pub users: Arc<dyn UserStore>,
    pub verifications: Arc<dyn VerificationStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub health: Arc<dyn HealthStore>,
    pub changes: Arc<dyn ChangeFeed>,
    pub rate_limits: Arc<dyn RateLimitStore>,
    pub jobs: Arc<dyn JobStore>,
    pub mfa: Arc<dyn MfaStore>,
    pub origins: Arc<dyn OriginStore>,
    pub events: Arc<dyn EventStore>,
    pub webhooks: Arc<dyn WebhookStore>,
}

impl Store {
    /// Every store of a backend that implements them all.
    pub(crate) fn of<B>(db: Arc<B>) -> Store
    where
        B: OrganizationStore
            + EnvironmentStore
            + ApiTokenStore
            + MemberStore
            + UserStore
            + VerificationStore
            + SessionStore
            + HealthStore
            + ChangeFeed
            + RateLimitStore
            + JobStore
            + MfaStore
            + OriginStore
            + EventStore
            + WebhookStore
            + 'static,
    {
        Store {
            organizations: db.clone(),
            environments: db.clone(),
            api_tokens: db.clone(),
            members: db.clone(),
            users: db.clone(),
            verifications: db.clone(),
            sessions: db.clone(),
            health: db.clone(),
            changes: db.clone(),
            rate_limits: db.clone(),
            jobs: db.clone(),
            mfa: db.clone(),
            origins: db.clone(),
            events: db.clone(),
            webhooks: db,
        }
    }

    /// Opens the database the URL names and applies pending migrations.
    pub async fn open(database_url: &str) -> StoreResult<Self> {
        match Backend::of_url(database_url) {
            Some(Backend::Sqlite) => sqlite::open(database_url).await,
            Some(Backend::Postgres) => postgres::open(database_url).await,
            None => Err(StoreError::UnsupportedUrl(
                database_url
                    .split("://")
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            )),
        }
    }
}

/// The backend a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub const URL_FORMS: &str = "sqlite://PATH, postgres://… or postgresql://…";

    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}
