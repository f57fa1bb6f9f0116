use async_trait::async_trait;
use sqlx::AssertSqlSafe;

use super::{SqliteDb, db};
use crate::store::{StoreError, StoreResult, UserQuery, UserRecord, UserStore, Watermark};

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
        let user = sqlx::query_as::<_, UserRecord>("SELECT * FROM users WHERE environment_id = $1 AND email = $2")
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

    async fn revoke_sessions(&self, environment_id: &str, user_id: &str, w: &Watermark) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let count: i64 = sqlx::query_scalar(AssertSqlSafe(format!("{} AND s.user_id = $4", super::environments::COUNT_NEWLY_REVOKED)))
            .bind(environment_id)
            .bind(w.revocation.at)
            .bind(w.before)
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let updated = sqlx::query(
            "UPDATE users SET sessions_revoked_before = MAX(COALESCE(sessions_revoked_before, 0), $1), \
             sessions_revoked_at = $2, sessions_revoked_by_kind = $3, sessions_revoked_by_id = $4 \
             WHERE id = $5 AND environment_id = $6",
        )
        .bind(w.before)
        .bind(w.revocation.at)
        .bind(&w.revocation.by_kind)
        .bind(&w.revocation.by_id)
        .bind(user_id)
        .bind(environment_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(db)?;
        Ok(count.max(0) as u64)
    }

    async fn watermarks(&self) -> StoreResult<Vec<(String, i64)>> {
        sqlx::query_as("SELECT id, sessions_revoked_before FROM users WHERE sessions_revoked_before IS NOT NULL")
            .fetch_all(&self.pool)
            .await
            .map_err(db)
    }
}
