//! Environments, their settings, lock and revocation epoch, and their
//! signing keys.

use crate::store::{EventRecord, Revocation, StoreResult};
use async_trait::async_trait;

use crate::domain::algorithm::TokenAlgorithm;
use crate::domain::settings::SecuritySettings;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EnvironmentRecord {
    pub id: String,
    pub project_id: String,
    pub organization_id: String,
    pub kind: String,
    /// Stored as JSON (`settings_json`), read through
    /// `SecuritySettings::try_from`: settings that do not parse are an
    /// error (`StoreError::Database`), not a panic.
    #[sqlx(rename = "settings_json", try_from = "String")]
    pub settings: SecuritySettings,
    pub locked: bool,
    pub sessions_epoch: i64,
    pub sessions_revoked_at: Option<i64>,
    pub sessions_revoked_by_kind: Option<String>,
    pub sessions_revoked_by_id: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub environment_id: String,
    /// Read through `TokenAlgorithm::try_from`: an unknown stored name is
    /// an error (`StoreError::Database`), not a panic.
    #[sqlx(try_from = "String")]
    pub algorithm: TokenAlgorithm,
    /// PKCS#8 DER, sealed with the master key (context: the kid).
    pub private_key_sealed: Vec<u8>,
    pub public_jwk: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

#[async_trait]
pub trait EnvironmentStore: Send + Sync {
    async fn get(&self, environment_id: &str) -> StoreResult<Option<EnvironmentRecord>>;
    /// Saves new settings, and when the algorithm changed, the new active key
    /// (older keys are retired at `now`, and stay published until they expire).
    async fn update_settings(
        &self,
        environment_id: &str,
        settings_json: &str,
        new_key: Option<&SigningKeyRecord>,
        now: i64,
        event: &EventRecord,
    ) -> StoreResult<()>;
    /// The active key first, then retired keys, newest first.
    async fn signing_keys(&self, environment_id: &str) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Raises the environment's revocation epoch by one. Returns how many
    /// sessions it revoked (alive and not revoked before) and the new epoch.
    /// Flat in the number of sessions.
    /// `event` is stored with its `data` set to the revocation's
    /// `FanoutScope`, and fans out into one event per session revoked.
    async fn revoke_all_sessions(
        &self,
        environment_id: &str,
        revocation: &Revocation,
        event: &EventRecord,
    ) -> StoreResult<(u64, i64)>;
    /// Environments whose epoch is above 0: `(id, epoch)`.
    async fn epochs(&self) -> StoreResult<Vec<(String, i64)>>;
    /// Locks or unlocks; `false` (and no event) when it was so already.
    async fn set_locked(
        &self,
        environment_id: &str,
        locked: bool,
        event: &EventRecord,
    ) -> StoreResult<bool>;
    /// Every environment's id and whether it is locked: a cheap poll that
    /// lets a node see a lock made by another process (the CLI).
    async fn lock_states(&self) -> StoreResult<Vec<(String, bool)>>;
    /// The organization's environments, oldest first.
    async fn in_organization(&self, organization_id: &str) -> StoreResult<Vec<EnvironmentRecord>>;
}
