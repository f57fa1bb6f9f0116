use async_trait::async_trait;

use super::{PgDb, db, tenant_sql};
use crate::store::{HealthStore, StoreResult};

#[async_trait]
impl HealthStore for PgDb {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn get_meta(&self, key: &str) -> StoreResult<Option<String>> {
        tenant_sql::meta(&self.pool, key).await
    }

    /// Sets `key` if no node has yet, and returns what is stored: of two
    /// nodes starting at once, both see the first one's value.
    async fn init_meta(&self, key: &str, value: &str) -> StoreResult<String> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        tenant_sql::init_meta(&mut conn, key, value).await
    }
}
