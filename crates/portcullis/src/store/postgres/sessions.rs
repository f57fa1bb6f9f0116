use async_trait::async_trait;
use sqlx::{AssertSqlSafe, FromRow, Row};

use super::{PgDb, add_to_count, db, notify};
use crate::store::sql::{FROM_JOINED, MINUTE_MS, REVOKED, SELECT_VIEW, ViewRow, alive};
use crate::store::{
    Change, Revocation, SessionFilter, SessionRecord, SessionStore, SessionView, StoreError,
    StoreResult, UserRecord,
};

#[async_trait]
impl SessionStore for PgDb {
    async fn insert_for_email_user(
        &self,
        user: &UserRecord,
        session: &SessionRecord,
    ) -> StoreResult<(UserRecord, SessionRecord)> {
        // One statement: the upsert and the insert are data-modifying CTEs.
        // The no-op update makes RETURNING yield an existing user too.
        let row = sqlx::query(
            "WITH u AS ( \
                 INSERT INTO users (id, environment_id, email, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (environment_id, email) DO UPDATE SET email = excluded.email RETURNING *), \
             s AS ( \
                 INSERT INTO sessions (id, environment_id, user_id, iat, env_epoch, user_epoch, \
                     created_at, expires_at, ip_address, user_agent, amr, scope) \
                 SELECT $5, u.environment_id, u.id, $6, GREATEST($7, e.sessions_epoch), u.sessions_epoch, \
                     $8, $9, $10, $11, $12, $13 \
                 FROM u JOIN environments e ON e.id = u.environment_id \
                 RETURNING env_epoch, user_epoch) \
             SELECT u.*, s.env_epoch AS session_env_epoch, s.user_epoch AS session_user_epoch FROM u, s",
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
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .ok_or_else(|| StoreError::Database("sign-in inserted no session".into()))?;
        let user = UserRecord::from_row(&row).map_err(db)?;
        let mut session = session.clone();
        session.user_id = user.id.clone();
        session.env_epoch = row.try_get("session_env_epoch").map_err(db)?;
        session.user_epoch = row.try_get("session_user_epoch").map_err(db)?;
        Ok((user, session))
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
        let mut tx = self.pool.begin().await.map_err(db)?;
        let found: Option<(i64, bool)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT s.expires_at, {} {FROM_JOINED} WHERE s.id = $1 AND s.environment_id = $2 FOR UPDATE OF s",
            alive("$3")
        )))
        .bind(session_id)
        .bind(environment_id)
        .bind(r.at)
        .fetch_optional(&mut *tx)
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
        .bind(session_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if was_alive {
            add_to_count(&mut tx, environment_id, expires_at, -1).await?;
        }
        notify(
            &mut tx,
            &Change::SessionRevoked {
                session_id: session_id.to_string(),
                exp: expires_at / 1000,
            },
        )
        .await?;
        let view = sqlx::query_as::<_, ViewRow>(AssertSqlSafe(format!(
            "{SELECT_VIEW} WHERE s.id = $1 AND s.environment_id = $2"
        )))
        .bind(session_id)
        .bind(environment_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(Some(view.into()))
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
        let (ids, ats): (Vec<String>, Vec<i64>) = activity.iter().cloned().unzip();
        sqlx::query(
            "UPDATE sessions SET last_active_at = GREATEST(COALESCE(last_active_at, 0), a.at) \
             FROM UNNEST($1::TEXT[], $2::BIGINT[]) AS a(id, at) WHERE sessions.id = a.id",
        )
        .bind(&ids)
        .bind(&ats)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn prune_expired(&self, now_ms: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM session_counts WHERE expires_minute < $1")
            .bind(now_ms.div_euclid(MINUTE_MS))
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }
}
