//! Verifications' SQL, written once for both backends. This file is
//! compiled twice, inside `sqlite/mod.rs` and `postgres/mod.rs`, where
//! `Conn`, `Pool` and the dialect macros (`lock!()`, `skip_locked!()`, …)
//! resolve for that backend.

use super::{Conn, db};
use crate::store::{Attempt, StoreResult, VerificationRecord};

pub(super) async fn insert_verification(
    conn: &mut Conn,
    v: &VerificationRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO verifications (id, environment_id, channel, destination, code_mac, \
         attempts, created_at, expires_at, consumed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&v.id)
    .bind(&v.environment_id)
    .bind(&v.channel)
    .bind(&v.destination)
    .bind(&v.code_mac)
    .bind(v.attempts)
    .bind(v.created_at)
    .bind(v.expires_at)
    .bind(v.consumed_at)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// One attempt at a code (`VerificationStore::attempt`): spends it
/// if the verification is live and the newest for its destination
/// (by `order!()`, the insertion order), then compares the MAC in
/// constant time.
pub(super) async fn attempt(
    conn: &mut Conn,
    environment_id: &str,
    verification_id: &str,
    max_attempts: i64,
    now: i64,
    code_mac: &[u8],
) -> StoreResult<Attempt> {
    let Some(verification) = sqlx::query_as::<_, VerificationRecord>(concat!(
        "UPDATE verifications SET attempts = attempts + 1 \
         WHERE id = $1 AND environment_id = $2 AND consumed_at IS NULL \
         AND attempts < $3 AND expires_at > $4 \
         AND NOT EXISTS (SELECT 1 FROM verifications newer \
             WHERE newer.environment_id = verifications.environment_id \
               AND newer.channel = verifications.channel \
               AND newer.destination = verifications.destination \
               AND newer.",
        order!(),
        " > verifications.",
        order!(),
        ") \
         RETURNING id, environment_id, channel, destination, code_mac, attempts, \
             created_at, expires_at, consumed_at"
    ))
    .bind(verification_id)
    .bind(environment_id)
    .bind(max_attempts)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?
    else {
        return Ok(Attempt::Refused);
    };
    Ok(
        if crate::crypto::constant_time_eq(code_mac, &verification.code_mac) {
            Attempt::Matched(verification)
        } else {
            Attempt::Wrong(verification)
        },
    )
}

pub(super) async fn prune_verifications(conn: &mut Conn, now_ms: i64) -> StoreResult<()> {
    sqlx::query("DELETE FROM verifications WHERE expires_at < $1")
        .bind(now_ms)
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}
