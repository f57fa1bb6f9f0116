use async_trait::async_trait;

use super::{SqliteDb, db, tenant_sql};
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
        tenant_sql::meta(&self.pool, key).await
    }

    async fn init_meta(&self, key: &str, value: &str) -> StoreResult<String> {
        let (key, value) = (key.to_string(), value.to_string());
        self.writer
            .transaction(move |c| {
                Box::pin(async move { tenant_sql::init_meta(c, &key, &value).await })
            })
            .await
    }
}
