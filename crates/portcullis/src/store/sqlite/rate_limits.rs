use async_trait::async_trait;

use super::SqliteDb;
use crate::domain::rate_limit::{Quota, admit};
use crate::store::{RateLimitStore, StoreResult};

#[async_trait]
impl RateLimitStore for SqliteDb {
    async fn hit(&self, key: &str, quota: Quota, now_ms: i64) -> StoreResult<Option<i64>> {
        let mut tats = self.rate_limits.lock().unwrap_or_else(|e| e.into_inner());
        match admit(tats.get(key).copied(), now_ms, quota) {
            Ok(tat) => {
                tats.insert(key.to_string(), tat);
                Ok(None)
            }
            Err(wait_ms) => Ok(Some(wait_ms)),
        }
    }

    async fn give_back(&self, key: &str, quota: Quota) -> StoreResult<()> {
        let mut tats = self.rate_limits.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tat) = tats.get_mut(key) {
            *tat -= quota.interval_ms();
        }
        Ok(())
    }

    async fn forget_idle(&self, now_ms: i64) -> StoreResult<()> {
        let mut tats = self.rate_limits.lock().unwrap_or_else(|e| e.into_inner());
        tats.retain(|_, tat| *tat > now_ms);
        Ok(())
    }
}
