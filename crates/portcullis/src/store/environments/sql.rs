//! Environments' and signing keys' SQL, written once for both backends. This file is
//! compiled twice, inside `sqlite/mod.rs` and `postgres/mod.rs`, where
//! `Conn`, `Pool` and the dialect macros (`lock!()`, `skip_locked!()`, …)
//! resolve for that backend.

use sqlx::AssertSqlSafe;

use super::events_sql::recorded_if;
use super::{Conn, Pool, db};
use crate::store::{EnvironmentRecord, EventRecord, SigningKeyRecord, StoreError, StoreResult};

pub(super) async fn insert_key(conn: &mut Conn, k: &SigningKeyRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, environment_id, algorithm, private_key_sealed, public_jwk, \
         created_at, retired_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&k.kid)
    .bind(&k.environment_id)
    .bind(k.algorithm.as_str())
    .bind(&k.private_key_sealed)
    .bind(&k.public_jwk)
    .bind(k.created_at)
    .bind(k.retired_at)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}

pub(super) async fn environment(
    pool: &Pool,
    environment_id: &str,
) -> StoreResult<Option<EnvironmentRecord>> {
    sqlx::query_as::<_, EnvironmentRecord>("SELECT * FROM environments WHERE id = $1")
        .bind(environment_id)
        .fetch_optional(pool)
        .await
        .map_err(db)
}

pub(super) async fn signing_keys(
    pool: &Pool,
    environment_id: &str,
) -> StoreResult<Vec<SigningKeyRecord>> {
    sqlx::query_as::<_, SigningKeyRecord>(
        "SELECT * FROM signing_keys WHERE environment_id = $1 \
         ORDER BY (retired_at IS NOT NULL), created_at DESC, kid",
    )
    .bind(environment_id)
    .fetch_all(pool)
    .await
    .map_err(db)
}

pub(super) async fn environment_epochs(pool: &Pool) -> StoreResult<Vec<(String, i64)>> {
    sqlx::query_as("SELECT id, sessions_epoch FROM environments WHERE sessions_epoch > 0")
        .fetch_all(pool)
        .await
        .map_err(db)
}

pub(super) async fn update_settings(
    conn: &mut Conn,
    environment_id: &str,
    settings_json: &str,
    new_key: Option<&SigningKeyRecord>,
    now: i64,
) -> StoreResult<()> {
    let updated = sqlx::query("UPDATE environments SET settings_json = $1 WHERE id = $2")
        .bind(settings_json)
        .bind(environment_id)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    if let Some(key) = new_key {
        sqlx::query(
            "UPDATE signing_keys SET retired_at = $1 \
             WHERE environment_id = $2 AND retired_at IS NULL",
        )
        .bind(now)
        .bind(environment_id)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
        insert_key(conn, key).await?;
    }
    Ok(())
}

/// Counts under the environment's row lock, so parallel adds cannot
/// pass the limit together.
/// Locks the environment's row for the transaction (PostgreSQL), so
/// that counts of what it holds stay true until the commit.
pub(super) async fn lock_environment(conn: &mut Conn, environment_id: &str) -> StoreResult<()> {
    let exists: Option<String> = sqlx::query_scalar(concat!(
        "SELECT id FROM environments WHERE id = $1",
        lock!()
    ))
    .bind(environment_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    exists.map(|_| ()).ok_or(StoreError::NotFound)
}

/// Whether the environment holds fewer than `limit` rows of `table`
/// (one of ours, never input), counted under its row lock so that
/// parallel inserts cannot pass the limit together.
pub(super) async fn has_room(
    conn: &mut Conn,
    table: &'static str,
    environment_id: &str,
    limit: i64,
) -> StoreResult<bool> {
    lock_environment(&mut *conn, environment_id).await?;
    let held: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {table} WHERE environment_id = $1"
    )))
    .bind(environment_id)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    Ok(held < limit)
}

pub(super) async fn set_locked(
    conn: &mut Conn,
    environment_id: &str,
    locked: bool,
    event: &EventRecord,
) -> StoreResult<bool> {
    let changed = sqlx::query("UPDATE environments SET locked = $1 WHERE id = $2 AND locked <> $1")
        .bind(locked)
        .bind(environment_id)
        .execute(&mut *conn)
        .await
        .map_err(db)?
        .rows_affected();
    recorded_if(conn, changed == 1, std::slice::from_ref(event)).await
}

pub(super) async fn lock_states(pool: &Pool) -> StoreResult<Vec<(String, bool)>> {
    sqlx::query_as("SELECT id, locked FROM environments")
        .fetch_all(pool)
        .await
        .map_err(db)
}

pub(super) async fn environments_of(
    pool: &Pool,
    organization_id: &str,
) -> StoreResult<Vec<EnvironmentRecord>> {
    sqlx::query_as::<_, EnvironmentRecord>(
        "SELECT * FROM environments WHERE organization_id = $1 ORDER BY created_at, id",
    )
    .bind(organization_id)
    .fetch_all(pool)
    .await
    .map_err(db)
}
