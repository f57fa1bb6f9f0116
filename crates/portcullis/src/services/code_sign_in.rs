//! What the one-time-code sign-ins (e-mail, SMS) share: a code stored only
//! as an HMAC under a key derived from the master key (a database dump
//! does not reveal it; 6 digits would fall to a plain hash at once), and
//! `verify`, which trades a right code for a session of the user holding
//! the code's destination as a verified credential.

use std::sync::Arc;

use super::environments::EnvironmentRuntime;
use super::mfa::devices::MfaDevices;
use super::mfa::mfa_status;
use super::rate_limit::{Bucket, RateLimits};
use super::sessions::{ClientInfo, Session, Sessions};
use super::signed_in::SignedIn;
use super::users::User;
use super::{ServiceError, ServiceResult, new_id};
use crate::clock::{Clock, rfc3339, to_millis};
use crate::crypto::{self, MasterKey};
use crate::domain::credential::CredentialKind;
use crate::domain::mfa::SignInOutcome;
use crate::domain::settings::MfaEnrollment;
use crate::domain::validation::ValidationErrors;
use crate::domain::verification::{
    CODE_DIGITS, CODE_LIFETIME, MAX_ATTEMPTS, counts_against_address_limit, normalize_code,
};
use crate::metrics::Metrics;
use crate::store::{
    Attempt, UsedCode, UserQuery, UserRecord, UserStore, VerificationRecord, VerificationStore,
};

const CODE_MAC_PURPOSE: &str = "portcullis/otp-code/v1";

/// A code sent: the verification to finish, and until when.
#[derive(Debug, Clone)]
pub struct VerificationStarted {
    pub verification_id: String,
    pub expires_at: String,
}

/// A code made and stored, not yet sent.
pub struct NewCode {
    pub verification_id: String,
    pub code: String,
    /// Unix ms.
    pub expires_at: i64,
}

impl NewCode {
    pub fn started(&self) -> VerificationStarted {
        VerificationStarted {
            verification_id: self.verification_id.clone(),
            expires_at: rfc3339(self.expires_at),
        }
    }
}

/// The verification channel a credential kind's codes go by.
fn channel(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::Phone => "sms",
        other => other.as_str(),
    }
}

/// What `amr` a code by this channel adds (RFC 8176).
fn amr(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::Phone => "sms",
        _ => "otp",
    }
}

/// The name of a method in metrics and in "sign-in by … is turned off".
pub fn method_name(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::Phone => "sms",
        other => other.as_str(),
    }
}

/// 403 while the environment's settings turn the method off.
pub fn check_enabled(env: &EnvironmentRuntime, kind: CredentialKind) -> ServiceResult<()> {
    let sign_in = &env.settings.sign_in;
    let (enabled, name) = match kind {
        CredentialKind::Email => (sign_in.email.enabled, "e-mail"),
        CredentialKind::Phone => (sign_in.sms.enabled, "SMS"),
        CredentialKind::Wallet => (sign_in.wallet.enabled, "wallet"),
        CredentialKind::Passkey => (false, "passkey"),
    };
    match enabled {
        true => Ok(()),
        false => Err(ServiceError::MethodDisabled(name)),
    }
}

fn code_mac(master: &MasterKey, verification_id: &str, code: &str) -> Vec<u8> {
    master.mac(
        CODE_MAC_PURPOSE,
        format!("{verification_id}:{code}").as_bytes(),
    )
}

pub struct CodeSignIn {
    clock: Arc<dyn Clock>,
    master_key: MasterKey,
    verifications: Arc<dyn VerificationStore>,
    users: Arc<dyn UserStore>,
    sessions: Arc<Sessions>,
    devices: Arc<MfaDevices>,
    rate_limits: Arc<RateLimits>,
    metrics: Metrics,
}

/// What code sign-in is built from.
pub struct CodeSignInParts {
    pub clock: Arc<dyn Clock>,
    pub master_key: MasterKey,
    pub verifications: Arc<dyn VerificationStore>,
    pub users: Arc<dyn UserStore>,
    pub sessions: Arc<Sessions>,
    pub devices: Arc<MfaDevices>,
    pub rate_limits: Arc<RateLimits>,
    pub metrics: Metrics,
}

impl CodeSignIn {
    pub fn new(p: CodeSignInParts) -> Self {
        CodeSignIn {
            clock: p.clock,
            master_key: p.master_key,
            verifications: p.verifications,
            users: p.users,
            sessions: p.sessions,
            devices: p.devices,
            rate_limits: p.rate_limits,
            metrics: p.metrics,
        }
    }

    /// A new code, not stored yet.
    pub fn fresh_code(&self) -> ServiceResult<NewCode> {
        Ok(NewCode {
            verification_id: new_id(self.clock.as_ref(), "vrf")?,
            code: crypto::random_digits(CODE_DIGITS)?,
            expires_at: to_millis(self.clock.now() + CODE_LIFETIME),
        })
    }

    /// Stores `new` for `destination` (normalized) as its HMAC; the caller
    /// then sends it. The newest code of a destination is the one that
    /// works (`VerificationStore::attempt`).
    pub async fn store(
        &self,
        env: &EnvironmentRuntime,
        kind: CredentialKind,
        destination: &str,
        new: &NewCode,
    ) -> ServiceResult<()> {
        self.verifications
            .insert(&VerificationRecord {
                code_mac: code_mac(&self.master_key, &new.verification_id, &new.code),
                id: new.verification_id.clone(),
                environment_id: env.id().to_string(),
                channel: channel(kind).into(),
                destination: destination.to_string(),
                attempts: 0,
                created_at: to_millis(self.clock.now()),
                expires_at: new.expires_at,
                consumed_at: None,
            })
            .await?;
        Ok(())
    }

    /// Trades a right code of a `kind` verification for a session (403
    /// while the method is off).
    pub async fn verify(
        &self,
        env: &EnvironmentRuntime,
        kind: CredentialKind,
        verification_id: &str,
        code: &str,
        client: &ClientInfo,
    ) -> ServiceResult<SignedIn> {
        check_enabled(env, kind)?;
        let code = normalize_code(code).ok_or_else(|| {
            ValidationErrors::single("code", format!("must be {CODE_DIGITS} digits"))
        })?;
        let verification = self
            .attempt(env, kind, verification_id, &code, client)
            .await?;
        let value = verification.destination.clone();
        self.finish(
            env,
            kind,
            &verification,
            &value,
            vec![amr(kind).into()],
            client,
        )
        .await
    }

    /// One attempt at a `kind` verification's code (the rate limits, one
    /// try spent): the verification when the code is right; `invalid_code`
    /// otherwise, also for a verification of another method.
    pub async fn attempt(
        &self,
        env: &EnvironmentRuntime,
        kind: CredentialKind,
        verification_id: &str,
        code: &str,
        client: &ClientInfo,
    ) -> ServiceResult<VerificationRecord> {
        let method = method_name(kind);
        let ip = client.ip_address.as_deref().unwrap_or("unknown");
        self.rate_limits
            .check(Bucket::VerifyPerIp, &format!("{}|{ip}", env.id()))
            .await?;

        let now = to_millis(self.clock.now());
        let mac = code_mac(&self.master_key, verification_id, code);
        let attempt = self
            .verifications
            .attempt(env.id(), verification_id, MAX_ATTEMPTS, now, &mac)
            .await?;
        let (verification, accepted) = match attempt {
            Attempt::Refused => (None, false),
            Attempt::Wrong(v) => (Some(v), false),
            Attempt::Matched(v) => (Some(v), true),
        };
        if let Some(v) = verification
            .as_ref()
            .filter(|v| counts_against_address_limit(accepted, v.attempts))
        {
            // Checked after the attempt, as the address is only known from
            // the verification, and for every attempt but a right first
            // one. Past this limit a right code (on a later try) is refused
            // but not used up: its attempt is spent, and it works once the
            // limit allows, while it lives, is the newest and has attempts
            // left.
            self.rate_limits
                .check(
                    Bucket::VerifyPerAddress,
                    &format!("{}|{}", env.id(), v.destination),
                )
                .await?;
        }
        // A code of another method's (an e-mail code sent to the SMS
        // route) is no code here: refused, and left unused.
        verification
            .filter(|v| accepted && v.channel == channel(kind))
            .ok_or_else(|| {
                self.metrics.sign_in(method, "invalid_code");
                ServiceError::InvalidCode
            })
    }

    /// Signs in the holder of the credential `(kind, value)` that
    /// `verification` proved (its right code used up in the same
    /// statement), creating the user on a first sign-in.
    pub async fn finish(
        &self,
        env: &EnvironmentRuntime,
        kind: CredentialKind,
        verification: &VerificationRecord,
        value: &str,
        amr: Vec<String>,
        client: &ClientInfo,
    ) -> ServiceResult<SignedIn> {
        let method = method_name(kind);
        let now = to_millis(self.clock.now());

        let settings = &env.settings.mfa;
        // Only a policy that may make the sign-in partial needs the user's
        // devices before the session is issued.
        let outcome =
            if settings.session_enforcement || settings.enrollment == MfaEnrollment::Required {
                let query = UserQuery {
                    credential: Some((kind.as_str().into(), value.to_string())),
                    after: None,
                    limit: 1,
                };
                let user = self.users.list(env.id(), &query).await?.into_iter().next();
                self.devices
                    .sign_in_outcome(env, user.as_ref().map(|u| u.id.as_str()))
                    .await?
            } else {
                SignInOutcome::Complete
            };
        let primary = |of: CredentialKind| Some(value.to_string()).filter(|_| kind == of);
        let candidate = UserRecord {
            id: new_id(self.clock.as_ref(), "usr")?,
            environment_id: env.id().to_string(),
            email: primary(CredentialKind::Email),
            phone_number: primary(CredentialKind::Phone),
            wallet: primary(CredentialKind::Wallet),
            created_at: now,
            sessions_epoch: 0,
            sessions_revoked_at: None,
            sessions_revoked_by_kind: None,
            sessions_revoked_by_id: None,
        };
        let used = UsedCode {
            verification_id: verification.id.clone(),
            used_at: now,
        };
        let Some(issued) = self
            .sessions
            .issue_for_credential(env, &used, kind, value, &candidate, amr, outcome, client)
            .await?
        else {
            // Another request with the same code signed in first.
            self.metrics.sign_in(method, "invalid_code");
            return Err(ServiceError::InvalidCode);
        };
        self.metrics.sign_in(method, "success");
        Ok(SignedIn {
            token: Some(issued.token),
            session: Session::from_new(issued.session),
            user: User::from_sign_in(&issued.user, &issued.identity),
            // The statement that stored the session read the user's devices.
            mfa: mfa_status(settings, &issued.mfa_kinds, outcome),
        })
    }
}
