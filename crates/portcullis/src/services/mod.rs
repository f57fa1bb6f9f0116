//! Business rules over the store. No HTTP types, no SQL.

pub mod activity;
pub mod advisor;
pub mod api_tokens;
pub mod bootstrap;
pub mod change_state;
pub mod changes;
pub mod code_sign_in;
pub mod email_sign_in;
pub mod environments;
pub mod eth_rpc;
pub mod events;
pub mod keys;
pub mod lock;
pub mod maintenance;
pub mod member_access;
pub mod member_totp;
pub mod members;
pub mod mfa;
pub mod notifications;
pub mod origins;
pub mod outbox;
pub mod outbox_signal;
pub mod rate_limit;
pub mod readiness;
pub mod retry;
pub mod revocation_feed;
pub mod revocations;
pub mod sdk_cookies;
pub mod session_revocation;
pub mod sessions;
pub mod settings;
pub mod signed_in;
pub mod sms_sign_in;
pub mod users;
pub mod verified_tokens;
pub mod wallet_sign_in;
pub mod webhook_client;
pub mod webhooks;

use std::sync::Arc;

use crate::clock::Clock;
use crate::crypto::CryptoError;
use crate::domain::roles::RoleRuleError;
use crate::domain::validation::ValidationErrors;
use crate::mail::MailError;
use crate::metrics::Metrics;
use crate::store::{Constraint, StoreError};

pub use activity::ActivityTracker;
pub use rate_limit::RateLimits;
pub use revocations::Revocations;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    #[error("the code is wrong or no longer valid")]
    InvalidCode,
    /// `invalid_code` with a reason the client can act on (no secret in
    /// it, and nothing about whether an identifier exists).
    #[error("the proof is not valid: {0}")]
    InvalidCodeBecause(String),
    #[error("no credentials")]
    MissingCredentials,
    #[error("the token is not valid")]
    InvalidToken,
    #[error("the token has expired")]
    TokenExpired,
    #[error("the session was revoked")]
    SessionRevoked,
    #[error("the API token is not valid")]
    InvalidApiToken,
    #[error("the caller may not do this")]
    Forbidden,
    /// A sign-in method the environment's settings turn off (`sign_in`);
    /// names the method ("SMS").
    #[error("sign-in by {0} is turned off for this environment")]
    MethodDisabled(&'static str),
    /// The session has not completed MFA, and this needs a full session.
    #[error("multi-factor authentication is required")]
    MfaRequired,
    /// The action needs a valid, unspent elevated token for its scope.
    #[error("an elevated token is required")]
    ElevatedTokenRequired,
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("the environment is locked")]
    EnvironmentLocked,
    /// A feed cursor older than what the server keeps: start over.
    #[error("the cursor is older than what the feed keeps")]
    CursorExpired,
    /// The database is out of reach, or this node cannot vouch for its
    /// revocation state (it has not heard the other nodes recently); the
    /// client should retry, maybe on another node.
    #[error("temporarily unavailable")]
    Unavailable,
    /// A fault of ours: logged with a correlation id, never shown.
    #[error("internal error: {0}")]
    Internal(Internal),
}

/// A fault of ours: what was being done, and the error that caused it, if
/// any, kept as the source so that the log shows the whole chain.
#[derive(Debug, thiserror::Error)]
#[error("{context}")]
pub struct Internal {
    context: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Internal {
    /// The context and every cause, outermost first: what the log says.
    pub fn report(&self) -> String {
        let mut report = self.context.clone();
        let mut cause = std::error::Error::source(self);
        while let Some(e) = cause {
            report.push_str(": ");
            report.push_str(&e.to_string());
            cause = e.source();
        }
        report
    }
}

impl ServiceError {
    /// A fault of ours, described by `context`.
    pub fn internal(context: impl Into<String>) -> Self {
        ServiceError::Internal(Internal {
            context: context.into(),
            source: None,
        })
    }

    /// A fault of ours while doing `context`, caused by `source`.
    pub fn caused(
        context: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        ServiceError::Internal(Internal {
            context: context.into(),
            source: Some(Box::new(source)),
        })
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound,
            // The database's words name tables and constraints: not for clients.
            StoreError::Conflict(rule) => ServiceError::Conflict(conflict_message(rule).into()),
            StoreError::InvalidValue => ServiceError::Validation(ValidationErrors::single(
                "request",
                "contains a character that cannot be stored (such as NUL)",
            )),
            StoreError::Unavailable(why) => {
                tracing::warn!(error = %why, "the database is unavailable");
                ServiceError::Unavailable
            }
            other => ServiceError::caused("the store failed", other),
        }
    }
}

impl From<CryptoError> for ServiceError {
    fn from(e: CryptoError) -> Self {
        ServiceError::caused("a cryptographic operation failed", e)
    }
}

impl From<MailError> for ServiceError {
    fn from(e: MailError) -> Self {
        ServiceError::caused("sending mail failed", e)
    }
}

/// The one place where a unique rule of the schema that a write broke
/// becomes the 409 `conflict` a client reads. The database's own words
/// name tables and constraints: not for clients.
fn conflict_message(rule: Constraint) -> &'static str {
    match rule {
        Constraint::MemberEmail => "the organization has a member with this e-mail",
        Constraint::OneOwner => "the organization has an owner already",
        Constraint::Origin => "the environment lists this origin already",
        Constraint::OneTotpPerUser => "one TOTP device per user",
        Constraint::PasskeyCredential => "this passkey is registered already",
        Constraint::Credential => "this credential belongs to another user",
        Constraint::Other => "this conflicts with an existing resource",
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl From<RoleRuleError> for ServiceError {
    fn from(e: RoleRuleError) -> Self {
        match e {
            RoleRuleError::Forbidden => ServiceError::Forbidden,
            RoleRuleError::Conflict(why) => ServiceError::Conflict(why.into()),
            RoleRuleError::OwnerNotGrantable => ServiceError::Validation(ValidationErrors::single(
                "role",
                "there is one owner; give ownership by changing an existing member's role to owner",
            )),
        }
    }
}

/// A new id (`crypto::new_id`) at the injected clock's time.
pub(crate) fn new_id(clock: &dyn Clock, prefix: &str) -> Result<String, CryptoError> {
    crate::crypto::new_id(prefix, crate::clock::to_millis(clock.now()))
}

/// The MFA services, one per capability (`mfa/mod.rs`).
pub struct MfaServices {
    pub devices: Arc<mfa::devices::MfaDevices>,
    pub totp: Arc<mfa::totp::TotpDevices>,
    pub recovery: Arc<mfa::recovery_codes::Recovery>,
    pub passkeys: Arc<mfa::passkeys::Passkeys>,
    pub second_factor: Arc<mfa::second_factor::SecondFactors>,
    pub elevation: Arc<mfa::elevation::Elevation>,
}

/// Every service the HTTP layer calls, wired once at start-up
/// (`app::build_services`). Each service holds only the store traits and
/// collaborators it needs; nothing here reaches the store.
pub struct Services {
    pub clock: Arc<dyn Clock>,
    pub environments: Arc<environments::Environments>,
    pub locks: Arc<lock::EnvironmentLocks>,
    pub settings: Arc<settings::Settings>,
    pub origins: Arc<origins::Origins>,
    pub events: Arc<events::Events>,
    pub sessions: Arc<sessions::Sessions>,
    pub sdk_cookies: Arc<sdk_cookies::SdkCookies>,
    pub revocation: Arc<session_revocation::SessionRevocation>,
    pub revocation_feed: Arc<revocation_feed::RevocationFeed>,
    /// Code sign-in's verify, for e-mail and SMS alike.
    pub code_sign_in: Arc<code_sign_in::CodeSignIn>,
    pub email_sign_in: Arc<email_sign_in::EmailSignIn>,
    pub sms_sign_in: Arc<sms_sign_in::SmsSignIn>,
    pub wallet_sign_in: Arc<wallet_sign_in::WalletSignIn>,
    pub mfa: MfaServices,
    pub users: Arc<users::Users>,
    pub api_tokens: Arc<api_tokens::ApiTokens>,
    pub members: Arc<members::Members>,
    pub member_access: Arc<member_access::MemberAccess>,
    pub member_totp: Arc<member_totp::MemberTotp>,
    pub webhooks: Arc<webhooks::Webhooks>,
    pub advisor: Arc<advisor::SecurityAdvisor>,
    pub readiness: Arc<readiness::Readiness>,
    pub metrics: Metrics,
}

/// What the workers run on, wired with the same services.
pub struct Workers {
    pub maintenance: Arc<maintenance::Maintenance>,
    pub changes: Arc<changes::Changes>,
    pub outbox: Arc<outbox::Outbox>,
    pub notifications: Arc<notifications::Notifications>,
    pub locks: Arc<lock::EnvironmentLocks>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_keeps_its_cause_for_the_log() {
        let e = ServiceError::caused("writing the key", std::io::Error::other("disk on fire"));
        let ServiceError::Internal(fault) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(fault.report(), "writing the key: disk on fire");
        assert_eq!(e.to_string(), "internal error: writing the key");
        let e = ServiceError::from(StoreError::Database("relation x".into()));
        let ServiceError::Internal(fault) = &e else {
            panic!("{e:?}")
        };
        assert!(
            fault.report().ends_with("database error: relation x"),
            "{}",
            fault.report()
        );
    }

    #[test]
    fn every_unique_rule_is_a_conflict_with_words_for_the_client() {
        for rule in [
            Constraint::MemberEmail,
            Constraint::OneOwner,
            Constraint::Origin,
            Constraint::OneTotpPerUser,
            Constraint::PasskeyCredential,
            Constraint::Credential,
            Constraint::Other,
        ] {
            match ServiceError::from(StoreError::Conflict(rule)) {
                ServiceError::Conflict(words) => {
                    assert!(!words.contains('_') && !words.contains('.'), "{words}")
                }
                other => panic!("{rule:?}: {other:?}"),
            }
        }
    }
}
