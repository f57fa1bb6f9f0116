//! Periodic work that one node at a time does.

use crate::store::StoreResult;
use async_trait::async_trait;

/// Periodic work on the shared database (pruning, later outbox delivery)
/// that one node at a time does. Every node asks; the one whose claim
/// commits first does the work, and a node that finds the job being
/// claimed by another passes over it (PostgreSQL `FOR UPDATE SKIP LOCKED`)
/// rather than waits.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Claims job `name` for `node` if it is due at `now_ms`: `true` if
    /// this caller got it; it is then not due before `now_ms + every_ms`.
    async fn claim(&self, name: &str, node: &str, now_ms: i64, every_ms: i64) -> StoreResult<bool>;
}
