//! Allowed origins' SQL, written once for both backends. This file is
//! compiled twice, inside `sqlite/mod.rs` and `postgres/mod.rs`, where
//! `Conn`, `Pool` and the dialect macros (`lock!()`, `skip_locked!()`, …)
//! resolve for that backend.

use super::environments_sql::has_room;
use super::{Conn, Pool, db};
use crate::store::{OriginRecord, StoreResult};

pub(super) async fn origins(pool: &Pool, environment_id: &str) -> StoreResult<Vec<OriginRecord>> {
    sqlx::query_as::<_, OriginRecord>(concat!(
        "SELECT id, environment_id, origin, created_at FROM origins \
         WHERE environment_id = $1 ORDER BY ",
        order!()
    ))
    .bind(environment_id)
    .fetch_all(pool)
    .await
    .map_err(db)
}

pub(super) async fn add_origin(conn: &mut Conn, o: &OriginRecord, limit: i64) -> StoreResult<bool> {
    if !has_room(&mut *conn, "origins", &o.environment_id, limit).await? {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO origins (id, environment_id, origin, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&o.id)
    .bind(&o.environment_id)
    .bind(&o.origin)
    .bind(o.created_at)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(true)
}

pub(super) async fn delete_origin(
    conn: &mut Conn,
    environment_id: &str,
    origin_id: &str,
) -> StoreResult<bool> {
    let deleted = sqlx::query("DELETE FROM origins WHERE environment_id = $1 AND id = $2")
        .bind(environment_id)
        .bind(origin_id)
        .execute(conn)
        .await
        .map_err(db)?
        .rows_affected();
    Ok(deleted > 0)
}
