//! Shared counters: one row per key holding its TAT, updated with the rule
//! of `domain::rate_limit::admit` in one statement, so that nodes hitting
//! the same key take turns on its row and adding nodes adds no tries.

use async_trait::async_trait;

use super::{PgDb, db};
use crate::domain::rate_limit::Quota;
use crate::store::{RateLimitStore, StoreResult};

#[async_trait]
impl RateLimitStore for PgDb {
    async fn hit(&self, key: &str, quota: Quota, now_ms: i64) -> StoreResult<Option<i64>> {
        // Allowed: TAT' = max(TAT, now) + interval, if TAT' - now <= tolerance.
        let admitted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO rate_limits AS r (key, tat) VALUES ($1, $2 + $3) \
             ON CONFLICT (key) DO UPDATE SET tat = GREATEST(r.tat, $2) + $3 \
             WHERE GREATEST(r.tat, $2) + $3 - $2 <= $4 \
             RETURNING tat",
        )
        .bind(key)
        .bind(now_ms)
        .bind(quota.interval_ms())
        .bind(quota.tolerance_ms())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        if admitted.is_some() {
            return Ok(None);
        }
        // Another node may have forgotten the key in between: wait one
        // interval then.
        let tat: i64 = sqlx::query_scalar("SELECT tat FROM rate_limits WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .unwrap_or(now_ms + quota.tolerance_ms());
        Ok(Some(
            (tat.max(now_ms) + quota.interval_ms() - now_ms - quota.tolerance_ms()).max(1),
        ))
    }

    async fn give_back(&self, key: &str, quota: Quota) -> StoreResult<()> {
        sqlx::query("UPDATE rate_limits SET tat = tat - $2 WHERE key = $1")
            .bind(key)
            .bind(quota.interval_ms())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn forget_idle(&self, now_ms: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM rate_limits WHERE tat <= $1")
            .bind(now_ms)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }
}
