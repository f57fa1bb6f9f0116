//! The origins allowed to call an environment's SDK API.

use crate::store::{EventRecord, StoreResult};
use async_trait::async_trait;

/// An origin allowed to call an environment's SDK API, in normal form.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OriginRecord {
    pub id: String,
    pub environment_id: String,
    pub origin: String,
    pub created_at: i64,
}

/// An environment's allowed origins. Every change tells the other nodes
/// (`Change::EnvironmentChanged`) in its own transaction.
#[async_trait]
pub trait OriginStore: Send + Sync {
    /// In the order they were added.
    async fn list(&self, environment_id: &str) -> StoreResult<Vec<OriginRecord>>;
    /// Adds an origin; `false` (and nothing added) when the environment
    /// lists `limit` already, `Conflict` when it lists this one.
    async fn add(
        &self,
        origin: &OriginRecord,
        limit: i64,
        event: &EventRecord,
    ) -> StoreResult<bool>;
    /// `false` when the environment has no such origin.
    async fn delete(
        &self,
        environment_id: &str,
        origin_id: &str,
        event: &EventRecord,
    ) -> StoreResult<bool>;
}
