//! The users of an environment.

use crate::store::{EventRecord, Revocation, StoreResult};
use async_trait::async_trait;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: String,
    pub environment_id: String,
    /// The user's primary credential of each kind (the one they signed up
    /// or first linked with; `verified_credentials` holds them all).
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub wallet: Option<String>,
    pub created_at: i64,
    pub sessions_epoch: i64,
    pub sessions_revoked_at: Option<i64>,
    pub sessions_revoked_by_kind: Option<String>,
    pub sessions_revoked_by_id: Option<String>,
}

/// A credential a user has proved (`verified_credentials`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CredentialRecord {
    pub id: String,
    pub environment_id: String,
    pub user_id: String,
    /// `email`, `phone`, `wallet` or `passkey` (`domain::credential`).
    pub kind: String,
    /// Normalized (`domain::credential`).
    pub value: String,
    /// A passkey's label.
    pub name: Option<String>,
    pub verified_at: i64,
    pub last_used_at: Option<i64>,
    pub created_at: i64,
}

/// The credential a sign-in proves: found by `(kind, value)` in the
/// environment, or stored with id `id` for a new user.
#[derive(Debug, Clone)]
pub struct CredentialKey {
    pub id: String,
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// The user holding this verified credential, `(kind, value)` (any of
    /// theirs, not only the primary).
    pub credential: Option<(String, String)>,
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
    /// The user's verified credentials, oldest first.
    async fn credentials(
        &self,
        environment_id: &str,
        user_id: &str,
    ) -> StoreResult<Vec<CredentialRecord>>;
    /// The verified credentials of the users whose ids lie in
    /// `first..=last` (a page of users: its first and last id), by user
    /// id, oldest first.
    async fn credentials_of_range(
        &self,
        environment_id: &str,
        first: &str,
        last: &str,
    ) -> StoreResult<Vec<CredentialRecord>>;
    /// Users whose epoch is above 0: `(id, epoch, when it was raised in ms)`.
    async fn epochs(&self) -> StoreResult<Vec<(String, i64, i64)>>;
}
