//! Liveness of the database, and its `meta` key-value pairs.

use crate::store::StoreResult;
use async_trait::async_trait;

#[async_trait]
pub trait HealthStore: Send + Sync {
    async fn ping(&self) -> StoreResult<()>;
    async fn get_meta(&self, key: &str) -> StoreResult<Option<String>>;
    /// Sets the value unless one exists; returns the value now stored.
    async fn init_meta(&self, key: &str, value: &str) -> StoreResult<String>;
}
