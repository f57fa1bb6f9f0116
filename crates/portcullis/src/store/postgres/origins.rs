//! Allowed origins. Each change notifies the other nodes in its own
//! transaction, so they drop their cached list when it commits.

use async_trait::async_trait;

use super::changes::notify;
use super::{PgDb, db, events_sql, origins_sql};
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
        let mut tx = self.pool.begin().await.map_err(db)?;
        if !origins_sql::add_origin(&mut tx, origin, limit).await? {
            return Ok(false);
        }
        events_sql::insert_event(&mut tx, event).await?;
        let environment_id = origin.environment_id.clone();
        notify(&mut tx, &Change::EnvironmentChanged { environment_id }).await?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn delete(
        &self,
        environment_id: &str,
        origin_id: &str,
        event: &EventRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        if !origins_sql::delete_origin(&mut tx, environment_id, origin_id).await? {
            return Ok(false);
        }
        events_sql::insert_event(&mut tx, event).await?;
        let environment_id = environment_id.to_string();
        notify(&mut tx, &Change::EnvironmentChanged { environment_id }).await?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }
}
