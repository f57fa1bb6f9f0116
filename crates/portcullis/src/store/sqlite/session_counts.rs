//! Live-session counters by expiry minute (see the migration), kept in the
//! same transaction as every change that makes a session live or not.

use sqlx::SqliteConnection;

use super::db;
use crate::store::StoreResult;
use crate::store::sql::{ADD_TO_COUNT, MINUTE_MS};

pub(super) async fn add(
    conn: &mut SqliteConnection,
    environment_id: &str,
    expires_at_ms: i64,
    delta: i64,
) -> StoreResult<()> {
    sqlx::query(ADD_TO_COUNT)
        .bind(environment_id)
        .bind(expires_at_ms.div_euclid(MINUTE_MS))
        .bind(delta)
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}
