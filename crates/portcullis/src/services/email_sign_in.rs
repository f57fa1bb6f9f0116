//! E-mail one-time-code sign-in: `start` mails a 6-digit code, `verify`
//! trades it for a session. Codes are stored only as an HMAC under a key
//! derived from the master key, so a database dump does not reveal them
//! (6 digits would fall to a plain hash at once).

use lettre::Message;
use lettre::message::header::ContentType;

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
use crate::domain::email::EmailAddress;
use crate::domain::mfa::SignInOutcome;
use crate::domain::settings::MfaEnrollment;
use crate::domain::validation::ValidationErrors;
use crate::domain::verification::{
    CODE_DIGITS, CODE_LIFETIME, MAX_ATTEMPTS, counts_against_address_limit, normalize_code,
};
use crate::mail::MailTransport;
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

fn code_mac(master: &MasterKey, verification_id: &str, code: &str) -> Vec<u8> {
    master.mac(
        CODE_MAC_PURPOSE,
        format!("{verification_id}:{code}").as_bytes(),
    )
}

/// The limits on mailing a code to `email` within `scope` (an environment,
/// or the dashboard's organization) at the request of the client at `ip`.
/// The client's own limits first: a client they refuse does not even touch
/// the address's, which its owner needs.
pub(super) async fn check_start_limits(
    rate_limits: &RateLimits,
    scope: &str,
    email: &EmailAddress,
    ip: &str,
) -> ServiceResult<()> {
    let address = format!("{scope}|{}", email.as_str());
    rate_limits
        .check_all(&[
            (Bucket::EmailStartPerIp, format!("{scope}|{ip}")),
            (Bucket::EmailStartPerAddressAndIp, format!("{address}|{ip}")),
            (Bucket::EmailStartPerAddress, address.clone()),
            (Bucket::EmailStartPerAddressPerDay, address),
        ])
        .await
}

/// The message that carries a sign-in code.
pub(super) fn code_message(
    from: &lettre::message::Mailbox,
    email: &EmailAddress,
    code: &str,
) -> ServiceResult<Message> {
    let to = email
        .as_str()
        .parse()
        .map_err(|_| ValidationErrors::single("email", "cannot be used as a recipient"))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(format!("{code} is your sign-in code"))
        .header(ContentType::TEXT_PLAIN)
        .body(format!(
            "Your sign-in code is {code}\n\nIt expires in {} minutes and works once. \
             If you did not ask for it, you can ignore this message.\n",
            CODE_LIFETIME.whole_minutes()
        ))
        .map_err(|e| ServiceError::internal(format!("building the message: {e}")))
}

pub struct EmailSignIn {
    clock: Arc<dyn Clock>,
    master_key: MasterKey,
    verifications: Arc<dyn VerificationStore>,
    users: Arc<dyn UserStore>,
    sessions: Arc<Sessions>,
    devices: Arc<MfaDevices>,
    rate_limits: Arc<RateLimits>,
    mail: Arc<dyn MailTransport>,
    mail_from: lettre::message::Mailbox,
    metrics: Metrics,
}

/// What e-mail sign-in is built from.
pub struct EmailSignInParts {
    pub clock: Arc<dyn Clock>,
    pub master_key: MasterKey,
    pub verifications: Arc<dyn VerificationStore>,
    pub users: Arc<dyn UserStore>,
    pub sessions: Arc<Sessions>,
    pub devices: Arc<MfaDevices>,
    pub rate_limits: Arc<RateLimits>,
    pub mail: Arc<dyn MailTransport>,
    pub mail_from: lettre::message::Mailbox,
    pub metrics: Metrics,
}

impl EmailSignIn {
    pub fn new(p: EmailSignInParts) -> Self {
        EmailSignIn {
            clock: p.clock,
            master_key: p.master_key,
            verifications: p.verifications,
            users: p.users,
            sessions: p.sessions,
            devices: p.devices,
            rate_limits: p.rate_limits,
            mail: p.mail,
            mail_from: p.mail_from,
            metrics: p.metrics,
        }
    }

    pub async fn start(
        &self,
        env: &EnvironmentRuntime,
        email: &str,
        client: &ClientInfo,
    ) -> ServiceResult<VerificationStarted> {
        let email = EmailAddress::parse(email)
            .map_err(|e| ValidationErrors::single("email", e.to_string()))?;
        let ip = client.ip_address.as_deref().unwrap_or("unknown");
        check_start_limits(&self.rate_limits, env.id(), &email, ip).await?;

        let now = self.clock.now();
        let id = new_id(self.clock.as_ref(), "vrf")?;
        let code = crypto::random_digits(CODE_DIGITS)?;
        let expires_at = to_millis(now + CODE_LIFETIME);
        let message = code_message(&self.mail_from, &email, &code)?;
        self.verifications
            .insert(&VerificationRecord {
                code_mac: code_mac(&self.master_key, &id, &code),
                id: id.clone(),
                environment_id: env.id().to_string(),
                channel: "email".into(),
                destination: email.as_str().to_string(),
                attempts: 0,
                created_at: to_millis(now),
                expires_at,
                consumed_at: None,
            })
            .await?;
        self.mail.send(message).await?;
        Ok(VerificationStarted {
            verification_id: id,
            expires_at: rfc3339(expires_at),
        })
    }

    pub async fn verify(
        &self,
        env: &EnvironmentRuntime,
        verification_id: &str,
        code: &str,
        client: &ClientInfo,
    ) -> ServiceResult<SignedIn> {
        let code = normalize_code(code).ok_or_else(|| {
            ValidationErrors::single("code", format!("must be {CODE_DIGITS} digits"))
        })?;
        let ip = client.ip_address.as_deref().unwrap_or("unknown");
        self.rate_limits
            .check(Bucket::VerifyPerIp, &format!("{}|{ip}", env.id()))
            .await?;

        let now = to_millis(self.clock.now());
        let mac = code_mac(&self.master_key, verification_id, &code);
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
        let Some(verification) = verification.filter(|_| accepted) else {
            self.metrics.sign_in("email", "invalid_code");
            return Err(ServiceError::InvalidCode);
        };

        let settings = &env.settings.mfa;
        // Only a policy that may make the sign-in partial needs the user's
        // devices before the session is issued.
        let outcome =
            if settings.session_enforcement || settings.enrollment == MfaEnrollment::Required {
                let query = UserQuery {
                    email: Some(verification.destination.clone()),
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
        let candidate = UserRecord {
            id: new_id(self.clock.as_ref(), "usr")?,
            environment_id: env.id().to_string(),
            email: Some(verification.destination.clone()),
            phone_number: None,
            wallet: None,
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
            .issue_for_credential(
                env,
                &used,
                CredentialKind::Email,
                &verification.destination,
                &candidate,
                vec!["otp".into()],
                outcome,
                client,
            )
            .await?
        else {
            // Another request with the same code signed in first.
            self.metrics.sign_in("email", "invalid_code");
            return Err(ServiceError::InvalidCode);
        };
        self.metrics.sign_in("email", "success");
        Ok(SignedIn {
            token: Some(issued.token),
            session: Session::from_new(issued.session),
            user: User::from_sign_in(&issued.user, &issued.identity),
            // The statement that stored the session read the user's devices.
            mfa: mfa_status(settings, &issued.mfa_kinds, outcome),
        })
    }
}
