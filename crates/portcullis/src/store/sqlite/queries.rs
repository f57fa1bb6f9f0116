//! The store code both backends share (`store/shared.rs`), for SQLite.

crate::store::shared::shared_queries!(
    sqlx::SqliteConnection,
    sqlx::SqlitePool,
    "",
    "",
    "",
    "rowid"
);

crate::store::outbox_sql::outbox_queries!(sqlx::SqliteConnection, sqlx::SqlitePool, "");

crate::store::access_sql::access_queries!(sqlx::SqliteConnection, sqlx::SqlitePool);
