//! The wrong-code counter of a user, shared by every code they can give
//! (TOTP, recovery codes, passkey assertions do not count): past
//! `MAX_CODE_FAILURES` in a window the user is locked out for the rest of
//! it, each locked window twice as long as the one before.

use std::sync::Arc;

use crate::clock::{Clock, to_millis};
use crate::domain::mfa::{FAILURE_WINDOW_MS, LONGEST_FAILURE_WINDOW_MS, MAX_CODE_FAILURES};
use crate::services::{ServiceError, ServiceResult};
use crate::store::{CodeAttempt, MfaStore};

pub struct CodeAttempts {
    clock: Arc<dyn Clock>,
    store: Arc<dyn MfaStore>,
}

impl CodeAttempts {
    pub fn new(clock: Arc<dyn Clock>, store: Arc<dyn MfaStore>) -> Self {
        CodeAttempts { clock, store }
    }

    /// Counts one attempt; `RateLimited` while the user is locked out.
    pub async fn spend(&self, user_id: &str) -> ServiceResult<()> {
        let now = to_millis(self.clock.now());
        match self
            .store
            .spend_code_attempt(
                user_id,
                now,
                FAILURE_WINDOW_MS,
                MAX_CODE_FAILURES,
                LONGEST_FAILURE_WINDOW_MS,
            )
            .await?
        {
            CodeAttempt::Allowed => Ok(()),
            CodeAttempt::LockedUntil(until) => Err(ServiceError::RateLimited {
                retry_after_secs: u64::try_from((until - now).max(1000) / 1000).unwrap_or(1),
            }),
        }
    }

    /// A right code: the counter starts again.
    pub async fn clear(&self, user_id: &str) -> ServiceResult<()> {
        Ok(self.store.clear_code_attempts(user_id).await?)
    }
}
