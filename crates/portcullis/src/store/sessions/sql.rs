//! Sessions', their counters' and revocations' SQL, written once for both backends. This file is
//! compiled twice, inside `sqlite/mod.rs` and `postgres/mod.rs`, where
//! `Conn`, `Pool` and the dialect macros (`lock!()`, `skip_locked!()`, …)
//! resolve for that backend.

use sqlx::AssertSqlSafe;

use super::events_sql::insert_event;
use super::feed_sql::{LogEntry, log_revocation};
use super::{Conn, Pool, db};
use crate::store::sessions::view::{
    ADD_TO_COUNT, FROM_JOINED, MINUTE_MS, REVOKED, SELECT_VIEW, ViewRow, alive, alive_of_one_user,
};
use crate::store::{
    EventRecord, FanoutScope, Revocation, SessionFilter, SessionView, StoreError, StoreResult,
};

/// Adds `delta` to the live-session counter of the minute
/// `expires_at_ms` falls in.
pub(super) async fn add_to_count(
    conn: &mut Conn,
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

/// The environment's sessions alive at `at`: exact for the minute under
/// way (some of its sessions have expired), counters for every later
/// minute.
pub(super) async fn live_sessions(
    conn: &mut Conn,
    environment_id: &str,
    at: i64,
) -> StoreResult<u64> {
    let this_minute = at.div_euclid(MINUTE_MS);
    let this_minute_live: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COUNT(*) {FROM_JOINED} WHERE s.environment_id = $1 AND s.expires_at < $2 AND {}",
        alive("$3")
    )))
    .bind(environment_id)
    .bind((this_minute + 1) * MINUTE_MS)
    .bind(at)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    let later: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(live), 0) AS BIGINT) FROM session_counts \
         WHERE environment_id = $1 AND expires_minute > $2",
    )
    .bind(environment_id)
    .bind(this_minute)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    Ok((this_minute_live + later).max(0) as u64)
}

/// Raises the environment's epoch; returns (sessions revoked, epoch).
pub(super) async fn revoke_environment(
    conn: &mut Conn,
    environment_id: &str,
    r: &Revocation,
) -> StoreResult<(u64, i64)> {
    let current: Option<i64> = sqlx::query_scalar(concat!(
        "SELECT sessions_epoch FROM environments WHERE id = $1",
        lock!()
    ))
    .bind(environment_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    let epoch = current.ok_or(StoreError::NotFound)? + 1;
    let live = live_sessions(&mut *conn, environment_id, r.at).await?;
    sqlx::query("DELETE FROM session_counts WHERE environment_id = $1")
        .bind(environment_id)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    sqlx::query(
        "UPDATE environments SET sessions_epoch = $1, sessions_revoked_at = $2, \
         sessions_revoked_by_kind = $3, sessions_revoked_by_id = $4 WHERE id = $5",
    )
    .bind(epoch)
    .bind(r.at)
    .bind(&r.by_kind)
    .bind(&r.by_id)
    .bind(environment_id)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok((live, epoch))
}

/// Raises the user's epoch; returns (sessions revoked, epoch).
pub(super) async fn revoke_user(
    conn: &mut Conn,
    environment_id: &str,
    user_id: &str,
    r: &Revocation,
) -> StoreResult<(u64, i64)> {
    let current: Option<i64> = sqlx::query_scalar(concat!(
        "SELECT sessions_epoch FROM users WHERE id = $1 AND environment_id = $2",
        lock!()
    ))
    .bind(user_id)
    .bind(environment_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    let epoch = current.ok_or(StoreError::NotFound)? + 1;
    let by_minute: Vec<(i64, i64)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT s.expires_at / {MINUTE_MS}, COUNT(*) {FROM_JOINED} \
         WHERE s.environment_id = $1 AND s.user_id = $2 AND s.user_epoch < $3 AND {} \
         GROUP BY s.expires_at / {MINUTE_MS} ORDER BY 1",
        alive_of_one_user("$4")
    )))
    .bind(environment_id)
    .bind(user_id)
    .bind(epoch)
    .bind(r.at)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    for (minute, count) in &by_minute {
        add_to_count(&mut *conn, environment_id, minute * MINUTE_MS, -count).await?;
    }
    sqlx::query(
        "UPDATE users SET sessions_epoch = $1, sessions_revoked_at = $2, \
         sessions_revoked_by_kind = $3, sessions_revoked_by_id = $4 \
         WHERE id = $5 AND environment_id = $6",
    )
    .bind(epoch)
    .bind(r.at)
    .bind(&r.by_kind)
    .bind(&r.by_id)
    .bind(user_id)
    .bind(environment_id)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    let revoked: i64 = by_minute.iter().map(|(_, c)| c).sum();
    Ok((revoked.max(0) as u64, epoch))
}

pub(super) async fn prune_session_counts(conn: &mut Conn, now_ms: i64) -> StoreResult<()> {
    sqlx::query("DELETE FROM session_counts WHERE expires_minute < $1")
        .bind(now_ms.div_euclid(MINUTE_MS))
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// The session's scope and methods once its second factor is proved.
pub(super) async fn complete_session_mfa(
    conn: &mut Conn,
    environment_id: &str,
    session_id: &str,
    scope: &str,
    amr: &str,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE sessions SET scope = $3, amr = $4 WHERE id = $1 AND environment_id = $2",
    )
    .bind(session_id)
    .bind(environment_id)
    .bind(scope)
    .bind(amr)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn session(
    pool: &Pool,
    environment_id: &str,
    session_id: &str,
) -> StoreResult<Option<SessionView>> {
    let row = sqlx::query_as::<_, ViewRow>(AssertSqlSafe(format!(
        "{SELECT_VIEW} WHERE s.id = $1 AND s.environment_id = $2"
    )))
    .bind(session_id)
    .bind(environment_id)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    Ok(row.map(Into::into))
}

pub(super) async fn sessions_of_user(
    pool: &Pool,
    environment_id: &str,
    user_id: &str,
    filter: &SessionFilter,
) -> StoreResult<Vec<SessionView>> {
    let condition = match filter {
        SessionFilter::All => "1 = 1".to_string(),
        SessionFilter::Revoked => REVOKED.to_string(),
        SessionFilter::NotRevoked | SessionFilter::Live(_) => format!("NOT {REVOKED}"),
    };
    // Only `Live` limits expiry; the others see every session.
    let now = match filter {
        SessionFilter::Live(now) => *now,
        _ => i64::MIN,
    };
    // `condition` is one of the constant fragments above, never input.
    let rows = sqlx::query_as::<_, ViewRow>(AssertSqlSafe(format!(
        "{SELECT_VIEW} WHERE s.environment_id = $1 AND s.user_id = $2 AND +s.expires_at > $3 \
         AND {condition} ORDER BY s.created_at DESC, s.id"
    )))
    .bind(environment_id)
    .bind(user_id)
    .bind(now)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Revokes one session; `None` if it does not exist in the
/// environment. Revoking a revoked session changes nothing.
pub(super) async fn revoke_session(
    conn: &mut Conn,
    environment_id: &str,
    session_id: &str,
    r: &Revocation,
) -> StoreResult<Option<(SessionView, bool)>> {
    let found: Option<(i64, bool)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT s.expires_at, {} {FROM_JOINED} WHERE s.id = $1 AND s.environment_id = $2{}",
        alive("$3"),
        lock_session!()
    )))
    .bind(session_id)
    .bind(environment_id)
    .bind(r.at)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    let Some((expires_at, was_alive)) = found else {
        return Ok(None);
    };
    let newly = sqlx::query(
        "UPDATE sessions SET revoked_at = $1, revoked_by_kind = $2, revoked_by_id = $3 \
         WHERE id = $4 AND revoked_at IS NULL",
    )
    .bind(r.at)
    .bind(&r.by_kind)
    .bind(&r.by_id)
    .bind(session_id)
    .execute(&mut *conn)
    .await
    .map_err(db)?
    .rows_affected()
        > 0;
    if was_alive {
        add_to_count(&mut *conn, environment_id, expires_at, -1).await?;
    }
    let view = sqlx::query_as::<_, ViewRow>(AssertSqlSafe(format!(
        "{SELECT_VIEW} WHERE s.id = $1 AND s.environment_id = $2"
    )))
    .bind(session_id)
    .bind(environment_id)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    let view: SessionView = view.into();
    // The feed hears of a session revoked now that could still be used.
    if newly && expires_at > r.at {
        let entry = LogEntry {
            kind: "session",
            subject_id: session_id,
            user_id: Some(&view.session.user_id),
            epoch: None,
            expires_at: Some(expires_at),
        };
        log_revocation(&mut *conn, environment_id, entry, r.at).await?;
    }
    Ok(Some((view, was_alive)))
}

pub(super) async fn revoked_unexpired(pool: &Pool, now_s: i64) -> StoreResult<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT id, expires_at / 1000 FROM sessions \
         WHERE revoked_at IS NOT NULL AND expires_at > $1",
    )
    .bind(now_s.saturating_mul(1000))
    .fetch_all(pool)
    .await
    .map_err(db)
}

/// A revocation of every session of a user, and its event (which
/// fans out into one per session).
pub(super) async fn revoke_user_recorded(
    conn: &mut Conn,
    environment_id: &str,
    user_id: &str,
    r: &Revocation,
    event: &EventRecord,
) -> StoreResult<(u64, i64)> {
    let (count, epoch) = revoke_user(&mut *conn, environment_id, user_id, r).await?;
    let entry = LogEntry {
        kind: "user",
        subject_id: user_id,
        user_id: Some(user_id),
        epoch: Some(epoch),
        expires_at: None,
    };
    log_revocation(&mut *conn, environment_id, entry, r.at).await?;
    let environment_epoch: i64 =
        sqlx::query_scalar("SELECT sessions_epoch FROM environments WHERE id = $1")
            .bind(environment_id)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
    let mut scope = fanout_scope(environment_id, Some(user_id), epoch, r, count);
    scope.environment_epoch = Some(environment_epoch);
    insert_event(conn, &event.with_fanout(&scope)).await?;
    Ok((count, epoch))
}

/// A revocation of every session of an environment, and its event.
pub(super) async fn revoke_environment_recorded(
    conn: &mut Conn,
    environment_id: &str,
    r: &Revocation,
    event: &EventRecord,
) -> StoreResult<(u64, i64)> {
    let (count, epoch) = revoke_environment(&mut *conn, environment_id, r).await?;
    let entry = LogEntry {
        kind: "environment",
        subject_id: environment_id,
        user_id: None,
        epoch: Some(epoch),
        expires_at: None,
    };
    log_revocation(&mut *conn, environment_id, entry, r.at).await?;
    let scope = fanout_scope(environment_id, None, epoch, r, count);
    insert_event(conn, &event.with_fanout(&scope)).await?;
    Ok((count, epoch))
}

/// One session's revocation, and its event when it revoked a
/// session that was alive.
pub(super) async fn revoke_session_recorded(
    conn: &mut Conn,
    environment_id: &str,
    session_id: &str,
    r: &Revocation,
    event: &EventRecord,
) -> StoreResult<Option<SessionView>> {
    let Some((view, was_alive)) = revoke_session(&mut *conn, environment_id, session_id, r).await?
    else {
        return Ok(None);
    };
    if was_alive {
        insert_event(conn, event).await?;
    }
    Ok(Some(view))
}

fn fanout_scope(
    environment_id: &str,
    user_id: Option<&str>,
    epoch: i64,
    r: &Revocation,
    revoked_count: u64,
) -> FanoutScope {
    FanoutScope {
        environment_id: environment_id.to_string(),
        user_id: user_id.map(str::to_string),
        epoch,
        at: r.at,
        revoked_count,
        environment_epoch: None,
        by_kind: r.by_kind.clone(),
        by_id: r.by_id.clone(),
    }
}
