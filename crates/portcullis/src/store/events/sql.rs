//! The audit log's and the outbox's SQL, written once for both backends. This file is
//! compiled twice, inside `sqlite/mod.rs` and `postgres/mod.rs`, where
//! `Conn`, `Pool` and the dialect macros (`lock!()`, `skip_locked!()`, …)
//! resolve for that backend.

use sqlx::AssertSqlSafe;

use super::{Conn, Pool, db};
use crate::domain::delivery::MailStatus;
use crate::store::{
    DeliveryOutcome, DeliveryRecord, EventQuery, EventRecord, FanoutScope, NotificationRecord,
    StoreResult,
};

const EVENT_COLUMNS: &str = "id, organization_id, environment_id, type, actor_kind, \
     actor_id, ip_address, subject_id, data, fanout, fanout_cursor, created_at, \
     dispatched_at, notify";

#[derive(sqlx::FromRow)]
pub(super) struct EventRow {
    position: i64,
    #[sqlx(flatten)]
    event: EventRecord,
}

/// Leases (moves `next_attempt_at` to `$1`) up to `$3` pending rows
/// of `table` (one of ours, never input) due at `$2`, and returns them.
pub(super) fn lease_pending(table: &'static str) -> String {
    format!(
        "UPDATE {table} SET next_attempt_at = $1 WHERE id IN (\
           SELECT id FROM {table} WHERE status = 'pending' \
           AND next_attempt_at <= $2 ORDER BY next_attempt_at LIMIT $3{}) \
         RETURNING *",
        skip_locked!()
    )
}

/// `EventStore::prune`, one batch of each kind.
pub(super) async fn prune_outbox(
    conn: &mut Conn,
    events_before: i64,
    records_before: i64,
    limit: i64,
) -> StoreResult<u64> {
    let mut deleted = 0;
    for table in ["webhook_deliveries", "notifications"] {
        deleted += sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} \
             WHERE status <> 'pending' AND created_at < $1 LIMIT $2)"
        )))
        .bind(records_before)
        .bind(limit)
        .execute(&mut *conn)
        .await
        .map_err(db)?
        .rows_affected();
    }
    deleted += sqlx::query(
        "DELETE FROM events WHERE id IN (SELECT e.id FROM events e \
         WHERE e.created_at < $1 AND e.dispatched_at IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id) \
         AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.event_id = e.id) \
         LIMIT $2)",
    )
    .bind(events_before)
    .bind(limit)
    .execute(conn)
    .await
    .map_err(db)?
    .rows_affected();
    Ok(deleted)
}

pub(super) async fn insert_event(conn: &mut Conn, e: &EventRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO events (id, organization_id, environment_id, type, actor_kind, \
         actor_id, ip_address, subject_id, data, fanout, fanout_cursor, created_at, \
         dispatched_at, notify) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&e.id)
    .bind(&e.organization_id)
    .bind(&e.environment_id)
    .bind(&e.kind)
    .bind(&e.actor_kind)
    .bind(&e.actor_id)
    .bind(&e.ip_address)
    .bind(&e.subject_id)
    .bind(&e.data)
    .bind(&e.fanout)
    .bind(&e.fanout_cursor)
    .bind(e.created_at)
    .bind(e.dispatched_at)
    .bind(&e.notify)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}

pub(super) async fn insert_events(conn: &mut Conn, events: &[EventRecord]) -> StoreResult<()> {
    for e in events {
        insert_event(&mut *conn, e).await?;
    }
    Ok(())
}

pub(super) async fn event(pool: &Pool, event_id: &str) -> StoreResult<Option<EventRecord>> {
    sqlx::query_as::<_, EventRecord>(sqlx::AssertSqlSafe(format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE id = $1"
    )))
    .bind(event_id)
    .fetch_optional(pool)
    .await
    .map_err(db)
}

/// Newest first by `seq`, the order of insertion (a column on both
/// backends: an identity on PostgreSQL, set by a trigger on SQLite).
pub(super) async fn list_events(
    pool: &Pool,
    environment_id: &str,
    q: &EventQuery,
) -> StoreResult<Vec<(i64, EventRecord)>> {
    let rows = sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(format!(
        "SELECT seq AS position, {EVENT_COLUMNS} FROM events \
         WHERE environment_id = $1 \
         AND ($2 IS NULL OR type = $2) \
         AND ($3 IS NULL OR created_at >= $3) \
         AND ($4 IS NULL OR created_at < $4) \
         AND seq < COALESCE($5, 9223372036854775807) \
         AND fanout IS NULL \
         ORDER BY seq DESC LIMIT $6"
    )))
    .bind(environment_id)
    .bind(&q.kind)
    .bind(q.since)
    .bind(q.until)
    .bind(q.before)
    .bind(q.limit)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(rows.into_iter().map(|r| (r.position, r.event)).collect())
}

/// `EventStore::about`: one placeholder per subject, so the query is
/// built here (only placeholders are formatted into it).
pub(super) async fn events_about(
    pool: &Pool,
    environment_id: &str,
    subjects: &[String],
    limit: i64,
) -> StoreResult<Vec<EventRecord>> {
    let subjects = &subjects[..subjects.len().min(100)];
    if subjects.is_empty() {
        return Ok(vec![]);
    }
    let placeholders: Vec<String> = (0..subjects.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "SELECT seq AS position, {EVENT_COLUMNS} FROM events \
         WHERE environment_id = $1 AND fanout IS NULL AND subject_id IN ({}) \
         ORDER BY seq DESC LIMIT $2",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as::<_, EventRow>(AssertSqlSafe(sql))
        .bind(environment_id)
        .bind(limit);
    for subject in subjects {
        query = query.bind(subject);
    }
    let rows = query.fetch_all(pool).await.map_err(db)?;
    Ok(rows.into_iter().map(|r| r.event).collect())
}

pub(super) async fn lease_undispatched(
    conn: &mut Conn,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> StoreResult<Vec<EventRecord>> {
    let mut rows = sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(format!(
        "UPDATE events SET dispatch_lease = $1 WHERE id IN (\
           SELECT id FROM events WHERE dispatched_at IS NULL \
           AND (dispatch_lease IS NULL OR dispatch_lease <= $2) \
           ORDER BY created_at LIMIT $3{skip}) \
         RETURNING seq AS position, {EVENT_COLUMNS}",
        skip = skip_locked!()
    )))
    .bind(lease_until)
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
    .map_err(db)?;
    rows.sort_by_key(|r| r.position);
    Ok(rows.into_iter().map(|r| r.event).collect())
}

/// Alive at `at`, issued under the epoch just before the one the
/// revocation raised, and not revoked otherwise by then. The unary
/// `+` keeps SQLite off the expiry index: with it, every batch
/// sorted all the environment's sessions (a fan-out of 10^6 took
/// O(N²)); the epoch index `(environment_id, env_epoch, id)` walks
/// them in id order from the cursor.
pub(super) async fn fanout_sessions(
    pool: &Pool,
    scope: &FanoutScope,
    after: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<String>> {
    let by_scope = match scope.user_id {
        Some(_) => "s.user_id = $6 AND s.user_epoch = $2 - 1 AND s.env_epoch >= $7",
        None => {
            "s.env_epoch = $2 - 1 \
             AND NOT (s.user_epoch < u.sessions_epoch AND u.sessions_revoked_at <= $3)"
        }
    };
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id \
         JOIN environments e ON e.id = s.environment_id \
         WHERE s.environment_id = $1 AND {by_scope} AND s.created_at <= $3 \
         AND +s.expires_at > $3 AND (s.revoked_at IS NULL OR s.revoked_at > $3) \
         AND ($4 IS NULL OR s.id > $4) ORDER BY s.id LIMIT $5"
    )))
    .bind(&scope.environment_id)
    .bind(scope.epoch)
    .bind(scope.at)
    .bind(after)
    .bind(limit)
    .bind(&scope.user_id)
    .bind(scope.environment_epoch.unwrap_or(0))
    .fetch_all(pool)
    .await
    .map_err(db)
}

pub(super) async fn fan_out(
    conn: &mut Conn,
    event_id: &str,
    cursor: Option<&str>,
    next: Option<&str>,
    done: bool,
    events: &[EventRecord],
) -> StoreResult<bool> {
    let moved = sqlx::query(
        "UPDATE events SET fanout_cursor = $1, \
         fanout = CASE WHEN $2 THEN NULL ELSE fanout END \
         WHERE id = $3 AND fanout IS NOT NULL AND fanout_cursor IS NOT DISTINCT FROM $4",
    )
    .bind(next)
    .bind(done)
    .bind(event_id)
    .bind(cursor)
    .execute(&mut *conn)
    .await
    .map_err(db)?
    .rows_affected();
    if moved == 0 {
        return Ok(false);
    }
    insert_events(conn, events).await?;
    Ok(true)
}

pub(super) async fn dispatch_event(
    conn: &mut Conn,
    event_id: &str,
    data: Option<&str>,
    deliveries: &[DeliveryRecord],
    notifications: &[NotificationRecord],
    now: i64,
) -> StoreResult<bool> {
    let marked = sqlx::query(
        "UPDATE events SET dispatched_at = $1, data = COALESCE($2, data) \
         WHERE id = $3 AND dispatched_at IS NULL",
    )
    .bind(now)
    .bind(data)
    .bind(event_id)
    .execute(&mut *conn)
    .await
    .map_err(db)?
    .rows_affected();
    if marked == 0 {
        return Ok(false);
    }
    for d in deliveries {
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, webhook_id, event_id, environment_id, \
             status, attempts, next_attempt_at, last_response_status, created_at, \
             completed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&d.id)
        .bind(&d.webhook_id)
        .bind(&d.event_id)
        .bind(&d.environment_id)
        .bind(d.status.as_str())
        .bind(d.attempts)
        .bind(d.next_attempt_at)
        .bind(d.last_response_status)
        .bind(d.created_at)
        .bind(d.completed_at)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    for n in notifications {
        sqlx::query(
            "INSERT INTO notifications (id, event_id, environment_id, recipient, status, \
             attempts, next_attempt_at, last_error, created_at, sent_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&n.id)
        .bind(&n.event_id)
        .bind(&n.environment_id)
        .bind(&n.recipient)
        .bind(n.status.as_str())
        .bind(n.attempts)
        .bind(n.next_attempt_at)
        .bind(&n.last_error)
        .bind(n.created_at)
        .bind(n.sent_at)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    Ok(true)
}

pub(super) async fn mark_dispatched(
    conn: &mut Conn,
    event_ids: &[String],
    now: i64,
) -> StoreResult<()> {
    if event_ids.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (0..event_ids.len())
        .map(|i| format!("${}", i + 2))
        .collect();
    let sql = format!(
        "UPDATE events SET dispatched_at = $1 \
         WHERE dispatched_at IS NULL AND id IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
    for id in event_ids {
        query = query.bind(id);
    }
    query.execute(conn).await.map_err(db)?;
    Ok(())
}

pub(super) async fn lease_due_notifications(
    conn: &mut Conn,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> StoreResult<Vec<NotificationRecord>> {
    sqlx::query_as::<_, NotificationRecord>(sqlx::AssertSqlSafe(lease_pending("notifications")))
        .bind(lease_until)
        .bind(now)
        .bind(limit)
        .fetch_all(conn)
        .await
        .map_err(db)
}

pub(super) async fn record_notification(
    conn: &mut Conn,
    notification_id: &str,
    outcome: &DeliveryOutcome,
    error: Option<&str>,
    leased_until: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    let (status, next, sent) = match outcome {
        DeliveryOutcome::Succeeded => (MailStatus::Sent, None, Some(now)),
        DeliveryOutcome::Retry(at) => (MailStatus::Pending, Some(*at), None),
        DeliveryOutcome::Failed => (MailStatus::Failed, None, None),
    };
    sqlx::query(
        "UPDATE notifications SET status = $1, next_attempt_at = $2, sent_at = $3, \
         last_error = $4, attempts = attempts + 1 \
         WHERE id = $5 AND status = 'pending' AND next_attempt_at = $6",
    )
    .bind(status.as_str())
    .bind(next)
    .bind(sent)
    .bind(error)
    .bind(notification_id)
    .bind(leased_until)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// Writes `events` when the change they record happened.
pub(super) async fn recorded_if(
    conn: &mut Conn,
    changed: bool,
    events: &[EventRecord],
) -> StoreResult<bool> {
    if changed {
        insert_events(conn, events).await?;
    }
    Ok(changed)
}
