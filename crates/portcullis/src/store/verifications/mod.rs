//! E-mail verification codes.

use crate::store::StoreResult;
use async_trait::async_trait;

/// The outcome of one attempt at a code.
#[derive(Debug, Clone)]
pub enum Attempt {
    /// No verification that still takes attempts: unknown, in another
    /// environment, expired, used, out of attempts, or superseded.
    Refused,
    /// An attempt was spent and the code did not match.
    Wrong(VerificationRecord),
    /// The code matched. The verification is used only by the sign-in
    /// that stores a session with it (`SessionStore::sign_in`).
    Matched(VerificationRecord),
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VerificationRecord {
    pub id: String,
    pub environment_id: String,
    pub channel: String,
    pub destination: String,
    pub code_mac: Vec<u8>,
    pub attempts: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
}

#[async_trait]
pub trait VerificationStore: Send + Sync {
    /// Saves a new verification. From then on earlier ones for the same
    /// destination in the environment refuse every attempt: only the newest
    /// code works.
    async fn insert(&self, verification: &VerificationRecord) -> StoreResult<()>;
    /// One attempt at a code, given as its MAC. Spends an attempt if the
    /// verification still allows one at `now` and is the newest for its
    /// destination, then compares the stored MAC in constant time. The
    /// attempt is spent before the comparison, so concurrent guesses cannot
    /// exceed the limit. A match does not use the verification up: the
    /// sign-in that stores its session does, so of two concurrent right
    /// answers only one gets a session.
    async fn attempt(
        &self,
        environment_id: &str,
        verification_id: &str,
        max_attempts: i64,
        now: i64,
        code_mac: &[u8],
    ) -> StoreResult<Attempt>;
    /// Deletes verifications that expired before `now_ms`.
    async fn prune_expired(&self, now_ms: i64) -> StoreResult<()>;
}
