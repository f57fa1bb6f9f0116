//! Second factors: MFA devices, recovery codes, the wrong-code counter,
//! spent elevated tokens and WebAuthn challenges.

use crate::store::{EventRecord, StoreResult};
use async_trait::async_trait;

/// A second factor of a user. TOTP devices hold their sealed secret
/// (context: the device id) and the last step a code proved.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MfaDeviceRecord {
    pub id: String,
    pub environment_id: String,
    pub user_id: String,
    pub kind: String,
    pub name: String,
    pub secret_sealed: Option<Vec<u8>>,
    /// A passkey: webauthn-rs's `Passkey` as JSON (public key and counter).
    pub credential: Option<String>,
    /// A passkey's credential id, base64url.
    pub credential_id: Option<String>,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub last_used_step: Option<i64>,
}

/// An unused recovery code: its id and its MAC.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecoveryCodeRecord {
    pub id: String,
    pub code_mac: Vec<u8>,
}

/// The answer to spending a code attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeAttempt {
    /// Counted; the code may be checked.
    Allowed,
    /// Too many wrong codes: locked until this instant (Unix ms).
    LockedUntil(i64),
}

/// The state of a WebAuthn ceremony, kept between its two requests.
#[derive(Debug, Clone)]
pub struct ChallengeRecord {
    pub id: String,
    pub environment_id: String,
    pub session_id: String,
    /// `register` or `assert`.
    pub purpose: String,
    pub state: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A user's second factors, recovery codes and wrong-code counter, and
/// spent elevated tokens.
#[async_trait]
pub trait MfaStore: Send + Sync {
    async fn devices(
        &self,
        environment_id: &str,
        user_id: &str,
    ) -> StoreResult<Vec<MfaDeviceRecord>>;
    /// A new unconfirmed device; an unconfirmed device of the same kind that
    /// the user left behind is replaced.
    /// `event` is stored with it (a passkey, confirmed at once).
    async fn insert_device(
        &self,
        device: &MfaDeviceRecord,
        event: Option<&EventRecord>,
    ) -> StoreResult<()>;
    /// Confirms a device at `step` (TOTP). False if it was not pending; a
    /// second confirmed TOTP device is a conflict.
    /// `event` is stored when this confirmed the device.
    async fn confirm_device(
        &self,
        device_id: &str,
        now_ms: i64,
        step: i64,
        event: &EventRecord,
    ) -> StoreResult<bool>;
    /// Records that a code proved `step`, if no code proved that step or a
    /// later one before (replay): false otherwise.
    async fn use_step(&self, device_id: &str, step: i64, now_ms: i64) -> StoreResult<bool>;
    /// Deletes one device; false if the user has no such device.
    /// `event` is stored when a device was deleted.
    async fn delete_device(
        &self,
        environment_id: &str,
        user_id: &str,
        device_id: &str,
        event: &EventRecord,
    ) -> StoreResult<bool>;
    /// Deletes every device and recovery code of the user; returns the
    /// number of devices. `event` is stored when there was any.
    async fn reset(
        &self,
        environment_id: &str,
        user_id: &str,
        event: &EventRecord,
    ) -> StoreResult<u64>;
    /// Replaces the user's recovery codes (used or not) with these MACs.
    async fn replace_recovery_codes(
        &self,
        environment_id: &str,
        user_id: &str,
        codes: &[(String, Vec<u8>)],
        now_ms: i64,
    ) -> StoreResult<()>;
    async fn unused_recovery_codes(
        &self,
        environment_id: &str,
        user_id: &str,
    ) -> StoreResult<Vec<RecoveryCodeRecord>>;
    /// Marks a recovery code used; false if it already was.
    async fn use_recovery_code(&self, code_id: &str, now_ms: i64) -> StoreResult<bool>;
    /// Counts one code attempt of the user, unless `max` were counted in
    /// the window that is still open: then the user is locked until its end.
    /// Each window that ends locked makes the next one twice as long, up
    /// to `longest_ms`; a right code (`clear_code_attempts`) starts over.
    async fn spend_code_attempt(
        &self,
        user_id: &str,
        now_ms: i64,
        window_ms: i64,
        max: i64,
        longest_ms: i64,
    ) -> StoreResult<CodeAttempt>;
    /// A right code: the counter starts again.
    async fn clear_code_attempts(&self, user_id: &str) -> StoreResult<()>;
    /// Spends an elevated token; false if it was spent before.
    async fn spend_elevated_token(&self, jti: &str, expires_at_ms: i64) -> StoreResult<bool>;
    /// Whether an elevated token was spent; reads only (introspection).
    async fn elevated_token_spent(&self, jti: &str) -> StoreResult<bool>;
    /// Forgets spent elevated tokens, and WebAuthn challenges, that have
    /// expired anyway.
    async fn prune_expired(&self, now_ms: i64) -> StoreResult<()>;
    async fn insert_challenge(&self, challenge: &ChallengeRecord) -> StoreResult<()>;
    /// Uses a challenge of this session and purpose that is unexpired and
    /// unused; its state, or `None`.
    async fn take_challenge(
        &self,
        environment_id: &str,
        challenge_id: &str,
        session_id: &str,
        purpose: &str,
        now_ms: i64,
    ) -> StoreResult<Option<String>>;
    /// A passkey's credential after an assertion (its counter moved).
    async fn update_credential(
        &self,
        device_id: &str,
        credential: &str,
        now_ms: i64,
    ) -> StoreResult<()>;
}
