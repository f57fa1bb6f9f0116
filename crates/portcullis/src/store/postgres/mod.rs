//! The scale-out backend: PostgreSQL, shared by several nodes. Unlike
//! SQLite it takes concurrent writers, so every call uses the pool, and
//! transactions lock the rows they decide on (`FOR UPDATE`).

mod api_tokens;
mod changes;
mod environments;
mod events;
mod health;
mod jobs;
mod members;
mod mfa;
mod organizations;
mod origins;
mod queries;
mod rate_limits;
mod sessions;
mod users;
mod verifications;
mod webhooks;

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
