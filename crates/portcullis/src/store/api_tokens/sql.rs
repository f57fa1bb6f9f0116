//! API tokens' SQL, written once for both backends. This file is
//! compiled twice, inside `sqlite/mod.rs` and `postgres/mod.rs`, where
//! `Conn`, `Pool` and the dialect macros (`lock!()`, `skip_locked!()`, …)
//! resolve for that backend.

use super::events_sql::{insert_events, recorded_if};
use super::{Conn, Pool, db};
use crate::store::{ApiTokenRecord, EventRecord, StoreResult, TokenRotation};

pub(super) async fn insert_token(conn: &mut Conn, t: &ApiTokenRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO api_tokens (id, organization_id, environment_id, role, note, token_hash, \
         created_at, expires_at, revoked_at, last_used_at, previous_hash, \
         previous_expires_at, rotated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&t.id)
    .bind(&t.organization_id)
    .bind(&t.environment_id)
    .bind(t.role.as_str())
    .bind(&t.note)
    .bind(&t.token_hash)
    .bind(t.created_at)
    .bind(t.expires_at)
    .bind(t.revoked_at)
    .bind(t.last_used_at)
    .bind(&t.previous_hash)
    .bind(t.previous_expires_at)
    .bind(t.rotated_at)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}

pub(super) async fn insert_token_recorded(
    conn: &mut Conn,
    t: &ApiTokenRecord,
    events: &[EventRecord],
) -> StoreResult<()> {
    insert_token(&mut *conn, t).await?;
    insert_events(conn, events).await
}

pub(super) async fn find_token_by_hash(
    pool: &Pool,
    token_hash: &[u8],
) -> StoreResult<Option<ApiTokenRecord>> {
    sqlx::query_as::<_, ApiTokenRecord>(
        "SELECT * FROM api_tokens WHERE token_hash = $1 \
         UNION ALL SELECT * FROM api_tokens WHERE previous_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await
    .map_err(db)
}

pub(super) async fn tokens(
    pool: &Pool,
    organization_id: &str,
    environment_id: Option<&str>,
) -> StoreResult<Vec<ApiTokenRecord>> {
    sqlx::query_as::<_, ApiTokenRecord>(
        "SELECT * FROM api_tokens WHERE organization_id = $1 AND revoked_at IS NULL \
         AND ($2 IS NULL OR environment_id = $2) ORDER BY created_at, id",
    )
    .bind(organization_id)
    .bind(environment_id)
    .fetch_all(pool)
    .await
    .map_err(db)
}

pub(super) async fn token(
    pool: &Pool,
    organization_id: &str,
    token_id: &str,
) -> StoreResult<Option<ApiTokenRecord>> {
    sqlx::query_as::<_, ApiTokenRecord>(
        "SELECT * FROM api_tokens WHERE organization_id = $1 AND id = $2 \
         AND revoked_at IS NULL",
    )
    .bind(organization_id)
    .bind(token_id)
    .fetch_optional(pool)
    .await
    .map_err(db)
}

pub(super) async fn revoke_token(
    conn: &mut Conn,
    organization_id: &str,
    token_id: &str,
    at: i64,
    events: &[EventRecord],
) -> StoreResult<bool> {
    let revoked = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 \
         WHERE organization_id = $2 AND id = $3 AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(organization_id)
    .bind(token_id)
    .execute(&mut *conn)
    .await
    .map_err(db)?
    .rows_affected();
    recorded_if(conn, revoked == 1, events).await
}

pub(super) async fn rotate_token(
    conn: &mut Conn,
    organization_id: &str,
    token_id: &str,
    rotation: &TokenRotation,
    events: &[EventRecord],
) -> StoreResult<bool> {
    let rotated = sqlx::query(
        "UPDATE api_tokens SET previous_hash = token_hash, token_hash = $1, \
         previous_expires_at = $2, rotated_at = $3, expires_at = $6 \
         WHERE organization_id = $4 AND id = $5 AND revoked_at IS NULL",
    )
    .bind(&rotation.new_hash)
    .bind(rotation.previous_expires_at)
    .bind(rotation.at)
    .bind(organization_id)
    .bind(token_id)
    .bind(rotation.expires_at)
    .execute(&mut *conn)
    .await
    .map_err(db)?
    .rows_affected();
    recorded_if(conn, rotated == 1, events).await
}

/// Notes a use of the token at `at` (never moving its last use back).
pub(super) async fn touch_token(conn: &mut Conn, token_id: &str, at: i64) -> StoreResult<()> {
    sqlx::query(concat!(
        "UPDATE api_tokens SET last_used_at = ",
        greatest!(),
        "(COALESCE(last_used_at, 0), $1) WHERE id = $2"
    ))
    .bind(at)
    .bind(token_id)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}
