//! Members' own TOTP (RFC 6238, as for end users: SHA-1, 6 digits, 30 s):
//! enrolment with a QR code, confirmation by a first code, and codes at
//! sign-in and before owner actions, each step usable once. The secret is
//! sealed under the master key.

use std::sync::Arc;

use super::mfa::TotpSetup;
use super::mfa::totp::{qr_svg, totp_for, totp_matches};
use super::rate_limit::{Bucket, RateLimits};
use super::{ServiceError, ServiceResult};
use crate::clock::{Clock, to_millis};
use crate::crypto::{self, MasterKey};
use crate::domain::mfa::{self, TOTP_SECRET_BYTES, TotpRefusal};
use crate::domain::validation::ValidationErrors;
use crate::store::{MemberAccessStore, MemberTotpRecord};

const SEAL_PURPOSE: &str = "member-totp-secret";

pub struct MemberTotp {
    clock: Arc<dyn Clock>,
    master_key: MasterKey,
    store: Arc<dyn MemberAccessStore>,
    rate_limits: Arc<RateLimits>,
}

impl MemberTotp {
    pub fn new(
        clock: Arc<dyn Clock>,
        master_key: MasterKey,
        store: Arc<dyn MemberAccessStore>,
        rate_limits: Arc<RateLimits>,
    ) -> Self {
        MemberTotp {
            clock,
            master_key,
            store,
            rate_limits,
        }
    }

    pub async fn has_totp(&self, member_id: &str) -> ServiceResult<bool> {
        Ok(self
            .store
            .totp(member_id)
            .await?
            .is_some_and(|t| t.confirmed_at.is_some()))
    }

    /// Removes the member's TOTP, confirmed or pending (the operator, for
    /// a lost authenticator); whether there was one.
    pub async fn reset(&self, member_id: &str) -> ServiceResult<bool> {
        Ok(self.store.delete_totp(member_id).await?)
    }

    /// A new secret for the member's authenticator app, shown once.
    pub async fn begin(&self, member_id: &str, email: &str) -> ServiceResult<TotpSetup> {
        let secret = crypto::random_bytes::<TOTP_SECRET_BYTES>()?.to_vec();
        let totp = totp_for(secret.clone(), email)?;
        let otpauth_uri = totp
            .to_url()
            .map_err(|e| ServiceError::internal(format!("otpauth URI: {e}")))?;
        let sealed = self
            .master_key
            .seal(&format!("{SEAL_PURPOSE}:{member_id}"), &secret)?;
        let begun = self
            .store
            .begin_totp(&MemberTotpRecord {
                member_id: member_id.to_string(),
                secret_sealed: sealed,
                created_at: to_millis(self.clock.now()),
                confirmed_at: None,
                last_used_step: None,
            })
            .await?;
        if !begun {
            return Err(ServiceError::Conflict("TOTP is set up already".into()));
        }
        Ok(TotpSetup {
            device_id: member_id.to_string(),
            secret: totp.secret().to_base32().into(),
            qr_svg: qr_svg(&otpauth_uri)?.into(),
            otpauth_uri: otpauth_uri.into(),
        })
    }

    /// Confirms the pending enrolment with its first right code.
    pub async fn confirm(&self, member_id: &str, email: &str, code: &str) -> ServiceResult<()> {
        let record = self
            .store
            .totp(member_id)
            .await?
            .filter(|t| t.confirmed_at.is_none())
            .ok_or_else(|| ServiceError::Conflict("no TOTP set-up is waiting".into()))?;
        let step = self.check(&record, email, code).await?;
        let now = to_millis(self.clock.now());
        match self
            .store
            .confirm_totp(member_id, record.created_at, now, step)
            .await?
        {
            true => Ok(()),
            false => Err(ServiceError::Conflict("TOTP is set up already".into())),
        }
    }

    /// Checks a code of the member's confirmed TOTP and uses its step.
    pub async fn prove(&self, member_id: &str, code: &str) -> ServiceResult<()> {
        let record = self
            .store
            .totp(member_id)
            .await?
            .filter(|t| t.confirmed_at.is_some())
            .ok_or(ServiceError::InvalidCode)?;
        let step = self.check(&record, "member", code).await?;
        match self.store.use_totp_step(member_id, step).await? {
            true => Ok(()),
            false => Err(ServiceError::InvalidCode),
        }
    }

    /// The step whose code `code` is, within the allowed skew and after
    /// the last one used. Each code is checked against the member's hourly
    /// limit of code attempts first; a right one hands its turn back, so
    /// only wrong codes use the limit up (an owner who signs in, locks and
    /// unlocks is not locked out by their own right codes).
    async fn check(
        &self,
        record: &MemberTotpRecord,
        email: &str,
        code: &str,
    ) -> ServiceResult<i64> {
        let code = mfa::normalize_totp_code(code)
            .ok_or_else(|| ValidationErrors::single("code", "must be 6 digits"))?;
        let limit_key = format!("dashboard-totp|{}", record.member_id);
        self.rate_limits
            .check(Bucket::VerifyPerAddress, &limit_key)
            .await?;
        let secret = self.master_key.open(
            &format!("{SEAL_PURPOSE}:{}", record.member_id),
            &record.secret_sealed,
        )?;
        let totp = totp_for(secret, email)?;
        let now = self.clock.now().unix_timestamp();
        let step = mfa::accepted_step(now, record.last_used_step, |s| {
            totp_matches(&totp, s, &code)
        })
        .map_err(|refusal| {
            if refusal == TotpRefusal::Replayed {
                tracing::info!(member_id = %record.member_id, "a member's TOTP code was replayed");
            }
            ServiceError::InvalidCode
        })?;
        self.rate_limits
            .give_back(Bucket::VerifyPerAddress, &limit_key)
            .await;
        Ok(step)
    }
}
