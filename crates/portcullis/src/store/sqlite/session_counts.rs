//! Live-session counters by expiry minute (see the migration), kept in the
//! same transaction as every change that makes a session live or not.

use sqlx::SqliteConnection;

use super::db;
use crate::store::StoreResult;

pub(super) const MINUTE_MS: i64 = 60_000;

/// "Alive and not revoked in any scope" over `sessions s`, `users u`,
/// `environments e`, at the instant (ms) bound to placeholder `now`.
pub(super) fn alive(now: &str) -> String {
    format!(
        "s.expires_at > {now} AND s.revoked_at IS NULL \
         AND s.user_epoch >= u.sessions_epoch AND s.env_epoch >= e.sessions_epoch"
    )
}

pub(super) const FROM_JOINED: &str = "FROM sessions s JOIN users u ON u.id = s.user_id JOIN environments e ON e.id = s.environment_id";

pub(super) async fn add(
    conn: &mut SqliteConnection,
    environment_id: &str,
    expires_at_ms: i64,
    delta: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO session_counts (environment_id, expires_minute, live) VALUES ($1, $2, $3) \
         ON CONFLICT (environment_id, expires_minute) DO UPDATE SET live = live + excluded.live",
    )
    .bind(environment_id)
    .bind(expires_at_ms.div_euclid(MINUTE_MS))
    .bind(delta)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}
