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

/// SQLite allows one writer at a time. Single statements (reads, and the
/// one-statement writes of the sign-in path) use `pool`: each holds the
/// write lock only while it runs, so they proceed in parallel. Transactions
/// of several statements use `writer`, a pool of exactly one connection:
/// they hold the lock across round trips, and if several ran at once on
/// different connections the others would get `SQLITE_BUSY` and sleep in
/// SQLite's busy handler (measured: 2-3x slower sign-in, p99 164 ms).
/// Keep the hot path to single statements; see docs/benchmarks.md.
#[derive(Clone)]
pub struct SqliteDb {
    pool: SqlitePool,
    writer: SqlitePool,
}

impl SqliteDb {
    /// A write transaction on the writer connection. `BEGIN IMMEDIATE`
    /// takes the file lock at once, so another process writing to the same
    /// file (`portcullis init` while serving) cannot deadlock it.
    async fn write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(db)
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
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .connect_with(options.clone())
        .await
        .map_err(db)?;
    sqlx::migrate!("./migrations/sqlite")
        .run(&writer)
        .await
        .map_err(|e| StoreError::Database(format!("migration failed: {e}")))?;
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .min_connections(1)
        .connect_with(options)
        .await
        .map_err(db)?;
    let db = Arc::new(SqliteDb { pool, writer });
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
