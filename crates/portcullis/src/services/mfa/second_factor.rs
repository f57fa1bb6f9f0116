//! A second factor given by the caller (a TOTP code, a recovery code or a
//! passkey assertion): it completes a partial session, or buys an elevated
//! token for one action (step-up).

use std::sync::Arc;

use super::attempts::CodeAttempts;
use super::completion::Completion;
use super::passkeys::Passkeys;
use super::recovery_codes::Recovery;
use super::totp::TotpDevices;
use super::{ElevatedToken, SecondFactor};
use crate::clock::{Clock, rfc3339};
use crate::domain::claims::SessionClaims;
use crate::domain::mfa::{ELEVATED_TOKEN_LIFETIME_S, ELEVATED_TOKEN_TYP};
use crate::domain::settings::{ACTION_SCOPES, MfaMethod};
use crate::domain::validation::ValidationErrors;
use crate::services::environments::EnvironmentRuntime;
use crate::services::signed_in::SignedIn;
use crate::services::{ServiceError, ServiceResult, new_id};

pub struct SecondFactors {
    clock: Arc<dyn Clock>,
    totp: Arc<TotpDevices>,
    recovery: Arc<Recovery>,
    passkeys: Arc<Passkeys>,
    completion: Arc<Completion>,
    attempts: Arc<CodeAttempts>,
}

/// What the second-factor service is built from.
pub struct SecondFactorParts {
    pub clock: Arc<dyn Clock>,
    pub totp: Arc<TotpDevices>,
    pub recovery: Arc<Recovery>,
    pub passkeys: Arc<Passkeys>,
    pub completion: Arc<Completion>,
    pub attempts: Arc<CodeAttempts>,
}

impl SecondFactors {
    pub fn new(p: SecondFactorParts) -> Self {
        SecondFactors {
            clock: p.clock,
            totp: p.totp,
            recovery: p.recovery,
            passkeys: p.passkeys,
            completion: p.completion,
            attempts: p.attempts,
        }
    }

    /// The second factor of a session: completes it (a new token, same
    /// session) and answers as a sign-in does.
    pub async fn verify(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        factor: SecondFactor,
    ) -> ServiceResult<SignedIn> {
        let amr = self.prove_factor(env, claims, &factor).await?;
        self.completion.complete(env, claims, amr).await
    }

    /// An elevated token for one action, after a second factor.
    pub async fn step_up(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        scope: &str,
        factor: SecondFactor,
    ) -> ServiceResult<ElevatedToken> {
        if !ACTION_SCOPES.contains(&scope) {
            return Err(ValidationErrors::single(
                "scope",
                format!("must be one of {}", ACTION_SCOPES.join(", ")),
            )
            .into());
        }
        let amr = self.prove_factor(env, claims, &factor).await?;
        let now_s = self.clock.now().unix_timestamp();
        let exp = (now_s + ELEVATED_TOKEN_LIFETIME_S).min(claims.exp);
        let elevated = SessionClaims {
            iat: now_s,
            nbf: now_s,
            exp,
            jti: new_id(self.clock.as_ref(), "jti")?,
            scope: scope.to_string(),
            amr: vec!["mfa".into(), amr.into()],
            ..claims.clone()
        };
        let token = env
            .active_key()?
            .sign_jwt_of_type(&elevated, ELEVATED_TOKEN_TYP)?;
        Ok(ElevatedToken {
            elevated_token: token.into(),
            scope: scope.to_string(),
            expires_at: rfc3339(exp * 1000),
        })
    }

    /// Checks a second factor of the caller; counts wrong codes. Returns
    /// the `amr` value (RFC 8176) the factor adds.
    async fn prove_factor(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        factor: &SecondFactor,
    ) -> ServiceResult<&'static str> {
        let settings = &env.settings.mfa;
        match factor {
            SecondFactor::Passkey(assertion) => {
                if !settings.methods.contains(&MfaMethod::Passkey) {
                    return Err(ServiceError::InvalidCode);
                }
                return self.passkeys.prove(env, claims, assertion).await;
            }
            SecondFactor::TotpCode(code) => self.totp.prove(env, claims, code).await?,
            SecondFactor::RecoveryCode(code) => self.recovery.prove(env, claims, code).await?,
        }
        self.attempts.clear(&claims.sub).await?;
        Ok("otp")
    }
}
