//! Periodic jobs' SQL, written once for both backends. This file is
//! compiled twice, inside `sqlite/mod.rs` and `postgres/mod.rs`, where
//! `Conn`, `Pool` and the dialect macros (`lock!()`, `skip_locked!()`, …)
//! resolve for that backend.

use super::{Conn, db};
use crate::store::StoreResult;

/// Claims the periodic job `name` for `node` if it is due at
/// `now_ms`; it is then not due before `now_ms + every_ms`. Run in
/// a transaction: the claim holds the job's row until it commits.
pub(super) async fn claim_job(
    conn: &mut Conn,
    name: &str,
    node: &str,
    now_ms: i64,
    every_ms: i64,
) -> StoreResult<bool> {
    let due: Option<String> = sqlx::query_scalar(concat!(
        "SELECT name FROM jobs WHERE name = $1 AND next_run_at <= $2",
        skip_locked!()
    ))
    .bind(name)
    .bind(now_ms)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    if due.is_none() {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE jobs SET next_run_at = $1, claimed_by = $2, claimed_at = $3 WHERE name = $4",
    )
    .bind(now_ms.saturating_add(every_ms))
    .bind(node)
    .bind(now_ms)
    .bind(name)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(true)
}

/// Makes job `name` known (due at once) if it is not yet.
pub(super) async fn add_job(conn: &mut Conn, name: &str) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO jobs (name, next_run_at) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}
