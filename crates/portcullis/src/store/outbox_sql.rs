//! Store code for the audit log, the outbox and webhooks that both backends
//! run as it is (like `shared.rs`, expanded per backend by a macro).
//! `$skip_locked` is appended to the reads that lease work (`FOR UPDATE
//! SKIP LOCKED` on PostgreSQL). Events carry their insertion order in
//! `seq` on both backends. It expands next to `shared_queries!`, whose imports
//! (`StoreResult`, `db`, …) it uses.

macro_rules! outbox_queries {
    ($conn:ty, $pool:ty, $skip_locked:literal) => {
        use $crate::store::{
            AttemptRecord, AttemptRecorded, DeliveryAttemptRow, DeliveryHistory, DeliveryOutcome,
            DeliveryRecord, EventQuery, EventRecord, FanoutScope, NotificationRecord,
            WebhookChanges, WebhookRecord,
        };

        const EVENT_COLUMNS: &str = "id, organization_id, environment_id, type, actor_kind, \
             actor_id, ip_address, subject_id, data, fanout, fanout_cursor, created_at, \
             dispatched_at, notify";

        #[derive(::sqlx::FromRow)]
        pub(super) struct EventRow {
            position: i64,
            #[sqlx(flatten)]
            event: EventRecord,
        }

        /// Leases (moves `next_attempt_at` to `$1`) up to `$3` pending rows
        /// of `table` (one of ours, never input) due at `$2`, and returns them.
        fn lease_pending(table: &'static str) -> String {
            format!(
                "UPDATE {table} SET next_attempt_at = $1 WHERE id IN (\
                   SELECT id FROM {table} WHERE status = 'pending' \
                   AND next_attempt_at <= $2 ORDER BY next_attempt_at LIMIT $3{}) \
                 RETURNING *",
                $skip_locked
            )
        }

        /// `EventStore::prune`, one batch of each kind.
        pub(super) async fn prune_outbox(
            conn: &mut $conn,
            events_before: i64,
            records_before: i64,
            limit: i64,
        ) -> StoreResult<u64> {
            let mut deleted = 0;
            for table in ["webhook_deliveries", "notifications"] {
                deleted += ::sqlx::query(AssertSqlSafe(format!(
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
            deleted += ::sqlx::query(
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

        pub(super) async fn insert_event(conn: &mut $conn, e: &EventRecord) -> StoreResult<()> {
            ::sqlx::query(
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

        /// A revocation of every session of a user, and its event (which
        /// fans out into one per session).
        pub(super) async fn revoke_user_recorded(
            conn: &mut $conn,
            environment_id: &str,
            user_id: &str,
            r: &Revocation,
            event: &EventRecord,
        ) -> StoreResult<(u64, i64)> {
            let (count, epoch) = revoke_user(&mut *conn, environment_id, user_id, r).await?;
            let environment_epoch: i64 =
                ::sqlx::query_scalar("SELECT sessions_epoch FROM environments WHERE id = $1")
                    .bind(environment_id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db)?;
            let mut scope = fanout_scope(environment_id, Some(user_id), epoch, r, count);
            scope.environment_epoch = Some(environment_epoch);
            insert_event(conn, &event.with_fanout(&scope)).await?;
            Ok((count, epoch))
        }

        /// A revocation of every session of an environment, and its event.
        pub(super) async fn revoke_environment_recorded(
            conn: &mut $conn,
            environment_id: &str,
            r: &Revocation,
            event: &EventRecord,
        ) -> StoreResult<(u64, i64)> {
            let (count, epoch) = revoke_environment(&mut *conn, environment_id, r).await?;
            let scope = fanout_scope(environment_id, None, epoch, r, count);
            insert_event(conn, &event.with_fanout(&scope)).await?;
            Ok((count, epoch))
        }

        /// One session's revocation, and its event when it revoked a
        /// session that was alive.
        pub(super) async fn revoke_session_recorded(
            conn: &mut $conn,
            environment_id: &str,
            session_id: &str,
            r: &Revocation,
            event: &EventRecord,
        ) -> StoreResult<Option<SessionView>> {
            let Some((view, was_alive)) =
                revoke_session(&mut *conn, environment_id, session_id, r).await?
            else {
                return Ok(None);
            };
            if was_alive {
                insert_event(conn, event).await?;
            }
            Ok(Some(view))
        }

        fn fanout_scope(
            environment_id: &str,
            user_id: Option<&str>,
            epoch: i64,
            r: &Revocation,
            revoked_count: u64,
        ) -> FanoutScope {
            FanoutScope {
                environment_id: environment_id.to_string(),
                user_id: user_id.map(str::to_string),
                epoch,
                at: r.at,
                revoked_count,
                environment_epoch: None,
                by_kind: r.by_kind.clone(),
                by_id: r.by_id.clone(),
            }
        }

        pub(super) async fn insert_events(conn: &mut $conn, events: &[EventRecord]) -> StoreResult<()> {
            for e in events {
                insert_event(&mut *conn, e).await?;
            }
            Ok(())
        }

        pub(super) async fn event(pool: &$pool, event_id: &str) -> StoreResult<Option<EventRecord>> {
            ::sqlx::query_as::<_, EventRecord>(::sqlx::AssertSqlSafe(format!(
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
            pool: &$pool,
            environment_id: &str,
            q: &EventQuery,
        ) -> StoreResult<Vec<(i64, EventRecord)>> {
            let rows = ::sqlx::query_as::<_, EventRow>(::sqlx::AssertSqlSafe(format!(
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

        pub(super) async fn lease_undispatched(
            conn: &mut $conn,
            now: i64,
            lease_until: i64,
            limit: i64,
        ) -> StoreResult<Vec<EventRecord>> {
            let mut rows = ::sqlx::query_as::<_, EventRow>(::sqlx::AssertSqlSafe(format!(
                "UPDATE events SET dispatch_lease = $1 WHERE id IN (\
                   SELECT id FROM events WHERE dispatched_at IS NULL \
                   AND (dispatch_lease IS NULL OR dispatch_lease <= $2) \
                   ORDER BY created_at LIMIT $3{skip}) \
                 RETURNING seq AS position, {EVENT_COLUMNS}",
                skip = $skip_locked
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
            pool: &$pool,
            scope: &FanoutScope,
            after: Option<&str>,
            limit: i64,
        ) -> StoreResult<Vec<String>> {
            let by_scope = match scope.user_id {
                Some(_) => "s.user_id = $6 AND s.user_epoch = $2 - 1 AND s.env_epoch >= $7",
                None => "s.env_epoch = $2 - 1 \
                     AND NOT (s.user_epoch < u.sessions_epoch AND u.sessions_revoked_at <= $3)",
            };
            ::sqlx::query_scalar(::sqlx::AssertSqlSafe(format!(
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
            conn: &mut $conn,
            event_id: &str,
            cursor: Option<&str>,
            next: Option<&str>,
            done: bool,
            events: &[EventRecord],
        ) -> StoreResult<bool> {
            let moved = ::sqlx::query(
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
            conn: &mut $conn,
            event_id: &str,
            data: Option<&str>,
            deliveries: &[DeliveryRecord],
            notifications: &[NotificationRecord],
            now: i64,
        ) -> StoreResult<bool> {
            let marked = ::sqlx::query(
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
                ::sqlx::query(
                    "INSERT INTO webhook_deliveries (id, webhook_id, event_id, environment_id, \
                     status, attempts, next_attempt_at, last_response_status, created_at, \
                     completed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&d.id)
                .bind(&d.webhook_id)
                .bind(&d.event_id)
                .bind(&d.environment_id)
                .bind(&d.status)
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
                ::sqlx::query(
                    "INSERT INTO notifications (id, event_id, environment_id, recipient, status, \
                     attempts, next_attempt_at, last_error, created_at, sent_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&n.id)
                .bind(&n.event_id)
                .bind(&n.environment_id)
                .bind(&n.recipient)
                .bind(&n.status)
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
            conn: &mut $conn,
            event_ids: &[String],
            now: i64,
        ) -> StoreResult<()> {
            if event_ids.is_empty() {
                return Ok(());
            }
            let placeholders: Vec<String> =
                (0..event_ids.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "UPDATE events SET dispatched_at = $1 \
                 WHERE dispatched_at IS NULL AND id IN ({})",
                placeholders.join(", ")
            );
            let mut query = ::sqlx::query(::sqlx::AssertSqlSafe(sql)).bind(now);
            for id in event_ids {
                query = query.bind(id);
            }
            query.execute(conn).await.map_err(db)?;
            Ok(())
        }

        pub(super) async fn lease_due_notifications(
            conn: &mut $conn,
            now: i64,
            lease_until: i64,
            limit: i64,
        ) -> StoreResult<Vec<NotificationRecord>> {
            ::sqlx::query_as::<_, NotificationRecord>(::sqlx::AssertSqlSafe(lease_pending(
                "notifications",
            )))
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(conn)
            .await
            .map_err(db)
        }

        pub(super) async fn record_notification(
            conn: &mut $conn,
            notification_id: &str,
            outcome: &DeliveryOutcome,
            error: Option<&str>,
            leased_until: Option<i64>,
            now: i64,
        ) -> StoreResult<()> {
            let (status, next, sent) = match outcome {
                DeliveryOutcome::Succeeded => ("sent", None, Some(now)),
                DeliveryOutcome::Retry(at) => ("pending", Some(*at), None),
                DeliveryOutcome::Failed => ("failed", None, None),
            };
            ::sqlx::query(
                "UPDATE notifications SET status = $1, next_attempt_at = $2, sent_at = $3, \
                 last_error = $4, attempts = attempts + 1 \
                 WHERE id = $5 AND status = 'pending' AND next_attempt_at = $6",
            )
            .bind(status)
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

        pub(super) async fn webhooks(pool: &$pool, environment_id: &str) -> StoreResult<Vec<WebhookRecord>> {
            ::sqlx::query_as::<_, WebhookRecord>(
                "SELECT * FROM webhooks WHERE environment_id = $1 ORDER BY created_at, id",
            )
            .bind(environment_id)
            .fetch_all(pool)
            .await
            .map_err(db)
        }

        pub(super) async fn webhook(
            pool: &$pool,
            environment_id: &str,
            webhook_id: &str,
        ) -> StoreResult<Option<WebhookRecord>> {
            ::sqlx::query_as::<_, WebhookRecord>(
                "SELECT * FROM webhooks WHERE environment_id = $1 AND id = $2",
            )
            .bind(environment_id)
            .bind(webhook_id)
            .fetch_optional(pool)
            .await
            .map_err(db)
        }

        pub(super) async fn insert_webhook(
            conn: &mut $conn,
            w: &WebhookRecord,
            limit: i64,
        ) -> StoreResult<bool> {
            if !has_room(&mut *conn, "webhooks", &w.environment_id, limit).await? {
                return Ok(false);
            }
            ::sqlx::query(
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
            conn: &mut $conn,
            environment_id: &str,
            webhook_id: &str,
            c: &WebhookChanges,
            now: i64,
        ) -> StoreResult<Option<WebhookRecord>> {
            ::sqlx::query_as::<_, WebhookRecord>(
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
            conn: &mut $conn,
            environment_id: &str,
            webhook_id: &str,
            secret_sealed: &[u8],
            previous_until: i64,
            now: i64,
        ) -> StoreResult<Option<WebhookRecord>> {
            ::sqlx::query_as::<_, WebhookRecord>(
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
            conn: &mut $conn,
            environment_id: &str,
            webhook_id: &str,
        ) -> StoreResult<bool> {
            let deleted = ::sqlx::query("DELETE FROM webhooks WHERE environment_id = $1 AND id = $2")
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
            pool: &$pool,
            webhook_id: &str,
            delivery_id: Option<&str>,
            limit: i64,
        ) -> StoreResult<Vec<DeliveryHistory>> {
            let rows = ::sqlx::query_as::<_, DeliveryAttemptRow>(
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
            conn: &mut $conn,
            now: i64,
            lease_until: i64,
            limit: i64,
        ) -> StoreResult<Vec<DeliveryRecord>> {
            ::sqlx::query_as::<_, DeliveryRecord>(::sqlx::AssertSqlSafe(lease_pending(
                "webhook_deliveries",
            )))
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
            conn: &mut $conn,
            a: &AttemptRecord,
            outcome: &DeliveryOutcome,
            leased_until: Option<i64>,
            disabled_event: &EventRecord,
        ) -> StoreResult<AttemptRecorded> {
            let (status, next, completed) = match outcome {
                DeliveryOutcome::Succeeded => ("succeeded", None, Some(a.attempted_at)),
                DeliveryOutcome::Retry(at) => ("pending", Some(*at), None),
                DeliveryOutcome::Failed => ("failed", None, Some(a.attempted_at)),
            };
            let updated: Option<(String, i64)> = ::sqlx::query_as(
                "UPDATE webhook_deliveries SET status = $1, next_attempt_at = $2, \
                 completed_at = $3, attempts = attempts + 1, last_response_status = $4 \
                 WHERE id = $5 AND status = 'pending' AND next_attempt_at = $6 \
                 RETURNING webhook_id, attempts",
            )
            .bind(status)
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
            ::sqlx::query(
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
            ::sqlx::query(
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
            let disabled = ::sqlx::query(
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
            Ok(AttemptRecorded::Stored { disabled: disabled > 0 })
        }

        pub(super) async fn redeliver(
            conn: &mut $conn,
            webhook_id: &str,
            delivery_id: &str,
            now: i64,
        ) -> StoreResult<bool> {
            let updated = ::sqlx::query(
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
    };
}

pub(crate) use outbox_queries;
