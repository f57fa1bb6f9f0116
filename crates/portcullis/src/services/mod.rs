//! Business rules over the store. No HTTP types, no SQL.

pub mod activity;
pub mod api_tokens;
pub mod bootstrap;
pub mod changes;
pub mod email_auth;
pub mod environments;
pub mod events;
pub mod keys;
pub mod lock;
pub mod members;
pub mod mfa;
pub mod notifications;
pub mod origins;
pub mod outbox;
pub mod passkeys;
pub mod rate_limit;
pub mod revocations;
pub mod sessions;
pub mod users;
pub mod verified_tokens;
pub mod webhook_client;
pub mod webhooks;

use std::sync::Arc;

use crate::clock::Clock;
use crate::crypto::{CryptoError, MasterKey};
use crate::domain::roles::{Role, RoleRuleError};
use crate::domain::validation::ValidationErrors;
use crate::mail::{MailError, MailTransport};
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};

pub use activity::ActivityTracker;
pub use environments::EnvironmentCache;
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

/// Everything a request handler may call, wired once at start-up.
pub struct Services {
    pub clock: Arc<dyn Clock>,
    pub store: Store,
    pub master_key: MasterKey,
    pub public_url: String,
    pub mail: Arc<dyn MailTransport>,
    pub mail_from: lettre::message::Mailbox,
    pub environments: EnvironmentCache,
    pub revocations: Revocations,
    pub changes: changes::ChangeState,
    pub activity: ActivityTracker,
    pub rate_limits: RateLimits,
    pub metrics: Metrics,
    pub outbox: outbox::Outbox,
    pub webhook_settings: outbox::WebhookSettings,
    /// Days the audit log keeps events.
    pub event_retention_days: i64,
}

impl Services {
    /// A new id (`crypto::new_id`) at the injected clock's time.
    pub(crate) fn new_id(&self, prefix: &str) -> Result<String, CryptoError> {
        crate::crypto::new_id(prefix, crate::clock::to_millis(self.clock.now()))
    }
}
