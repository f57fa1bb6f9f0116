//! E-mail one-time-code sign-in: `start` mails a 6-digit code, `verify`
//! trades it for a session (`code_sign_in.rs`, shared with SMS).

use lettre::Message;
use lettre::message::header::ContentType;

use std::sync::Arc;

use super::code_sign_in::{CodeSignIn, VerificationStarted, check_enabled};
use super::environments::EnvironmentRuntime;
use super::rate_limit::{Bucket, RateLimits};
use super::sessions::ClientInfo;
use super::{ServiceError, ServiceResult};
use crate::domain::credential::CredentialKind;
use crate::domain::email::EmailAddress;
use crate::domain::validation::ValidationErrors;
use crate::domain::verification::CODE_LIFETIME;
use crate::mail::MailTransport;

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
    codes: Arc<CodeSignIn>,
    rate_limits: Arc<RateLimits>,
    mail: Arc<dyn MailTransport>,
    mail_from: lettre::message::Mailbox,
}

impl EmailSignIn {
    pub fn new(
        codes: Arc<CodeSignIn>,
        rate_limits: Arc<RateLimits>,
        mail: Arc<dyn MailTransport>,
        mail_from: lettre::message::Mailbox,
    ) -> Self {
        EmailSignIn {
            codes,
            rate_limits,
            mail,
            mail_from,
        }
    }

    pub async fn start(
        &self,
        env: &EnvironmentRuntime,
        email: &str,
        client: &ClientInfo,
    ) -> ServiceResult<VerificationStarted> {
        check_enabled(env, CredentialKind::Email)?;
        let email = EmailAddress::parse(email)
            .map_err(|e| ValidationErrors::single("email", e.to_string()))?;
        let ip = client.ip_address.as_deref().unwrap_or("unknown");
        check_start_limits(&self.rate_limits, env.id(), &email, ip).await?;

        let new = self.codes.fresh_code()?;
        let message = code_message(&self.mail_from, &email, &new.code)?;
        self.codes
            .store(env, CredentialKind::Email, email.as_str(), &new)
            .await?;
        self.mail.send(message).await?;
        Ok(new.started())
    }
}
