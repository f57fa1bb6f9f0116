//! Rate-limit counters.

use crate::domain::rate_limit::Quota;
use crate::store::StoreResult;
use async_trait::async_trait;

/// Rate-limit counters (`domain::rate_limit`), where every node sees them.
#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// One event for `key` at `now_ms` under `quota`: `None` if allowed,
    /// else how many ms to wait.
    async fn hit(&self, key: &str, quota: Quota, now_ms: i64) -> StoreResult<Option<i64>>;
    /// Undoes one allowed `hit` of `key` under `quota`.
    async fn give_back(&self, key: &str, quota: Quota) -> StoreResult<()>;
    /// Forgets keys whose limits have fully recovered.
    async fn forget_idle(&self, now_ms: i64) -> StoreResult<()>;
}
