//! Allowed origins: reads on the pool, writes through the writer.

use async_trait::async_trait;

use super::{SqliteDb, events_sql, origins_sql};
use crate::store::{EventRecord, OriginRecord, OriginStore, StoreResult};

#[async_trait]
impl OriginStore for SqliteDb {
    async fn list(&self, environment_id: &str) -> StoreResult<Vec<OriginRecord>> {
        origins_sql::origins(&self.pool, environment_id).await
    }

    async fn add(
        &self,
        origin: &OriginRecord,
        limit: i64,
        event: &EventRecord,
    ) -> StoreResult<bool> {
        let (origin, event) = (origin.clone(), event.clone());
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    let added = origins_sql::add_origin(&mut *c, &origin, limit).await?;
                    if added {
                        events_sql::insert_event(c, &event).await?;
                    }
                    Ok(added)
                })
            })
            .await
    }

    async fn delete(
        &self,
        environment_id: &str,
        origin_id: &str,
        event: &EventRecord,
    ) -> StoreResult<bool> {
        let (environment_id, origin_id, event) = (
            environment_id.to_string(),
            origin_id.to_string(),
            event.clone(),
        );
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    let deleted =
                        origins_sql::delete_origin(&mut *c, &environment_id, &origin_id).await?;
                    if deleted {
                        events_sql::insert_event(c, &event).await?;
                    }
                    Ok(deleted)
                })
            })
            .await
    }
}
