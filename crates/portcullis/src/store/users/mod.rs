//! The users of an environment.

use crate::store::{EventRecord, Revocation, StoreResult};
use async_trait::async_trait;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: String,
    pub environment_id: String,
    pub email: Option<String>,
    pub created_at: i64,
    pub sessions_epoch: i64,
    pub sessions_revoked_at: Option<i64>,
    pub sessions_revoked_by_kind: Option<String>,
    pub sessions_revoked_by_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    pub email: Option<String>,
    /// Only users whose id sorts after this one (the page cursor).
    pub after: Option<String>,
    pub limit: u32,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    async fn get(&self, environment_id: &str, user_id: &str) -> StoreResult<Option<UserRecord>>;
    async fn list(&self, environment_id: &str, query: &UserQuery) -> StoreResult<Vec<UserRecord>>;
    /// Raises the user's revocation epoch by one; returns how many sessions
    /// it revoked and the new epoch.
    /// `event` as in `EnvironmentStore::revoke_all_sessions`.
    async fn revoke_sessions(
        &self,
        environment_id: &str,
        user_id: &str,
        revocation: &Revocation,
        event: &EventRecord,
    ) -> StoreResult<(u64, i64)>;
    /// Users whose epoch is above 0: `(id, epoch, when it was raised in ms)`.
    async fn epochs(&self) -> StoreResult<Vec<(String, i64, i64)>>;
}
