//! Background work claimed by one node at a time: the claiming read skips
//! a job row another node holds (`FOR UPDATE SKIP LOCKED`).

use async_trait::async_trait;

use super::{PgDb, db, jobs_sql};
use crate::store::{JobStore, StoreResult};

#[async_trait]
impl JobStore for PgDb {
    async fn claim(&self, name: &str, node: &str, now_ms: i64, every_ms: i64) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        jobs_sql::add_job(&mut conn, name).await?;
        let mut tx = self.write().await?;
        let claimed = jobs_sql::claim_job(&mut tx, name, node, now_ms, every_ms).await?;
        tx.commit().await?;
        Ok(claimed)
    }
}
