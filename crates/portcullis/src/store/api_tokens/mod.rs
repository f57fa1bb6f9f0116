//! API tokens of an organization.

use crate::domain::roles::Role;
use crate::store::{EventRecord, StoreResult};
use async_trait::async_trait;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiTokenRecord {
    pub id: String,
    pub organization_id: String,
    pub environment_id: Option<String>,
    /// Read through `Role::try_from`.
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub note: String,
    pub token_hash: Vec<u8>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// After a rotation: the hash of the secret before, which works until
    /// `previous_expires_at`.
    pub previous_hash: Option<Vec<u8>>,
    pub previous_expires_at: Option<i64>,
    pub rotated_at: Option<i64>,
}

/// API tokens. A token's changes write their events (one per environment
/// the token reaches) in their own transaction.
#[async_trait]
pub trait ApiTokenStore: Send + Sync {
    /// The token whose current or previous secret has this hash, revoked or not.
    async fn find_by_hash(&self, token_hash: &[u8]) -> StoreResult<Option<ApiTokenRecord>>;
    async fn insert(&self, token: &ApiTokenRecord, events: &[EventRecord]) -> StoreResult<()>;
    async fn touch(&self, token_id: &str, at: i64) -> StoreResult<()>;
    /// The organization's tokens that are not revoked, oldest first; only
    /// those limited to `environment_id` when it is given.
    async fn list(
        &self,
        organization_id: &str,
        environment_id: Option<&str>,
    ) -> StoreResult<Vec<ApiTokenRecord>>;
    /// A token that is not revoked.
    async fn get(
        &self,
        organization_id: &str,
        token_id: &str,
    ) -> StoreResult<Option<ApiTokenRecord>>;
    /// Revokes a token; `false` when there is no such token (or it was
    /// revoked already).
    async fn revoke(
        &self,
        organization_id: &str,
        token_id: &str,
        at: i64,
        events: &[EventRecord],
    ) -> StoreResult<bool>;
    /// Replaces the secret; the current one becomes the previous one, good
    /// until `previous_expires_at`, and the one before stops. The token's
    /// expiry becomes `expires_at`. `false` when there is no such token.
    async fn rotate(
        &self,
        organization_id: &str,
        token_id: &str,
        rotation: &TokenRotation,
        events: &[EventRecord],
    ) -> StoreResult<bool>;
}

/// A token's new secret and what changes with it.
#[derive(Debug, Clone)]
pub struct TokenRotation {
    pub new_hash: Vec<u8>,
    /// Until when the replaced secret keeps working (Unix ms).
    pub previous_expires_at: i64,
    /// The token's expiry from now on (`None`: never).
    pub expires_at: Option<i64>,
    pub at: i64,
}
