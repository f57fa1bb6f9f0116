//! Elevated tokens at the point of use: an action the environment
//! enforces MFA for (`mfa.action_enforcement`) goes through only with an
//! elevated token of the same session and scope, which it spends.

use std::sync::Arc;

use super::usable;
use crate::domain::claims::SessionClaims;
use crate::services::environments::EnvironmentRuntime;
use crate::services::sessions::Sessions;
use crate::services::{ServiceError, ServiceResult};
use crate::store::{MfaDeviceRecord, MfaStore};

pub struct Elevation {
    store: Arc<dyn MfaStore>,
    sessions: Arc<Sessions>,
}

impl Elevation {
    pub fn new(store: Arc<dyn MfaStore>, sessions: Arc<Sessions>) -> Self {
        Elevation { store, sessions }
    }

    /// Lets `scope` through for this session: when the environment enforces
    /// MFA for it, only with an elevated token of this session and scope,
    /// which is spent here.
    pub async fn require(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        scope: &str,
        elevated_token: Option<&str>,
    ) -> ServiceResult<()> {
        let enforcement = &env.settings.mfa.action_enforcement;
        if !enforcement.enabled || !enforcement.scopes.iter().any(|s| s == scope) {
            return Ok(());
        }
        let token = elevated_token.ok_or(ServiceError::ElevatedTokenRequired)?;
        let elevated = self
            .sessions
            .check_elevated_token(env, token)
            .map_err(|e| match e {
                ServiceError::Unavailable => ServiceError::Unavailable,
                _ => ServiceError::ElevatedTokenRequired,
            })?;
        if elevated.scope != scope || elevated.sid != claims.sid || elevated.sub != claims.sub {
            return Err(ServiceError::ElevatedTokenRequired);
        }
        self.spend(&elevated).await
    }

    /// Spends an elevated token; a second use is refused.
    pub async fn spend(&self, elevated: &SessionClaims) -> ServiceResult<()> {
        if self
            .store
            .spend_elevated_token(&elevated.jti, elevated.exp * 1000)
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::ElevatedTokenRequired)
        }
    }

    /// Linking another device to a user who has one is `credential:link`:
    /// with action enforcement on for it, it needs an elevated token, so a
    /// stolen session cannot add a factor of its own and step up with it.
    pub async fn require_for_link(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        devices: &[MfaDeviceRecord],
        elevated_token: Option<&str>,
    ) -> ServiceResult<()> {
        if usable(&env.settings.mfa, devices).next().is_none() {
            return Ok(());
        }
        self.require(env, claims, "credential:link", elevated_token)
            .await
    }
}
