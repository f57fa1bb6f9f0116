//! Users' SQL, written once for both backends. This file is
//! compiled twice, inside `sqlite/mod.rs` and `postgres/mod.rs`, where
//! `Conn`, `Pool` and the dialect macros (`lock!()`, `skip_locked!()`, …)
//! resolve for that backend.

use super::{Pool, db};
use crate::store::{StoreResult, UserQuery, UserRecord};

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
    // Two statements, so that each has its index (`users_by_email`,
    // `users_by_environment`); the cursor is a bound of the index.
    let query = match &q.email {
        Some(email) => sqlx::query_as::<_, UserRecord>(
            "SELECT * FROM users WHERE environment_id = $1 AND email = $2 \
             AND id > COALESCE($3, '') ORDER BY id LIMIT $4",
        )
        .bind(environment_id)
        .bind(email),
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
