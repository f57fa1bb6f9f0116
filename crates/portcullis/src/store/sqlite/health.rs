use async_trait::async_trait;

use super::{SqliteDb, db};
use crate::store::{HealthStore, StoreResult};

#[async_trait]
impl HealthStore for SqliteDb {
    /// Through the writer: proves the writer task is alive and can take
    /// the write lock, not only that a read works.
    async fn ping(&self) -> StoreResult<()> {
        self.writer
            .statement(|c| {
                Box::pin(async move {
                    sqlx::query("SELECT 1").execute(c).await.map_err(db)?;
                    Ok(())
                })
            })
            .await
    }

    async fn get_meta(&self, key: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)
    }

    async fn init_meta(&self, key: &str, value: &str) -> StoreResult<String> {
        let key = key.to_string();
        let value = value.to_string();
        self.writer
            .statement(move |c| {
                Box::pin(async move {
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(&key)
            .bind(&value)
            .execute(&mut *c)
            .await
            .map_err(db)?;
        sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(&key)
            .fetch_one(&mut *c)
            .await
            .map_err(db)
                })
            })
            .await
    }
}
