//! Second factors' SQL, written once for both backends. This file is
//! compiled twice, inside `sqlite/mod.rs` and `postgres/mod.rs`, where
//! `Conn`, `Pool` and the dialect macros (`lock!()`, `skip_locked!()`, …)
//! resolve for that backend.

use super::{Conn, Pool, db};
use crate::store::{
    ChallengeRecord, CodeAttempt, MfaDeviceRecord, RecoveryCodeRecord, StoreResult,
};

pub(super) async fn mfa_devices(
    pool: &Pool,
    environment_id: &str,
    user_id: &str,
) -> StoreResult<Vec<MfaDeviceRecord>> {
    sqlx::query_as::<_, MfaDeviceRecord>(
        "SELECT * FROM mfa_devices WHERE environment_id = $1 AND user_id = $2 \
         ORDER BY created_at, id",
    )
    .bind(environment_id)
    .bind(user_id)
    .fetch_all(pool)
    .await
    .map_err(db)
}

pub(super) async fn insert_mfa_device(conn: &mut Conn, d: &MfaDeviceRecord) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM mfa_devices WHERE environment_id = $3 AND user_id = $1 AND kind = $2 \
         AND confirmed_at IS NULL",
    )
    .bind(&d.user_id)
    .bind(&d.kind)
    .bind(&d.environment_id)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    sqlx::query(
        "INSERT INTO mfa_devices (id, environment_id, user_id, kind, name, secret_sealed, \
         created_at, confirmed_at, last_used_at, last_used_step, credential, credential_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&d.id)
    .bind(&d.environment_id)
    .bind(&d.user_id)
    .bind(&d.kind)
    .bind(&d.name)
    .bind(&d.secret_sealed)
    .bind(d.created_at)
    .bind(d.confirmed_at)
    .bind(d.last_used_at)
    .bind(d.last_used_step)
    .bind(&d.credential)
    .bind(&d.credential_id)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

pub(super) async fn confirm_mfa_device(
    conn: &mut Conn,
    device_id: &str,
    now_ms: i64,
    step: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE mfa_devices SET confirmed_at = $2, last_used_at = $2, last_used_step = $3 \
         WHERE id = $1 AND confirmed_at IS NULL",
    )
    .bind(device_id)
    .bind(now_ms)
    .bind(step)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn use_mfa_step(
    conn: &mut Conn,
    device_id: &str,
    step: i64,
    now_ms: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE mfa_devices SET last_used_step = $2, last_used_at = $3 \
         WHERE id = $1 AND confirmed_at IS NOT NULL \
         AND (last_used_step IS NULL OR last_used_step < $2)",
    )
    .bind(device_id)
    .bind(step)
    .bind(now_ms)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected() == 1)
}

/// Deletes one device; when it was the user's last confirmed one,
/// their recovery codes go with it (they stand in for a device).
/// Run in a transaction.
pub(super) async fn delete_mfa_device(
    conn: &mut Conn,
    environment_id: &str,
    user_id: &str,
    device_id: &str,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "DELETE FROM mfa_devices WHERE id = $1 AND environment_id = $2 AND user_id = $3",
    )
    .bind(device_id)
    .bind(environment_id)
    .bind(user_id)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    sqlx::query(
        "DELETE FROM recovery_codes WHERE environment_id = $1 AND user_id = $2 \
         AND NOT EXISTS (SELECT 1 FROM mfa_devices d WHERE d.environment_id = $1 \
         AND d.user_id = $2 AND d.confirmed_at IS NOT NULL)",
    )
    .bind(environment_id)
    .bind(user_id)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn reset_mfa(
    conn: &mut Conn,
    environment_id: &str,
    user_id: &str,
) -> StoreResult<u64> {
    sqlx::query("DELETE FROM recovery_codes WHERE environment_id = $1 AND user_id = $2")
        .bind(environment_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    let done = sqlx::query("DELETE FROM mfa_devices WHERE environment_id = $1 AND user_id = $2")
        .bind(environment_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(done.rows_affected())
}

pub(super) async fn replace_recovery_codes(
    conn: &mut Conn,
    environment_id: &str,
    user_id: &str,
    codes: &[(String, Vec<u8>)],
    now_ms: i64,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM recovery_codes WHERE environment_id = $1 AND user_id = $2")
        .bind(environment_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    for (id, mac) in codes {
        sqlx::query(
            "INSERT INTO recovery_codes (id, environment_id, user_id, code_mac, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(environment_id)
        .bind(user_id)
        .bind(mac)
        .bind(now_ms)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    Ok(())
}

pub(super) async fn unused_recovery_codes(
    pool: &Pool,
    environment_id: &str,
    user_id: &str,
) -> StoreResult<Vec<RecoveryCodeRecord>> {
    sqlx::query_as::<_, RecoveryCodeRecord>(
        "SELECT id, code_mac FROM recovery_codes \
         WHERE environment_id = $1 AND user_id = $2 AND used_at IS NULL",
    )
    .bind(environment_id)
    .bind(user_id)
    .fetch_all(pool)
    .await
    .map_err(db)
}

pub(super) async fn use_recovery_code(
    conn: &mut Conn,
    code_id: &str,
    now_ms: i64,
) -> StoreResult<bool> {
    let done =
        sqlx::query("UPDATE recovery_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL")
            .bind(code_id)
            .bind(now_ms)
            .execute(conn)
            .await
            .map_err(db)?;
    Ok(done.rows_affected() == 1)
}

/// One statement, so that parallel attempts cannot all slip
/// under the limit: the row is counted up only while the window
/// is open and below `max`, or started afresh once it has closed.
/// A window that closed locked (`max` reached) is followed by one
/// twice as long (up to `longest_ms`); one that closed unlocked,
/// by one of `window_ms`.
pub(super) async fn spend_code_attempt(
    conn: &mut Conn,
    user_id: &str,
    now_ms: i64,
    window_ms: i64,
    max: i64,
    longest_ms: i64,
) -> StoreResult<CodeAttempt> {
    let counted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO mfa_failures (user_id, failures, window_started_at, window_ms) \
         VALUES ($1, 1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET \
         failures = CASE WHEN mfa_failures.window_started_at + mfa_failures.window_ms <= $2 \
             THEN 1 ELSE mfa_failures.failures + 1 END, \
         window_ms = CASE \
             WHEN mfa_failures.window_started_at + mfa_failures.window_ms > $2 \
                 THEN mfa_failures.window_ms \
             WHEN mfa_failures.failures < $4 THEN $3 \
             WHEN mfa_failures.window_ms * 2 > $5 THEN $5 \
             ELSE mfa_failures.window_ms * 2 END, \
         window_started_at = CASE \
             WHEN mfa_failures.window_started_at + mfa_failures.window_ms <= $2 \
             THEN $2 ELSE mfa_failures.window_started_at END \
         WHERE mfa_failures.window_started_at + mfa_failures.window_ms <= $2 \
             OR mfa_failures.failures < $4 \
         RETURNING failures",
    )
    .bind(user_id)
    .bind(now_ms)
    .bind(window_ms)
    .bind(max)
    .bind(longest_ms)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    if counted.is_some() {
        return Ok(CodeAttempt::Allowed);
    }
    let ends: Option<i64> = sqlx::query_scalar(
        "SELECT window_started_at + window_ms FROM mfa_failures WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    // No row: a right code cleared the count in between.
    Ok(ends.map_or(CodeAttempt::Allowed, CodeAttempt::LockedUntil))
}

pub(super) async fn clear_code_attempts(conn: &mut Conn, user_id: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM mfa_failures WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}

pub(super) async fn spend_elevated_token(
    conn: &mut Conn,
    jti: &str,
    expires_at_ms: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO elevated_token_uses (jti, expires_at) VALUES ($1, $2) \
         ON CONFLICT (jti) DO NOTHING",
    )
    .bind(jti)
    .bind(expires_at_ms)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn elevated_token_spent(pool: &Pool, jti: &str) -> StoreResult<bool> {
    let spent: Option<i64> =
        sqlx::query_scalar("SELECT CAST(1 AS BIGINT) FROM elevated_token_uses WHERE jti = $1")
            .bind(jti)
            .fetch_optional(pool)
            .await
            .map_err(db)?;
    Ok(spent.is_some())
}

pub(super) async fn prune_mfa(conn: &mut Conn, now_ms: i64) -> StoreResult<()> {
    sqlx::query("DELETE FROM elevated_token_uses WHERE expires_at < $1")
        .bind(now_ms)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    sqlx::query("DELETE FROM webauthn_challenges WHERE expires_at < $1")
        .bind(now_ms)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

pub(super) async fn insert_challenge(conn: &mut Conn, c: &ChallengeRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO webauthn_challenges (id, environment_id, session_id, purpose, state, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&c.id)
    .bind(&c.environment_id)
    .bind(&c.session_id)
    .bind(&c.purpose)
    .bind(&c.state)
    .bind(c.created_at)
    .bind(c.expires_at)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}

pub(super) async fn take_challenge(
    conn: &mut Conn,
    environment_id: &str,
    challenge_id: &str,
    session_id: &str,
    purpose: &str,
    now_ms: i64,
) -> StoreResult<Option<String>> {
    sqlx::query_scalar(
        "UPDATE webauthn_challenges SET used_at = $5 WHERE id = $1 AND environment_id = $2 \
         AND session_id = $3 AND purpose = $4 AND used_at IS NULL AND expires_at > $5 \
         RETURNING state",
    )
    .bind(challenge_id)
    .bind(environment_id)
    .bind(session_id)
    .bind(purpose)
    .bind(now_ms)
    .fetch_optional(conn)
    .await
    .map_err(db)
}

pub(super) async fn update_credential(
    conn: &mut Conn,
    device_id: &str,
    credential: &str,
    now_ms: i64,
) -> StoreResult<()> {
    sqlx::query("UPDATE mfa_devices SET credential = $2, last_used_at = $3 WHERE id = $1")
        .bind(device_id)
        .bind(credential)
        .bind(now_ms)
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}
