//! Business rules over the store. No HTTP types, no SQL.

pub mod activity;
pub mod api_tokens;
pub mod auth_result;
pub mod bootstrap;
pub mod change_state;
pub mod changes;
pub mod email_sign_in;
pub mod environments;
pub mod events;
pub mod keys;
pub mod lock;
pub mod maintenance;
pub mod members;
pub mod mfa;
pub mod notifications;
pub mod origins;
pub mod outbox;
pub mod outbox_signal;
pub mod rate_limit;
pub mod readiness;
pub mod retry;
pub mod revocations;
pub mod session_revocation;
pub mod sessions;
pub mod settings;
pub mod users;
pub mod verified_tokens;
pub mod webhook_client;
pub mod webhooks;

use std::sync::Arc;

use crate::clock::Clock;
use crate::crypto::CryptoError;
use crate::domain::roles::{Role, RoleRuleError};
use crate::domain::validation::ValidationErrors;
use crate::mail::MailError;
use crate::metrics::Metrics;
use crate::store::StoreError;

pub use activity::ActivityTracker;
pub use rate_limit::RateLimits;
pub use revocations::Revocations;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    #[error("the code is wrong or no longer valid")]
    InvalidCode,
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
    /// The database is out of reach, or this node cannot vouch for its
    /// revocation state (it has not heard the other nodes recently); the
    /// client should retry, maybe on another node.
    #[error("temporarily unavailable")]
    Unavailable,
    /// A fault of ours; the text is logged with a correlation id, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound,
            // The database's words name tables and constraints: not for clients.
            StoreError::Conflict(_) => {
                ServiceError::Conflict("this conflicts with an existing resource".into())
            }
            StoreError::InvalidValue => ServiceError::Validation(ValidationErrors::single(
                "request",
                "contains a character that cannot be stored (such as NUL)",
            )),
            StoreError::Unavailable(why) => {
                tracing::warn!(error = %why, "the database is unavailable");
                ServiceError::Unavailable
            }
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

impl From<CryptoError> for ServiceError {
    fn from(e: CryptoError) -> Self {
        ServiceError::Internal(e.to_string())
    }
}

impl From<MailError> for ServiceError {
    fn from(e: MailError) -> Self {
        ServiceError::Internal(e.to_string())
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

/// A role as the store keeps it (tokens, members); anything else is ours
/// to fix, not the caller's.
pub fn stored_role(text: &str) -> ServiceResult<Role> {
    Role::parse(text).ok_or_else(|| ServiceError::Internal(format!("unknown stored role {text:?}")))
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
    pub revocation: Arc<session_revocation::SessionRevocation>,
    pub email_sign_in: Arc<email_sign_in::EmailSignIn>,
    pub mfa: MfaServices,
    pub users: Arc<users::Users>,
    pub api_tokens: Arc<api_tokens::ApiTokens>,
    pub members: Arc<members::Members>,
    pub webhooks: Arc<webhooks::Webhooks>,
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
