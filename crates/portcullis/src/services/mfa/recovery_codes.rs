//! Recovery codes: ten single-use codes that stand in for a device, made
//! with the user's first device and on request; stored as MACs only.

use std::sync::Arc;

use secrecy::SecretString;

use super::attempts::CodeAttempts;
use super::elevation::Elevation;
use super::{RecoveryCodes, usable};
use crate::clock::{Clock, to_millis};
use crate::crypto::{self, MasterKey};
use crate::domain::claims::SessionClaims;
use crate::domain::mfa::{self, RECOVERY_CODE_COUNT};
use crate::domain::validation::ValidationErrors;
use crate::services::environments::EnvironmentRuntime;
use crate::services::{ServiceError, ServiceResult, new_id};
use crate::store::MfaStore;

const RECOVERY_MAC_PURPOSE: &str = "portcullis/recovery-code/v1";

pub struct Recovery {
    clock: Arc<dyn Clock>,
    master_key: MasterKey,
    store: Arc<dyn MfaStore>,
    elevation: Arc<Elevation>,
    attempts: Arc<CodeAttempts>,
}

impl Recovery {
    pub fn new(
        clock: Arc<dyn Clock>,
        master_key: MasterKey,
        store: Arc<dyn MfaStore>,
        elevation: Arc<Elevation>,
        attempts: Arc<CodeAttempts>,
    ) -> Self {
        Recovery {
            clock,
            master_key,
            store,
            elevation,
            attempts,
        }
    }

    /// New recovery codes for the caller (`credential:link`); the unused
    /// old ones die.
    pub async fn regenerate(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        elevated_token: Option<&str>,
    ) -> ServiceResult<RecoveryCodes> {
        if !env.settings.mfa.recovery_codes {
            return Err(ServiceError::Forbidden);
        }
        let devices = self.store.devices(env.id(), &claims.sub).await?;
        if usable(&env.settings.mfa, &devices).next().is_none() {
            return Err(ServiceError::Conflict(
                "recovery codes need an enrolled device".into(),
            ));
        }
        self.elevation
            .require(env, claims, "credential:link", elevated_token)
            .await?;
        Ok(RecoveryCodes {
            recovery_codes: self.new_codes(env.id(), &claims.sub).await?,
        })
    }

    /// Checks a recovery code of the caller and uses it up; counts a wrong
    /// one (the caller clears the counter once the factor is proved).
    pub async fn prove(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        code: &str,
    ) -> ServiceResult<()> {
        let settings = &env.settings.mfa;
        let code = mfa::normalize_recovery_code(code)
            .ok_or_else(|| ValidationErrors::single("recovery_code", "is not a recovery code"))?;
        if !settings.recovery_codes {
            return Err(ServiceError::InvalidCode);
        }
        self.attempts.spend(&claims.sub).await?;
        // Recovery codes stand in for a device: with none left (all
        // removed), they prove nothing.
        let devices = self.store.devices(env.id(), &claims.sub).await?;
        if usable(settings, &devices).next().is_none() {
            return Err(ServiceError::InvalidCode);
        }
        let mac = self.recovery_mac(&claims.sub, &code);
        let unused = self
            .store
            .unused_recovery_codes(env.id(), &claims.sub)
            .await?;
        let found = unused
            .iter()
            .fold(None, |found, c| {
                if crypto::constant_time_eq(&c.code_mac, &mac) {
                    Some(c)
                } else {
                    found
                }
            })
            .ok_or(ServiceError::InvalidCode)?;
        let now = to_millis(self.clock.now());
        if !self.store.use_recovery_code(&found.id, now).await? {
            return Err(ServiceError::InvalidCode);
        }
        Ok(())
    }

    fn recovery_mac(&self, user_id: &str, normalized_code: &str) -> Vec<u8> {
        self.master_key.mac(
            RECOVERY_MAC_PURPOSE,
            format!("{user_id}:{normalized_code}").as_bytes(),
        )
    }

    pub async fn new_codes(
        &self,
        environment_id: &str,
        user_id: &str,
    ) -> ServiceResult<Vec<SecretString>> {
        let mut shown = Vec::with_capacity(RECOVERY_CODE_COUNT);
        let mut stored = Vec::with_capacity(RECOVERY_CODE_COUNT);
        for _ in 0..RECOVERY_CODE_COUNT {
            let code = mfa::recovery_code_from(&crypto::random_bytes::<20>()?);
            let normalized = mfa::normalize_recovery_code(&code)
                .ok_or_else(|| ServiceError::internal("a malformed recovery code"))?;
            stored.push((
                new_id(self.clock.as_ref(), "rc")?,
                self.recovery_mac(user_id, &normalized),
            ));
            shown.push(code.into());
        }
        let now = to_millis(self.clock.now());
        self.store
            .replace_recovery_codes(environment_id, user_id, &stored, now)
            .await?;
        Ok(shown)
    }
}
