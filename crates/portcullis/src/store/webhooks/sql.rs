//! Webhooks', deliveries' and attempts' SQL, written once for both backends. This file is
//! compiled twice, inside `sqlite/mod.rs` and `postgres/mod.rs`, where
//! `Conn`, `Pool` and the dialect macros (`lock!()`, `skip_locked!()`, …)
//! resolve for that backend.

use super::environments_sql::has_room;
use super::events_sql::{insert_event, lease_pending};
use super::{Conn, Pool, db};
use crate::domain::delivery::DeliveryStatus;
use crate::store::{
    AttemptRecord, AttemptRecorded, DeliveryAttemptRow, DeliveryHistory, DeliveryOutcome,
    DeliveryRecord, EventRecord, StoreResult, WebhookChanges, WebhookRecord,
};

pub(super) async fn webhooks(pool: &Pool, environment_id: &str) -> StoreResult<Vec<WebhookRecord>> {
    sqlx::query_as::<_, WebhookRecord>(
        "SELECT * FROM webhooks WHERE environment_id = $1 ORDER BY created_at, id",
    )
    .bind(environment_id)
    .fetch_all(pool)
    .await
    .map_err(db)
}

pub(super) async fn webhook(
    pool: &Pool,
    environment_id: &str,
    webhook_id: &str,
) -> StoreResult<Option<WebhookRecord>> {
    sqlx::query_as::<_, WebhookRecord>(
        "SELECT * FROM webhooks WHERE environment_id = $1 AND id = $2",
    )
    .bind(environment_id)
    .bind(webhook_id)
    .fetch_optional(pool)
    .await
    .map_err(db)
}

pub(super) async fn insert_webhook(
    conn: &mut Conn,
    w: &WebhookRecord,
    limit: i64,
) -> StoreResult<bool> {
    if !has_room(&mut *conn, "webhooks", &w.environment_id, limit).await? {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO webhooks (id, environment_id, url, description, events, enabled, \
         secret_sealed, previous_secret_sealed, previous_secret_until, \
         consecutive_failures, disabled_reason, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&w.id)
    .bind(&w.environment_id)
    .bind(&w.url)
    .bind(&w.description)
    .bind(&w.events)
    .bind(w.enabled)
    .bind(&w.secret_sealed)
    .bind(&w.previous_secret_sealed)
    .bind(w.previous_secret_until)
    .bind(w.consecutive_failures)
    .bind(&w.disabled_reason)
    .bind(w.created_at)
    .bind(w.updated_at)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(true)
}

/// Every expression reads the row as it was: `enabled` below is the
/// old value.
pub(super) async fn update_webhook(
    conn: &mut Conn,
    environment_id: &str,
    webhook_id: &str,
    c: &WebhookChanges,
    now: i64,
) -> StoreResult<Option<WebhookRecord>> {
    sqlx::query_as::<_, WebhookRecord>(
        "UPDATE webhooks SET url = COALESCE($1, url), \
         description = COALESCE($2, description), events = COALESCE($3, events), \
         enabled = COALESCE($4, enabled), \
         consecutive_failures = CASE WHEN $4 AND NOT enabled THEN 0 \
           ELSE consecutive_failures END, \
         disabled_reason = CASE WHEN $4 THEN NULL ELSE disabled_reason END, \
         updated_at = $5 WHERE environment_id = $6 AND id = $7 RETURNING *",
    )
    .bind(&c.url)
    .bind(&c.description)
    .bind(&c.events)
    .bind(c.enabled)
    .bind(now)
    .bind(environment_id)
    .bind(webhook_id)
    .fetch_optional(conn)
    .await
    .map_err(db)
}

pub(super) async fn rotate_webhook_secret(
    conn: &mut Conn,
    environment_id: &str,
    webhook_id: &str,
    secret_sealed: &[u8],
    previous_until: i64,
    now: i64,
) -> StoreResult<Option<WebhookRecord>> {
    sqlx::query_as::<_, WebhookRecord>(
        "UPDATE webhooks SET previous_secret_sealed = secret_sealed, secret_sealed = $1, \
         previous_secret_until = $2, updated_at = $3 \
         WHERE environment_id = $4 AND id = $5 RETURNING *",
    )
    .bind(secret_sealed)
    .bind(previous_until)
    .bind(now)
    .bind(environment_id)
    .bind(webhook_id)
    .fetch_optional(conn)
    .await
    .map_err(db)
}

pub(super) async fn delete_webhook(
    conn: &mut Conn,
    environment_id: &str,
    webhook_id: &str,
) -> StoreResult<bool> {
    let deleted = sqlx::query("DELETE FROM webhooks WHERE environment_id = $1 AND id = $2")
        .bind(environment_id)
        .bind(webhook_id)
        .execute(conn)
        .await
        .map_err(db)?
        .rows_affected();
    Ok(deleted > 0)
}

/// `webhook_id`'s deliveries (or its one `delivery_id`), newest
/// first, up to `limit`, each with its attempts. One statement, so
/// one snapshot on both backends: a delivery read before an
/// attempt's commit and its attempts read after it (two statements)
/// showed the attempt with the delivery still under its lease.
pub(super) async fn delivery_histories(
    pool: &Pool,
    webhook_id: &str,
    delivery_id: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<DeliveryHistory>> {
    let rows = sqlx::query_as::<_, DeliveryAttemptRow>(
        "SELECT d.*, a.id AS attempt_id, a.attempted_at, a.duration_ms, \
         a.response_status, a.response_body, a.error \
         FROM (SELECT * FROM webhook_deliveries \
           WHERE webhook_id = $1 AND ($2 IS NULL OR id = $2) \
           ORDER BY created_at DESC, id DESC LIMIT $3) d \
         LEFT JOIN webhook_attempts a ON a.delivery_id = d.id \
         ORDER BY d.created_at DESC, d.id DESC, a.attempted_at, a.id",
    )
    .bind(webhook_id)
    .bind(delivery_id)
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(DeliveryHistory::from_rows(rows))
}

pub(super) async fn lease_due(
    conn: &mut Conn,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> StoreResult<Vec<DeliveryRecord>> {
    sqlx::query_as::<_, DeliveryRecord>(sqlx::AssertSqlSafe(lease_pending("webhook_deliveries")))
        .bind(lease_until)
        .bind(now)
        .bind(limit)
        .fetch_all(conn)
        .await
        .map_err(db)
}

/// The outcome's update first, under the lease; the attempt only if
/// it matched, so both are stored or neither.
pub(super) async fn record_attempt(
    conn: &mut Conn,
    a: &AttemptRecord,
    outcome: &DeliveryOutcome,
    leased_until: Option<i64>,
    disabled_event: &EventRecord,
) -> StoreResult<AttemptRecorded> {
    let (status, next, completed) = match outcome {
        DeliveryOutcome::Succeeded => (DeliveryStatus::Succeeded, None, Some(a.attempted_at)),
        DeliveryOutcome::Retry(at) => (DeliveryStatus::Pending, Some(*at), None),
        DeliveryOutcome::Failed => (DeliveryStatus::Failed, None, Some(a.attempted_at)),
    };
    let updated: Option<(String, i64)> = sqlx::query_as(
        "UPDATE webhook_deliveries SET status = $1, next_attempt_at = $2, \
         completed_at = $3, attempts = attempts + 1, last_response_status = $4 \
         WHERE id = $5 AND status = 'pending' AND next_attempt_at = $6 \
         RETURNING webhook_id, attempts",
    )
    .bind(status.as_str())
    .bind(next)
    .bind(completed)
    .bind(a.response_status)
    .bind(&a.delivery_id)
    .bind(leased_until)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    let Some((webhook_id, attempts)) = updated else {
        return Ok(AttemptRecorded::LeaseLost);
    };
    sqlx::query(
        "INSERT INTO webhook_attempts (id, delivery_id, attempted_at, duration_ms, \
         response_status, response_body, error) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&a.id)
    .bind(&a.delivery_id)
    .bind(a.attempted_at)
    .bind(a.duration_ms)
    .bind(a.response_status)
    .bind(&a.response_body)
    .bind(&a.error)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    let succeeded = *outcome == DeliveryOutcome::Succeeded;
    sqlx::query(
        "UPDATE webhooks SET consecutive_failures = \
         CASE WHEN $1 THEN 0 ELSE consecutive_failures + 1 END WHERE id = $2",
    )
    .bind(succeeded)
    .bind(&webhook_id)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    if *outcome != DeliveryOutcome::Failed {
        return Ok(AttemptRecorded::Stored { disabled: false });
    }
    let disabled = sqlx::query(
        "UPDATE webhooks SET enabled = FALSE, \
         disabled_reason = 'every delivery attempt failed for as long as retries last', \
         updated_at = $1 WHERE id = $2 AND enabled AND consecutive_failures >= $3",
    )
    .bind(a.attempted_at)
    .bind(&webhook_id)
    .bind(attempts)
    .execute(&mut *conn)
    .await
    .map_err(db)?
    .rows_affected();
    if disabled > 0 {
        insert_event(conn, disabled_event).await?;
    }
    Ok(AttemptRecorded::Stored {
        disabled: disabled > 0,
    })
}

pub(super) async fn redeliver(
    conn: &mut Conn,
    webhook_id: &str,
    delivery_id: &str,
    now: i64,
) -> StoreResult<bool> {
    let updated = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1, \
         completed_at = NULL WHERE webhook_id = $2 AND id = $3",
    )
    .bind(now)
    .bind(webhook_id)
    .bind(delivery_id)
    .execute(conn)
    .await
    .map_err(db)?
    .rows_affected();
    Ok(updated > 0)
}
