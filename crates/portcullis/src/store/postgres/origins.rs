//! Allowed origins. Each change notifies the other nodes in its own
//! transaction, so they drop their cached list when it commits.

use async_trait::async_trait;

use super::{PgDb, events_sql, origins_sql};
use crate::store::{Change, EventRecord, OriginRecord, OriginStore, StoreResult};

#[async_trait]
impl OriginStore for PgDb {
    async fn list(&self, environment_id: &str) -> StoreResult<Vec<OriginRecord>> {
        origins_sql::origins(&self.pool, environment_id).await
    }

    async fn add(
        &self,
        origin: &OriginRecord,
        limit: i64,
        event: &EventRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        if !origins_sql::add_origin(&mut tx, origin, limit).await? {
            return Ok(false);
        }
        events_sql::insert_event(&mut tx, event).await?;
        let environment_id = origin.environment_id.clone();
        tx.publish(Change::EnvironmentChanged { environment_id });
        tx.commit().await?;
        Ok(true)
    }

    async fn delete(
        &self,
        environment_id: &str,
        origin_id: &str,
        event: &EventRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        if !origins_sql::delete_origin(&mut tx, environment_id, origin_id).await? {
            return Ok(false);
        }
        events_sql::insert_event(&mut tx, event).await?;
        let environment_id = environment_id.to_string();
        tx.publish(Change::EnvironmentChanged { environment_id });
        tx.commit().await?;
        Ok(true)
    }
}
