//! The embedded backend: one SQLite file in WAL mode.

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
mod writer;

// The SQL both backends share, one file per aggregate (`store/<aggregate>/sql.rs`),
// compiled here for this backend: `Conn`, `Pool` and the dialect macros
// below are what those files name. Each file is compiled once per backend
// on purpose (hence `clippy::duplicate_mod` allowed on these modules).

type Conn = sqlx::SqliteConnection;
type Pool = sqlx::SqlitePool;

/// Appended to the reads that decide a revocation or a limit: SQLite's single writer
/// already orders every write, so they lock nothing.
macro_rules! lock {
    () => {
        ""
    };
}

/// Appended to `lock!()` for a read that joins the session with its user and environment.
macro_rules! lock_session {
    () => {
        ""
    };
}

/// Appended to the reads that claim or lease background work (nothing to skip: one writer).
macro_rules! skip_locked {
    () => {
        ""
    };
}

/// The column that gives the order of insertion of a table without a sequence column.
macro_rules! order {
    () => {
        "rowid"
    };
}

/// The larger of two values (`MAX` on SQLite, `GREATEST` on PostgreSQL).
macro_rules! greatest {
    () => {
        "MAX"
    };
}

shared_sql!();

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, SqlitePool};

pub(crate) use super::db;
use super::{Store, StoreError, StoreResult};
use writer::Writer;

/// SQLite allows one writer at a time. Reads use `pool` and run in
/// parallel (WAL). Every write goes to `writer`: one connection, owned by a
/// task that groups the writes waiting for it into one transaction
/// (`writer.rs`). Several connections writing at once would wait for the
/// lock in SQLite's busy handler, which sleeps (measured: 2-3x slower
/// sign-in, p99 164 ms); see docs/benchmarks.md.
pub struct SqliteDb {
    pool: SqlitePool,
    writer: Writer,
    /// Rate-limit TATs by key. An embedded database belongs to one process,
    /// so its memory is where every user of the database sees them.
    rate_limits: std::sync::Mutex<std::collections::HashMap<String, i64>>,
}

pub async fn open(database_url: &str) -> StoreResult<Store> {
    let options = SqliteConnectOptions::from_str(database_url)
        .map_err(|e| StoreError::UnsupportedUrl(e.to_string()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    crate::private_files::prepare_sqlite_file(options.get_filename()).map_err(|e| {
        StoreError::Database(format!(
            "cannot create {}: {e}",
            options.get_filename().display()
        ))
    })?;
    let mut writer = options.connect().await.map_err(db)?;
    sqlx::migrate!("./migrations/sqlite")
        .run(&mut writer)
        .await
        .map_err(|e| StoreError::Database(format!("migration failed: {e}")))?;
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .min_connections(1)
        .connect_with(options)
        .await
        .map_err(db)?;
    let db = Arc::new(SqliteDb {
        pool,
        writer: Writer::start(writer),
        rate_limits: Default::default(),
    });
    Ok(Store::of(db))
}
