use async_trait::async_trait;

use super::{PgDb, db, verifications_sql};
use crate::store::{Attempt, StoreResult, VerificationRecord, VerificationStore};

#[async_trait]
impl VerificationStore for PgDb {
    async fn insert(&self, v: &VerificationRecord) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        verifications_sql::insert_verification(&mut conn, v).await
    }

    async fn attempt(
        &self,
        environment_id: &str,
        verification_id: &str,
        max_attempts: i64,
        now: i64,
        code_mac: &[u8],
    ) -> StoreResult<Attempt> {
        // The UPDATE locks the row, so concurrent attempts, from any node,
        // take turns and re-check the limit.
        let mut conn = self.pool.acquire().await.map_err(db)?;
        verifications_sql::attempt(
            &mut conn,
            environment_id,
            verification_id,
            max_attempts,
            now,
            code_mac,
        )
        .await
    }

    async fn prune_expired(&self, now_ms: i64) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        verifications_sql::prune_verifications(&mut conn, now_ms).await
    }
}
