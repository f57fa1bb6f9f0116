//! The audit log and the outbox: events, their fan-out, and notification
//! e-mails.

use crate::domain::delivery::MailStatus;
use crate::store::{DeliveryOutcome, DeliveryRecord, StoreResult};
use async_trait::async_trait;

/// Something that happened: a row of the audit log and of the outbox.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRecord {
    pub id: String,
    pub organization_id: String,
    pub environment_id: Option<String>,
    #[sqlx(rename = "type")]
    pub kind: String,
    /// `user`, `api_token`, `member` or `system`.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub ip_address: Option<String>,
    /// What the event is about, when it names one thing (a session id for
    /// session events).
    pub subject_id: Option<String>,
    /// The payload's `data` (JSON). Session events get theirs when they are
    /// dispatched.
    pub data: Option<String>,
    /// `environment_sessions` or `user_sessions`: the event expands into one
    /// `admin.user.session.revoked` per session it revoked, before it is
    /// dispatched itself.
    pub fanout: Option<String>,
    pub fanout_cursor: Option<String>,
    pub created_at: i64,
    pub dispatched_at: Option<i64>,
    /// Who is mailed about it (JSON array of addresses), as the settings
    /// said when the change was made.
    pub notify: Option<String>,
}

/// Filters of the audit log; newest first, `before` a cursor.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub kind: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Only events before this position (from an earlier page).
    pub before: Option<i64>,
    pub limit: i64,
}

/// A user- or environment-wide revocation, as its fan-out reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FanoutScope {
    pub environment_id: String,
    /// Set for a user-wide revocation.
    pub user_id: Option<String>,
    /// The epoch the revocation raised the scope to.
    pub epoch: i64,
    /// When it was made (ms).
    pub at: i64,
    /// How many sessions it revoked.
    pub revoked_count: u64,
    /// For a user-wide revocation: the environment's epoch then (sessions
    /// below it were revoked already).
    #[serde(default)]
    pub environment_epoch: Option<i64>,
    pub by_kind: String,
    pub by_id: Option<String>,
}

impl EventRecord {
    /// This event, carrying a revocation's fan-out scope as its data.
    pub fn with_fanout(&self, scope: &FanoutScope) -> EventRecord {
        EventRecord {
            data: serde_json::to_string(scope).ok(),
            ..self.clone()
        }
    }
}

/// A security notification e-mail to one recipient.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRecord {
    pub id: String,
    pub event_id: String,
    pub environment_id: String,
    pub recipient: String,
    /// Read through `MailStatus::try_from`.
    #[sqlx(try_from = "String")]
    pub status: MailStatus,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
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
    /// The newest `limit` events (listed ones: fanned out) whose subject
    /// is one of `subjects` (at most 100), newest first.
    async fn about(
        &self,
        environment_id: &str,
        subjects: &[String],
        limit: i64,
    ) -> StoreResult<Vec<EventRecord>>;
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
