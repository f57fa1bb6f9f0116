//! The embedded backend: one SQLite file in WAL mode.

mod api_tokens;
mod environments;
mod health;
mod organizations;
mod session_counts;
mod sessions;
mod users;
mod verifications;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{Store, StoreError, StoreResult};

#[derive(Clone)]
pub struct SqliteDb {
    pool: SqlitePool,
}

impl SqliteDb {
    /// A write transaction that takes the write lock at once, so a read
    /// inside it can never deadlock on upgrading to a write.
    async fn write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db)
    }
}

pub async fn open(database_url: &str) -> StoreResult<Store> {
    let options = SqliteConnectOptions::from_str(database_url)
        .map_err(|e| StoreError::UnsupportedUrl(e.to_string()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .min_connections(1)
        .connect_with(options)
        .await
        .map_err(db)?;
    sqlx::migrate!("./migrations/sqlite")
        .run(&pool)
        .await
        .map_err(|e| StoreError::Database(format!("migration failed: {e}")))?;
    let db = Arc::new(SqliteDb { pool });
    Ok(Store {
        organizations: db.clone(),
        environments: db.clone(),
        api_tokens: db.clone(),
        users: db.clone(),
        verifications: db.clone(),
        sessions: db.clone(),
        health: db,
    })
}

/// Maps a driver error; unique violations become conflicts.
pub(crate) fn db(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_string())
        }
        sqlx::Error::RowNotFound => StoreError::NotFound,
        _ => StoreError::Database(e.to_string()),
    }
}
