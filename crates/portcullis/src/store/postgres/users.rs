use async_trait::async_trait;
use sqlx::AssertSqlSafe;

use super::{PgDb, add_to_count, db, notify};
use crate::store::sql::{FROM_JOINED, MINUTE_MS, alive};
use crate::store::{Change, Revocation, StoreError, StoreResult, UserQuery, UserRecord, UserStore};

#[async_trait]
impl UserStore for PgDb {
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
            "SELECT * FROM users WHERE environment_id = $1 AND ($2::TEXT IS NULL OR email = $2) \
             AND ($3::TEXT IS NULL OR id > $3) ORDER BY id LIMIT $4",
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
    ) -> StoreResult<(u64, i64)> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let current: Option<i64> = sqlx::query_scalar(
            "SELECT sessions_epoch FROM users WHERE id = $1 AND environment_id = $2 FOR UPDATE",
        )
        .bind(user_id)
        .bind(environment_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let epoch = current.ok_or(StoreError::NotFound)? + 1;
        let by_minute: Vec<(i64, i64)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT s.expires_at / {MINUTE_MS}, COUNT(*) {FROM_JOINED} \
             WHERE s.environment_id = $1 AND s.user_id = $2 AND s.user_epoch < $3 AND {} \
             GROUP BY s.expires_at / {MINUTE_MS}",
            alive("$4")
        )))
        .bind(environment_id)
        .bind(user_id)
        .bind(epoch)
        .bind(r.at)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        for (minute, count) in &by_minute {
            add_to_count(&mut tx, environment_id, minute * MINUTE_MS, -count).await?;
        }
        sqlx::query(
            "UPDATE users SET sessions_epoch = $1, sessions_revoked_at = $2, \
             sessions_revoked_by_kind = $3, sessions_revoked_by_id = $4 WHERE id = $5 AND environment_id = $6",
        )
        .bind(epoch)
        .bind(r.at)
        .bind(&r.by_kind)
        .bind(&r.by_id)
        .bind(user_id)
        .bind(environment_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        notify(
            &mut tx,
            &Change::UserRevoked {
                user_id: user_id.to_string(),
                epoch,
                at_s: r.at.div_euclid(1000),
            },
        )
        .await?;
        tx.commit().await.map_err(db)?;
        let revoked: i64 = by_minute.iter().map(|(_, c)| c).sum();
        Ok((revoked.max(0) as u64, epoch))
    }

    async fn epochs(&self) -> StoreResult<Vec<(String, i64, i64)>> {
        sqlx::query_as(
            "SELECT id, sessions_epoch, COALESCE(sessions_revoked_at, 0) FROM users WHERE sessions_epoch > 0",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)
    }
}
