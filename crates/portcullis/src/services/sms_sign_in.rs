//! SMS one-time-code sign-in (docs/sign-in.md, "SMS codes"): `start` texts
//! a 6-digit code to an international number the environment admits,
//! `verify` trades it for a session (`code_sign_in.rs`, shared with
//! e-mail). Texts cost money, and SMS pumping fraud turns sign-in forms
//! into revenue for premium routes: numbers are checked against the
//! environment's calling codes and the send count against its hourly cap
//! before anything is stored or sent.

use std::sync::Arc;

use super::code_sign_in::{CodeSignIn, VerificationStarted, check_enabled};
use super::environments::EnvironmentRuntime;
use super::rate_limit::{Bucket, RateLimits};
use super::sessions::ClientInfo;
use super::{ServiceError, ServiceResult};
use crate::clock::rfc3339;
use crate::domain::credential::CredentialKind;
use crate::domain::phone::PhoneNumber;
use crate::domain::validation::ValidationErrors;
use crate::domain::verification::CODE_LIFETIME;
use crate::sms::{SmsError, SmsMessage, SmsTransport};

impl From<SmsError> for ServiceError {
    fn from(e: SmsError) -> Self {
        ServiceError::caused("sending the SMS failed", e)
    }
}

/// The text that carries a sign-in code.
fn code_text(code: &str) -> String {
    format!(
        "{code} is your sign-in code. It expires in {} minutes. Do not share it.",
        CODE_LIFETIME.whole_minutes()
    )
}

pub struct SmsSignIn {
    codes: Arc<CodeSignIn>,
    rate_limits: Arc<RateLimits>,
    sms: Arc<dyn SmsTransport>,
}

impl SmsSignIn {
    pub fn new(
        codes: Arc<CodeSignIn>,
        rate_limits: Arc<RateLimits>,
        sms: Arc<dyn SmsTransport>,
    ) -> Self {
        SmsSignIn {
            codes,
            rate_limits,
            sms,
        }
    }

    pub async fn start(
        &self,
        env: &EnvironmentRuntime,
        phone: &str,
        client: &ClientInfo,
    ) -> ServiceResult<VerificationStarted> {
        check_enabled(env, CredentialKind::Phone)?;
        let settings = &env.settings.sign_in.sms;
        let phone = PhoneNumber::parse(phone)
            .map_err(|e| ValidationErrors::single("phone", e.to_string()))?;
        if !settings.admits(phone.calling_code()) {
            return Err(ValidationErrors::single(
                "phone",
                format!(
                    "numbers with calling code +{} are not accepted here",
                    phone.calling_code()
                ),
            )
            .into());
        }
        // The client's own limits first (a client they refuse does not
        // touch the number's, which its owner needs); the environment's
        // hourly cap last, so that refused requests do not use it up.
        let ip = client.ip_address.as_deref().unwrap_or("unknown");
        let number = format!("{}|{}", env.id(), phone.as_str());
        self.rate_limits
            .check_all_then(
                &[
                    (Bucket::SmsStartPerIp, format!("{}|{ip}", env.id())),
                    (Bucket::SmsStartPerNumberAndIp, format!("{number}|{ip}")),
                    (Bucket::SmsStartPerNumber, number.clone()),
                    (Bucket::SmsStartPerNumberPerDay, number),
                ],
                Some(self.rate_limits.hourly_cap(
                    Bucket::SmsPerEnvironmentHour,
                    env.id(),
                    settings.max_per_hour,
                )),
            )
            .await?;

        let new = self.codes.fresh_code()?;
        self.codes
            .store(env, CredentialKind::Phone, phone.as_str(), &new)
            .await?;
        self.sms
            .send(&SmsMessage {
                environment_id: env.id().to_string(),
                to: phone.as_str().to_string(),
                body: code_text(&new.code),
                code: new.code.clone(),
                expires_at: rfc3339(new.expires_at),
            })
            .await?;
        Ok(new.started())
    }
}
