//! The scale-out backend: PostgreSQL, shared by several nodes. Unlike
//! SQLite it takes concurrent writers, so every call uses the pool, and
//! transactions lock the rows they decide on (`FOR UPDATE`).

mod api_tokens;
mod changes;
mod environments;
mod events;
mod health;
mod jobs;
mod member_access;
mod members;
mod mfa;
mod organizations;
mod origins;
mod rate_limits;
mod sessions;
mod users;
mod verifications;
mod webhooks;
mod write;

// The SQL both backends share, one file per aggregate (`store/<aggregate>/sql.rs`),
// compiled here for this backend: `Conn`, `Pool` and the dialect macros
// below are what those files name. Each file is compiled once per backend
// on purpose (hence `clippy::duplicate_mod` allowed on these modules).

type Conn = sqlx::PgConnection;
type Pool = sqlx::PgPool;

/// Appended to the reads that decide a revocation or a limit lock the rows they read.
macro_rules! lock {
    () => {
        " FOR UPDATE"
    };
}

/// Appended to `lock!()` for a read that joins the session (`s`) with its user and
/// environment: only the session row is locked.
macro_rules! lock_session {
    () => {
        " FOR UPDATE OF s"
    };
}

/// Appended to the reads that claim or lease background work pass over rows another
/// node is claiming instead of waiting for them.
macro_rules! skip_locked {
    () => {
        " FOR UPDATE SKIP LOCKED"
    };
}

/// The column that gives the order of insertion (a sequence column).
macro_rules! order {
    () => {
        "seq"
    };
}

/// The larger of two values (`MAX` on SQLite, `GREATEST` on PostgreSQL).
macro_rules! greatest {
    () => {
        "GREATEST"
    };
}

shared_sql!();

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

pub(crate) use super::db;
use super::{Store, StoreError, StoreResult};

#[derive(Clone)]
pub struct PgDb {
    pool: PgPool,
}

pub async fn open(database_url: &str) -> StoreResult<Store> {
    let options = PgConnectOptions::from_str(database_url)
        .map_err(|e| StoreError::UnsupportedUrl(e.to_string()))?
        .application_name("portcullis");
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(db)?;
    sqlx::migrate!("./migrations/postgres")
        .run(&pool)
        .await
        .map_err(|e| StoreError::Database(format!("migration failed: {e}")))?;
    let db = Arc::new(PgDb { pool });
    Ok(Store::of(db))
}
