//! Storage: one folder (or file) per aggregate, each with its trait and
//! records (`mod.rs`) and the SQL both backends share (`sql.rs`, compiled
//! once inside each backend: see `sqlite/mod.rs` and `postgres/mod.rs`),
//! and one implementation of the traits per backend. Services hold a
//! [`Store`] and never see SQL or the backend in use.
//! Instants are Unix milliseconds (`*_at`); JWT-facing instants (`iat`,
//! watermarks) are Unix seconds.

/// Every aggregate's shared SQL (`<aggregate>/sql.rs`), compiled into the
/// backend module that invokes this after defining `Conn`, `Pool` and the
/// dialect macros (`sqlite/mod.rs`, `postgres/mod.rs`).
macro_rules! shared_sql {
    () => {
        shared_sql!(
            api_tokens_sql "../api_tokens/sql.rs",
            environments_sql "../environments/sql.rs",
            events_sql "../events/sql.rs",
            feed_sql "../sessions/feed_sql.rs",
            jobs_sql "../jobs/sql.rs",
            member_access_sql "../member_access/sql.rs",
            members_sql "../members/sql.rs",
            mfa_sql "../mfa/sql.rs",
            origins_sql "../origins/sql.rs",
            sessions_sql "../sessions/sql.rs",
            tenant_sql "../tenant/sql.rs",
            users_sql "../users/sql.rs",
            verifications_sql "../verifications/sql.rs",
            webhooks_sql "../webhooks/sql.rs",
        );
    };
    ($($module:ident $path:literal,)*) => {
        $(
            // Each file is compiled once per backend, on purpose.
            #[allow(clippy::duplicate_mod)]
            #[path = $path]
            mod $module;
        )*
    };
}

mod api_tokens;
mod changes;
mod environments;
mod error;
mod events;
mod health;
mod jobs;
mod member_access;
mod members;
mod mfa;
mod origins;
pub mod postgres;
mod rate_limits;
mod sessions;
pub mod sqlite;
mod tenant;
mod users;
mod verifications;
mod webhooks;

use std::sync::Arc;

pub use api_tokens::*;
pub use changes::*;
pub use environments::*;
pub(crate) use error::db;
pub use error::{Constraint, StoreError, StoreResult};
pub use events::*;
pub use health::*;
pub use jobs::*;
pub use member_access::*;
pub use members::*;
pub use mfa::*;
pub use origins::*;
pub use rate_limits::*;
pub use sessions::*;
pub use tenant::*;
pub use users::*;
pub use verifications::*;
pub use webhooks::*;

/// All stores of one backend.
#[derive(Clone)]
pub struct Store {
    pub organizations: Arc<dyn OrganizationStore>,
    pub environments: Arc<dyn EnvironmentStore>,
    pub api_tokens: Arc<dyn ApiTokenStore>,
    pub members: Arc<dyn MemberStore>,
    pub member_access: Arc<dyn MemberAccessStore>,
    pub users: Arc<dyn UserStore>,
    pub verifications: Arc<dyn VerificationStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub health: Arc<dyn HealthStore>,
    pub changes: Arc<dyn ChangeFeed>,
    pub rate_limits: Arc<dyn RateLimitStore>,
    pub jobs: Arc<dyn JobStore>,
    pub mfa: Arc<dyn MfaStore>,
    pub origins: Arc<dyn OriginStore>,
    pub events: Arc<dyn EventStore>,
    pub webhooks: Arc<dyn WebhookStore>,
}

impl Store {
    /// Every store of a backend that implements them all.
    pub(crate) fn of<B>(db: Arc<B>) -> Store
    where
        B: OrganizationStore
            + EnvironmentStore
            + ApiTokenStore
            + MemberStore
            + MemberAccessStore
            + UserStore
            + VerificationStore
            + SessionStore
            + HealthStore
            + ChangeFeed
            + RateLimitStore
            + JobStore
            + MfaStore
            + OriginStore
            + EventStore
            + WebhookStore
            + 'static,
    {
        Store {
            organizations: db.clone(),
            environments: db.clone(),
            api_tokens: db.clone(),
            members: db.clone(),
            member_access: db.clone(),
            users: db.clone(),
            verifications: db.clone(),
            sessions: db.clone(),
            health: db.clone(),
            changes: db.clone(),
            rate_limits: db.clone(),
            jobs: db.clone(),
            mfa: db.clone(),
            origins: db.clone(),
            events: db.clone(),
            webhooks: db,
        }
    }

    /// Opens the database the URL names and applies pending migrations.
    pub async fn open(database_url: &str) -> StoreResult<Self> {
        match Backend::of_url(database_url) {
            Some(Backend::Sqlite) => sqlite::open(database_url).await,
            Some(Backend::Postgres) => postgres::open(database_url).await,
            None => Err(StoreError::UnsupportedUrl(
                database_url
                    .split("://")
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            )),
        }
    }
}

/// The backend a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub const URL_FORMS: &str = "sqlite://PATH, postgres://… or postgresql://…";

    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}
