use async_trait::async_trait;
use sqlx::AssertSqlSafe;

use super::session_counts::{self, FROM_JOINED, MINUTE_MS, alive};
use super::{SqliteDb, db};
use crate::domain::revocation::next_watermark;
use crate::store::{Revocation, StoreError, StoreResult, UserQuery, UserRecord, UserStore};

#[async_trait]
impl UserStore for SqliteDb {
    async fn find_or_create_by_email(&self, c: &UserRecord) -> StoreResult<(UserRecord, bool)> {
        let inserted = sqlx::query(
            "INSERT INTO users (id, environment_id, email, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (environment_id, email) DO NOTHING",
        )
        .bind(&c.id)
        .bind(&c.environment_id)
        .bind(&c.email)
        .bind(c.created_at)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        let user = sqlx::query_as::<_, UserRecord>(
            "SELECT * FROM users WHERE environment_id = $1 AND email = $2",
        )
        .bind(&c.environment_id)
        .bind(&c.email)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        Ok((user, inserted.rows_affected() == 1))
    }

    async fn get(&self, environment_id: &str, user_id: &str) -> StoreResult<Option<UserRecord>> {
        sqlx::query_as::<_, UserRecord>("SELECT * FROM users WHERE id = $1 AND environment_id = $2")
            .bind(user_id)
            .bind(environment_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)
    }

    async fn list(&self, environment_id: &str, q: &UserQuery) -> StoreResult<Vec<UserRecord>> {
        sqlx::query_as::<_, UserRecord>(
            "SELECT * FROM users WHERE environment_id = $1 AND ($2 IS NULL OR email = $2) \
             AND ($3 IS NULL OR id > $3) ORDER BY id LIMIT $4",
        )
        .bind(environment_id)
        .bind(&q.email)
        .bind(&q.after)
        .bind(i64::from(q.limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)
    }

    async fn revoke_sessions(
        &self,
        environment_id: &str,
        user_id: &str,
        r: &Revocation,
        now_s: i64,
    ) -> StoreResult<(u64, i64)> {
        let mut tx = self.write().await?;
        let highest: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT u.sessions_revoked_before, e.sessions_revoked_before FROM users u \
             JOIN environments e ON e.id = u.environment_id WHERE u.id = $1 AND u.environment_id = $2",
        )
        .bind(user_id)
        .bind(environment_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let (user_w, env_w) = highest.ok_or(StoreError::NotFound)?;
        let watermark = next_watermark(now_s, user_w.max(env_w));
        let by_minute: Vec<(i64, i64)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT s.expires_at / {MINUTE_MS}, COUNT(*) {FROM_JOINED} \
             WHERE s.environment_id = $1 AND s.user_id = $2 AND s.iat < $3 AND {} \
             GROUP BY s.expires_at / {MINUTE_MS}",
            alive("$4")
        )))
        .bind(environment_id)
        .bind(user_id)
        .bind(watermark)
        .bind(r.at)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        for (minute, count) in &by_minute {
            session_counts::add(&mut tx, environment_id, minute * MINUTE_MS, -count).await?;
        }
        sqlx::query(
            "UPDATE users SET sessions_revoked_before = $1, sessions_revoked_at = $2, \
             sessions_revoked_by_kind = $3, sessions_revoked_by_id = $4 WHERE id = $5 AND environment_id = $6",
        )
        .bind(watermark)
        .bind(r.at)
        .bind(&r.by_kind)
        .bind(&r.by_id)
        .bind(user_id)
        .bind(environment_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        let revoked: i64 = by_minute.iter().map(|(_, c)| c).sum();
        Ok((revoked.max(0) as u64, watermark))
    }

    async fn watermarks(&self) -> StoreResult<Vec<(String, i64)>> {
        sqlx::query_as("SELECT id, sessions_revoked_before FROM users WHERE sessions_revoked_before IS NOT NULL")
            .fetch_all(&self.pool)
            .await
            .map_err(db)
    }
}
