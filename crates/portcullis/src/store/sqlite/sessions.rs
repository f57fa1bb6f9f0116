use async_trait::async_trait;
use sqlx::{AssertSqlSafe, FromRow, Row};

use super::session_counts;
use super::{SqliteDb, db};
use crate::store::sql::{FROM_JOINED, MINUTE_MS, REVOKED, SELECT_VIEW, ViewRow, alive};
use crate::store::{
    Revocation, SessionFilter, SessionRecord, SessionStore, SessionView, StoreError, StoreResult,
    UserRecord,
};

#[async_trait]
impl SessionStore for SqliteDb {
    async fn insert_for_email_user(
        &self,
        user: &UserRecord,
        session: &SessionRecord,
    ) -> StoreResult<(UserRecord, SessionRecord)> {
        let (user, mut session) = (user.clone(), session.clone());
        // Two statements, one round trip (sqlx runs a multi-statement query
        // and numbers its parameters across all of it): the upsert returns
        // the user, the insert the epochs it read. The no-op update makes
        // RETURNING yield an existing user too. Without a savepoint, a
        // failed second statement leaves a user without a session, which
        // is harmless.
        self.writer
            .statement(move |c| {
                Box::pin(async move {
                    let rows = sqlx::query(
                        "INSERT INTO users (id, environment_id, email, created_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (environment_id, email) DO UPDATE SET email = excluded.email RETURNING *; \
                         INSERT INTO sessions (id, environment_id, user_id, iat, env_epoch, user_epoch, \
                             created_at, expires_at, ip_address, user_agent, amr, scope) \
                         SELECT $5, u.environment_id, u.id, $6, MAX($7, e.sessions_epoch), u.sessions_epoch, \
                             $8, $9, $10, $11, $12, $13 \
                         FROM users u JOIN environments e ON e.id = u.environment_id \
                         WHERE u.environment_id = $2 AND u.email = $3 \
                         RETURNING user_id, env_epoch, user_epoch",
                    )
                    .bind(&user.id)
                    .bind(&user.environment_id)
                    .bind(&user.email)
                    .bind(user.created_at)
                    .bind(&session.id)
                    .bind(session.iat)
                    .bind(session.env_epoch)
                    .bind(session.created_at)
                    .bind(session.expires_at)
                    .bind(&session.ip_address)
                    .bind(&session.user_agent)
                    .bind(&session.amr)
                    .bind(&session.scope)
                    .fetch_all(&mut *c)
                    .await
                    .map_err(db)?;
                    let [user_row, session_row] = rows.as_slice() else {
                        return Err(StoreError::Database(format!(
                            "sign-in returned {} rows, not 2",
                            rows.len()
                        )));
                    };
                    let user = UserRecord::from_row(user_row).map_err(db)?;
                    session.user_id = session_row.try_get(0).map_err(db)?;
                    session.env_epoch = session_row.try_get(1).map_err(db)?;
                    session.user_epoch = session_row.try_get(2).map_err(db)?;
                    Ok((user, session))
                })
            })
            .await
    }

    async fn get(
        &self,
        environment_id: &str,
        session_id: &str,
    ) -> StoreResult<Option<SessionView>> {
        let row = sqlx::query_as::<_, ViewRow>(AssertSqlSafe(format!(
            "{SELECT_VIEW} WHERE s.id = $1 AND s.environment_id = $2"
        )))
        .bind(session_id)
        .bind(environment_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        Ok(row.map(Into::into))
    }

    async fn list_for_user(
        &self,
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
            "{SELECT_VIEW} WHERE s.environment_id = $1 AND s.user_id = $2 AND s.expires_at > $3 AND {condition} \
             ORDER BY s.created_at DESC, s.id"
        )))
        .bind(environment_id)
        .bind(user_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn revoke(
        &self,
        environment_id: &str,
        session_id: &str,
        r: &Revocation,
    ) -> StoreResult<Option<SessionView>> {
        let environment_id = environment_id.to_string();
        let session_id = session_id.to_string();
        let r = r.clone();
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    let found: Option<(i64, bool)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT s.expires_at, {} {FROM_JOINED} WHERE s.id = $1 AND s.environment_id = $2",
            alive("$3")
        )))
        .bind(&session_id)
        .bind(&environment_id)
        .bind(r.at)
        .fetch_optional(&mut *c)
        .await
        .map_err(db)?;
                    let Some((expires_at, was_alive)) = found else {
                        return Ok(None);
                    };
                    sqlx::query(
            "UPDATE sessions SET revoked_at = $1, revoked_by_kind = $2, revoked_by_id = $3 \
             WHERE id = $4 AND revoked_at IS NULL",
        )
        .bind(r.at)
        .bind(&r.by_kind)
        .bind(&r.by_id)
        .bind(&session_id)
        .execute(&mut *c)
        .await
        .map_err(db)?;
                    if was_alive {
                        session_counts::add(&mut *c, &environment_id, expires_at, -1).await?;
                    }
                    let view = sqlx::query_as::<_, ViewRow>(AssertSqlSafe(format!(
                        "{SELECT_VIEW} WHERE s.id = $1 AND s.environment_id = $2"
                    )))
                    .bind(&session_id)
                    .bind(&environment_id)
                    .fetch_one(&mut *c)
                    .await
                    .map_err(db)?;
                    Ok(Some(view.into()))
                })
            })
            .await
    }

    async fn revoked_unexpired(&self, now_s: i64) -> StoreResult<Vec<(String, i64)>> {
        sqlx::query_as(
            "SELECT id, expires_at / 1000 FROM sessions WHERE revoked_at IS NOT NULL AND expires_at > $1",
        )
        .bind(now_s.saturating_mul(1000))
        .fetch_all(&self.pool)
        .await
        .map_err(db)
    }

    async fn record_activity(&self, activity: &[(String, i64)]) -> StoreResult<()> {
        if activity.is_empty() {
            return Ok(());
        }
        let activity = activity.to_vec();
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
        for (id, at) in &activity {
            sqlx::query("UPDATE sessions SET last_active_at = MAX(COALESCE(last_active_at, 0), $1) WHERE id = $2")
                .bind(at)
                .bind(id)
                .execute(&mut *c)
                .await
                .map_err(db)?;
        }
        Ok(())
                })
            })
            .await
    }

    async fn prune_expired(&self, now_ms: i64) -> StoreResult<()> {
        self.writer
            .statement(move |c| {
                Box::pin(async move {
                    sqlx::query("DELETE FROM session_counts WHERE expires_minute < $1")
                        .bind(now_ms.div_euclid(MINUTE_MS))
                        .execute(&mut *c)
                        .await
                        .map_err(db)?;
                    Ok(())
                })
            })
            .await
    }
}
