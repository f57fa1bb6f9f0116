//! Members' sign-ins, sessions and TOTP: SQL written once for both
//! backends, compiled inside `sqlite/mod.rs` and `postgres/mod.rs`.

use super::{Conn, Pool, db};
use crate::store::{
    MemberSessionView, MemberSignInRecord, MemberTotpRecord, NewMemberSession, SignInAttempt,
    StoreResult,
};

pub(super) async fn insert_sign_in(conn: &mut Conn, s: &MemberSignInRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO member_sign_ins (id, organization_id, email, member_id, code_mac, \
         attempts, created_at, expires_at, consumed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&s.id)
    .bind(&s.organization_id)
    .bind(&s.email)
    .bind(&s.member_id)
    .bind(&s.code_mac)
    .bind(s.attempts)
    .bind(s.created_at)
    .bind(s.expires_at)
    .bind(s.consumed_at)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// `MemberAccessStore::attempt_sign_in`: the attempt is spent before the
/// comparison, so concurrent guesses cannot exceed the limit.
pub(super) async fn attempt_sign_in(
    conn: &mut Conn,
    organization_id: &str,
    sign_in_id: &str,
    max_attempts: i64,
    now: i64,
    code_mac: &[u8],
) -> StoreResult<SignInAttempt> {
    let Some(sign_in) = sqlx::query_as::<_, MemberSignInRecord>(concat!(
        "UPDATE member_sign_ins SET attempts = attempts + 1 \
         WHERE id = $1 AND organization_id = $2 AND consumed_at IS NULL \
         AND attempts < $3 AND expires_at > $4 \
         AND NOT EXISTS (SELECT 1 FROM member_sign_ins newer \
             WHERE newer.organization_id = member_sign_ins.organization_id \
               AND newer.email = member_sign_ins.email \
               AND newer.",
        order!(),
        " > member_sign_ins.",
        order!(),
        ") \
         RETURNING id, organization_id, email, member_id, code_mac, attempts, \
             created_at, expires_at, consumed_at"
    ))
    .bind(sign_in_id)
    .bind(organization_id)
    .bind(max_attempts)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?
    else {
        return Ok(SignInAttempt::Refused);
    };
    let matched = crate::crypto::constant_time_eq(code_mac, &sign_in.code_mac);
    Ok(match (matched, sign_in.member_id.is_some()) {
        (true, true) => SignInAttempt::Matched(sign_in),
        _ => SignInAttempt::Wrong(sign_in),
    })
}

pub(super) async fn begin_session(
    conn: &mut Conn,
    sign_in_id: &str,
    s: &NewMemberSession,
    now: i64,
) -> StoreResult<bool> {
    let used = sqlx::query(
        "UPDATE member_sign_ins SET consumed_at = $2 WHERE id = $1 AND consumed_at IS NULL",
    )
    .bind(sign_in_id)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    if used.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO member_sessions (id_hash, member_id, role, stage, created_at, \
         last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6)",
    )
    .bind(&s.id_hash)
    .bind(&s.member_id)
    .bind(s.role.as_str())
    .bind(s.stage.as_str())
    .bind(s.created_at)
    .bind(s.expires_at)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(true)
}

/// Ends every dashboard session of the member (and of the owner, with
/// `with_owner`): called in the transaction of a role change, so a session never
/// outlives the role it began with (not even if the role changes back).
pub(super) async fn end_sessions_of_owner_and(
    conn: &mut Conn,
    organization_id: &str,
    member_id: &str,
    with_owner: bool,
) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM member_sessions WHERE member_id IN (SELECT id FROM members \
         WHERE organization_id = $1 AND (id = $2 OR ($3 AND role = 'owner')))",
    )
    .bind(organization_id)
    .bind(member_id)
    .bind(with_owner)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}

pub(super) async fn session(pool: &Pool, id_hash: &[u8]) -> StoreResult<Option<MemberSessionView>> {
    sqlx::query_as::<_, MemberSessionView>(
        "SELECT s.member_id, m.organization_id, m.email, s.role, m.role AS member_role, \
             s.stage, s.created_at, s.last_seen_at, s.expires_at, o.require_member_mfa, \
             (t.confirmed_at IS NOT NULL) AS has_totp \
         FROM member_sessions s \
         JOIN members m ON m.id = s.member_id \
         JOIN organizations o ON o.id = m.organization_id \
         LEFT JOIN member_totp t ON t.member_id = s.member_id \
         WHERE s.id_hash = $1",
    )
    .bind(id_hash)
    .fetch_optional(pool)
    .await
    .map_err(db)
}

pub(super) async fn touch_session(conn: &mut Conn, id_hash: &[u8], now: i64) -> StoreResult<()> {
    sqlx::query("UPDATE member_sessions SET last_seen_at = $2 WHERE id_hash = $1")
        .bind(id_hash)
        .bind(now)
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}

pub(super) async fn complete_session(
    conn: &mut Conn,
    id_hash: &[u8],
    new_hash: &[u8],
    now: i64,
) -> StoreResult<bool> {
    let moved = sqlx::query(
        "INSERT INTO member_sessions (id_hash, member_id, role, stage, created_at, \
             last_seen_at, expires_at) \
         SELECT $2, member_id, role, 'signed_in', created_at, $3, expires_at \
         FROM member_sessions WHERE id_hash = $1 AND stage = 'totp'",
    )
    .bind(id_hash)
    .bind(new_hash)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    if moved.rows_affected() != 1 {
        return Ok(false);
    }
    end_session(conn, id_hash).await?;
    Ok(true)
}

pub(super) async fn end_session(conn: &mut Conn, id_hash: &[u8]) -> StoreResult<()> {
    sqlx::query("DELETE FROM member_sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}

pub(super) async fn totp(pool: &Pool, member_id: &str) -> StoreResult<Option<MemberTotpRecord>> {
    sqlx::query_as::<_, MemberTotpRecord>("SELECT * FROM member_totp WHERE member_id = $1")
        .bind(member_id)
        .fetch_optional(pool)
        .await
        .map_err(db)
}

pub(super) async fn begin_totp(conn: &mut Conn, t: &MemberTotpRecord) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO member_totp (member_id, secret_sealed, created_at, confirmed_at, \
         last_used_step) VALUES ($1, $2, $3, NULL, NULL) \
         ON CONFLICT (member_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, \
             created_at = excluded.created_at \
         WHERE member_totp.confirmed_at IS NULL",
    )
    .bind(&t.member_id)
    .bind(&t.secret_sealed)
    .bind(t.created_at)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn confirm_totp(
    conn: &mut Conn,
    member_id: &str,
    begun_at: i64,
    at: i64,
    step: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE member_totp SET confirmed_at = $2, last_used_step = $3 \
         WHERE member_id = $1 AND confirmed_at IS NULL AND created_at = $4",
    )
    .bind(member_id)
    .bind(at)
    .bind(step)
    .bind(begun_at)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn use_totp_step(conn: &mut Conn, member_id: &str, step: i64) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE member_totp SET last_used_step = $2 \
         WHERE member_id = $1 AND confirmed_at IS NOT NULL \
         AND (last_used_step IS NULL OR last_used_step < $2)",
    )
    .bind(member_id)
    .bind(step)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn delete_totp(conn: &mut Conn, member_id: &str) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM member_totp WHERE member_id = $1")
        .bind(member_id)
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn set_require_member_mfa(
    conn: &mut Conn,
    organization_id: &str,
    on: bool,
) -> StoreResult<()> {
    sqlx::query("UPDATE organizations SET require_member_mfa = $2 WHERE id = $1")
        .bind(organization_id)
        .bind(on)
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}

pub(super) async fn prune_member_access(conn: &mut Conn, now: i64, idle_ms: i64) -> StoreResult<()> {
    sqlx::query("DELETE FROM member_sign_ins WHERE expires_at < $1")
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    sqlx::query("DELETE FROM member_sessions WHERE expires_at < $1 OR last_seen_at < $2")
        .bind(now)
        .bind(now - idle_ms)
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}
