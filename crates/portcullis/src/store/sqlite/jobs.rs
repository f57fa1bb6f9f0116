//! Background work: one process owns an embedded database, so every claim
//! of a due job succeeds; the writer orders them.

use async_trait::async_trait;

use super::{SqliteDb, jobs_sql};
use crate::store::{JobStore, StoreResult};

#[async_trait]
impl JobStore for SqliteDb {
    async fn claim(&self, name: &str, node: &str, now_ms: i64, every_ms: i64) -> StoreResult<bool> {
        let (name, node) = (name.to_string(), node.to_string());
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    jobs_sql::add_job(c, &name).await?;
                    jobs_sql::claim_job(c, &name, &node, now_ms, every_ms).await
                })
            })
            .await
    }
}
