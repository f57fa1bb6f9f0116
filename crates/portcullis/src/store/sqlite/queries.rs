//! The store code both backends share (`store/shared.rs`), for SQLite.

crate::store::shared::shared_queries!(
    sqlx::SqliteConnection,
    sqlx::SqlitePool,
    "",
    "",
    "",
    "rowid"
);
