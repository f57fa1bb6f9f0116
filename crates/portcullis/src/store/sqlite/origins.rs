//! Allowed origins: reads on the pool, writes through the writer.

use async_trait::async_trait;

use super::{SqliteDb, queries};
use crate::store::{OriginRecord, OriginStore, StoreResult};

#[async_trait]
impl OriginStore for SqliteDb {
    async fn list(&self, environment_id: &str) -> StoreResult<Vec<OriginRecord>> {
        queries::origins(&self.pool, environment_id).await
    }

    async fn add(&self, origin: &OriginRecord, limit: i64) -> StoreResult<bool> {
        let origin = origin.clone();
        self.writer
            .transaction(move |c| {
                Box::pin(async move { queries::add_origin(c, &origin, limit).await })
            })
            .await
    }

    async fn delete(&self, environment_id: &str, origin_id: &str) -> StoreResult<bool> {
        let (environment_id, origin_id) = (environment_id.to_string(), origin_id.to_string());
        self.writer
            .transaction(move |c| {
                Box::pin(
                    async move { queries::delete_origin(c, &environment_id, &origin_id).await },
                )
            })
            .await
    }
}
