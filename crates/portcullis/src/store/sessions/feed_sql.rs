//! The revocation feed's SQL (docs/verify.md), written once for both
//! backends and compiled inside `sqlite/mod.rs` and `postgres/mod.rs`.
//!
//! Every revocation appends one row in the transaction that records it.
//! Its `seq` comes from the environment's own counter, raised by an
//! `UPDATE` that holds the environment's row until the transaction ends:
//! an environment's entries commit in `seq` order, so a reader that has
//! seen entry N has seen every entry below it.

use super::{Conn, Pool, db};
use crate::store::{FeedEntry, FeedPage, StoreError, StoreResult};

/// What one revocation adds to the feed.
pub(super) struct LogEntry<'a> {
    pub kind: &'static str,
    pub subject_id: &'a str,
    pub user_id: Option<&'a str>,
    pub epoch: Option<i64>,
    pub expires_at: Option<i64>,
}

/// Appends `entry` to the environment's feed, at `at` (ms).
pub(super) async fn log_revocation(
    conn: &mut Conn,
    environment_id: &str,
    entry: LogEntry<'_>,
    at: i64,
) -> StoreResult<()> {
    let seq: Option<i64> = sqlx::query_scalar(
        "UPDATE environments SET revocation_seq = revocation_seq + 1 WHERE id = $1 \
         RETURNING revocation_seq",
    )
    .bind(environment_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    let seq = seq.ok_or(StoreError::NotFound)?;
    sqlx::query(
        "INSERT INTO revocation_log \
         (environment_id, seq, kind, subject_id, user_id, epoch, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(environment_id)
    .bind(seq)
    .bind(entry.kind)
    .bind(entry.subject_id)
    .bind(entry.user_id)
    .bind(entry.epoch)
    .bind(entry.expires_at)
    .bind(at)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// A row of `revocation_log`: seq, kind, subject, user, epoch, expiry.
type FeedRow = (i64, String, String, Option<String>, Option<i64>, Option<i64>);

/// At most `limit` entries of the environment's feed after `after`, with
/// where the feed stands. `NotFound` for an unknown environment. The head
/// is read before the entries, outside one snapshot: entries recorded in
/// between may be newer than it (their own `epoch` then says more than
/// `environment_epoch`; the service folds them in).
pub(super) async fn revocation_feed(
    pool: &Pool,
    environment_id: &str,
    after: i64,
    limit: i64,
) -> StoreResult<FeedPage> {
    let head: Option<(i64, i64, i64)> = sqlx::query_as(
        "SELECT sessions_epoch, revocation_seq, revocation_floor FROM environments WHERE id = $1",
    )
    .bind(environment_id)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    let (environment_epoch, latest, floor) = head.ok_or(StoreError::NotFound)?;
    let rows: Vec<FeedRow> =
        sqlx::query_as(
            "SELECT seq, kind, subject_id, user_id, epoch, expires_at FROM revocation_log \
             WHERE environment_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(environment_id)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(db)?;
    Ok(FeedPage {
        environment_epoch,
        latest,
        floor,
        entries: rows
            .into_iter()
            .map(
                |(seq, kind, subject_id, user_id, epoch, expires_at)| FeedEntry {
                    seq,
                    kind,
                    subject_id,
                    user_id,
                    epoch,
                    expires_at,
                },
            )
            .collect(),
    })
}

/// Forgets the entries recorded before `before` (ms), and raises each
/// environment's floor to the highest `seq` forgotten.
pub(super) async fn prune_revocation_log(conn: &mut Conn, before: i64) -> StoreResult<()> {
    sqlx::query(
        "UPDATE environments SET revocation_floor = \
         (SELECT MAX(l.seq) FROM revocation_log l \
          WHERE l.environment_id = environments.id AND l.created_at < $1) \
         WHERE EXISTS (SELECT 1 FROM revocation_log l \
          WHERE l.environment_id = environments.id AND l.created_at < $1)",
    )
    .bind(before)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    sqlx::query("DELETE FROM revocation_log WHERE created_at < $1")
        .bind(before)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}
