//! The store code both backends share (`store/shared.rs`), for PostgreSQL.

crate::store::shared::shared_queries!(
    sqlx::PgConnection,
    sqlx::PgPool,
    " FOR UPDATE",
    " FOR UPDATE OF s",
    " FOR UPDATE SKIP LOCKED",
    "seq"
);

crate::store::outbox_sql::outbox_queries!(
    sqlx::PgConnection,
    sqlx::PgPool,
    " FOR UPDATE SKIP LOCKED"
);

crate::store::access_sql::access_queries!(sqlx::PgConnection, sqlx::PgPool);
