//! Users' SQL, written once for both backends. This file is
//! compiled twice, inside `sqlite/mod.rs` and `postgres/mod.rs`, where
//! `Conn`, `Pool` and the dialect macros (`lock!()`, `skip_locked!()`, …)
//! resolve for that backend.

use sqlx::AssertSqlSafe;

use super::{Pool, db};
use crate::store::{CredentialRecord, StoreResult, UserQuery, UserRecord};

pub(super) async fn user(
    pool: &Pool,
    environment_id: &str,
    user_id: &str,
) -> StoreResult<Option<UserRecord>> {
    sqlx::query_as::<_, UserRecord>("SELECT * FROM users WHERE id = $1 AND environment_id = $2")
        .bind(user_id)
        .bind(environment_id)
        .fetch_optional(pool)
        .await
        .map_err(db)
}

pub(super) async fn users(
    pool: &Pool,
    environment_id: &str,
    q: &UserQuery,
) -> StoreResult<Vec<UserRecord>> {
    // Two statements, so that each has its index
    // (`verified_credentials_value`, `users_by_environment`); the cursor is
    // a bound of the index.
    let query = match &q.credential {
        Some((kind, value)) => sqlx::query_as::<_, UserRecord>(
            "SELECT u.* FROM verified_credentials c JOIN users u ON u.id = c.user_id \
             WHERE c.environment_id = $1 AND c.kind = $2 AND c.value = $3 \
             AND u.id > COALESCE($4, '') ORDER BY u.id LIMIT $5",
        )
        .bind(environment_id)
        .bind(kind)
        .bind(value),
        None => sqlx::query_as::<_, UserRecord>(
            "SELECT * FROM users WHERE environment_id = $1 \
             AND id > COALESCE($2, '') ORDER BY id LIMIT $3",
        )
        .bind(environment_id),
    };
    query
        .bind(&q.after)
        .bind(i64::from(q.limit))
        .fetch_all(pool)
        .await
        .map_err(db)
}

pub(super) async fn user_epochs(pool: &Pool) -> StoreResult<Vec<(String, i64, i64)>> {
    sqlx::query_as(
        "SELECT id, sessions_epoch, COALESCE(sessions_revoked_at, 0) FROM users \
         WHERE sessions_epoch > 0",
    )
    .fetch_all(pool)
    .await
    .map_err(db)
}

const CREDENTIAL_COLUMNS: &str = "SELECT id, environment_id, user_id, kind, value, name, \
     verified_at, last_used_at, created_at FROM verified_credentials";

pub(super) async fn credentials(
    pool: &Pool,
    environment_id: &str,
    user_id: &str,
) -> StoreResult<Vec<CredentialRecord>> {
    sqlx::query_as::<_, CredentialRecord>(AssertSqlSafe(format!(
        "{CREDENTIAL_COLUMNS} WHERE environment_id = $1 AND user_id = $2 ORDER BY created_at, id"
    )))
    .bind(environment_id)
    .bind(user_id)
    .fetch_all(pool)
    .await
    .map_err(db)
}

pub(super) async fn credentials_of_range(
    pool: &Pool,
    environment_id: &str,
    first: &str,
    last: &str,
) -> StoreResult<Vec<CredentialRecord>> {
    sqlx::query_as::<_, CredentialRecord>(AssertSqlSafe(format!(
        "{CREDENTIAL_COLUMNS} WHERE environment_id = $1 AND user_id >= $2 AND user_id <= $3 \
         ORDER BY user_id, created_at, id"
    )))
    .bind(environment_id)
    .bind(first)
    .bind(last)
    .fetch_all(pool)
    .await
    .map_err(db)
}
