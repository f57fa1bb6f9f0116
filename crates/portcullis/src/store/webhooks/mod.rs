//! Webhook endpoints, their deliveries and every attempt.

use crate::domain::delivery::DeliveryStatus;
use crate::store::{EventRecord, StoreResult};
use async_trait::async_trait;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookRecord {
    pub id: String,
    pub environment_id: String,
    pub url: String,
    pub description: String,
    /// JSON array of event types; empty: every type.
    pub events: String,
    pub enabled: bool,
    /// `whsec_…`'s key bytes, sealed with the master key (context: the id).
    pub secret_sealed: Vec<u8>,
    /// The secret before the last rotation, still signing until `previous_secret_until`.
    pub previous_secret_sealed: Option<Vec<u8>>,
    pub previous_secret_until: Option<i64>,
    pub consecutive_failures: i64,
    pub disabled_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The fields a webhook update changes (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub description: Option<String>,
    /// JSON array of event types.
    pub events: Option<String>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRecord {
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub environment_id: String,
    /// Read through `DeliveryStatus::try_from`.
    #[sqlx(try_from = "String")]
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_response_status: Option<i64>,
    pub created_at: i64,
    pub completed_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRecord {
    pub id: String,
    pub delivery_id: String,
    pub attempted_at: i64,
    pub duration_ms: i64,
    pub response_status: Option<i64>,
    pub response_body: Option<String>,
    pub error: Option<String>,
}

/// A delivery and its attempts, oldest first, as one statement read them
/// (one snapshot): never an attempt whose outcome the delivery does not
/// show yet, since `record_attempt` stores both in one transaction.
#[derive(Debug, Clone)]
pub struct DeliveryHistory {
    pub delivery: DeliveryRecord,
    pub attempts: Vec<AttemptRecord>,
}

/// A delivery joined with one of its attempts (all `None`: it has none).
#[derive(sqlx::FromRow)]
pub struct DeliveryAttemptRow {
    #[sqlx(flatten)]
    pub delivery: DeliveryRecord,
    pub attempt_id: Option<String>,
    pub attempted_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub response_status: Option<i64>,
    pub response_body: Option<String>,
    pub error: Option<String>,
}

impl DeliveryHistory {
    /// Folds rows ordered by delivery, then by attempt, into histories in
    /// the same order.
    pub fn from_rows(rows: Vec<DeliveryAttemptRow>) -> Vec<DeliveryHistory> {
        let mut out: Vec<DeliveryHistory> = vec![];
        for row in rows {
            let attempt = match (row.attempt_id, row.attempted_at, row.duration_ms) {
                (Some(id), Some(attempted_at), Some(duration_ms)) => Some(AttemptRecord {
                    id,
                    delivery_id: row.delivery.id.clone(),
                    attempted_at,
                    duration_ms,
                    response_status: row.response_status,
                    response_body: row.response_body,
                    error: row.error,
                }),
                _ => None,
            };
            match out.last_mut() {
                Some(last) if last.delivery.id == row.delivery.id => last.attempts.extend(attempt),
                _ => out.push(DeliveryHistory {
                    delivery: row.delivery,
                    attempts: attempt.into_iter().collect(),
                }),
            }
        }
        out
    }
}

/// What `WebhookStore::record_attempt` stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptRecorded {
    /// The attempt and its outcome, together; `disabled`: this attempt
    /// disabled the endpoint.
    Stored { disabled: bool },
    /// Neither: the delivery was no longer under the attempt's lease.
    LeaseLost,
}

/// What an attempt decided for its delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Succeeded,
    /// Try again at this instant (ms).
    Retry(i64),
    /// No more attempts.
    Failed,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(delivery: &str, attempt: Option<(&str, i64)>) -> DeliveryAttemptRow {
        DeliveryAttemptRow {
            delivery: DeliveryRecord {
                id: delivery.into(),
                webhook_id: "whk".into(),
                event_id: "evt".into(),
                environment_id: "env".into(),
                status: DeliveryStatus::Pending,
                attempts: 0,
                next_attempt_at: None,
                last_response_status: None,
                created_at: 0,
                completed_at: None,
            },
            attempt_id: attempt.map(|(id, _)| id.into()),
            attempted_at: attempt.map(|(_, at)| at),
            duration_ms: attempt.map(|_| 3),
            response_status: attempt.map(|_| 500),
            response_body: None,
            error: None,
        }
    }

    #[test]
    fn rows_fold_into_one_history_per_delivery_in_order() {
        let histories = DeliveryHistory::from_rows(vec![
            row("dlv_b", Some(("att_1", 1))),
            row("dlv_b", Some(("att_2", 2))),
            row("dlv_a", None),
            row("dlv_c", Some(("att_3", 3))),
        ]);
        let shape: Vec<(&str, Vec<&str>)> = histories
            .iter()
            .map(|h| {
                let attempts = h.attempts.iter().map(|a| a.id.as_str()).collect();
                (h.delivery.id.as_str(), attempts)
            })
            .collect();
        assert_eq!(
            shape,
            [
                ("dlv_b", vec!["att_1", "att_2"]),
                ("dlv_a", vec![]),
                ("dlv_c", vec!["att_3"]),
            ]
        );
        assert!(
            histories[0]
                .attempts
                .iter()
                .all(|a| a.delivery_id == "dlv_b")
        );
    }
}
