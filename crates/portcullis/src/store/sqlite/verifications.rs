use async_trait::async_trait;

use super::{SqliteDb, verifications_sql};
use crate::store::{Attempt, StoreResult, VerificationRecord, VerificationStore};

#[async_trait]
impl VerificationStore for SqliteDb {
    async fn insert(&self, v: &VerificationRecord) -> StoreResult<()> {
        let v = v.clone();
        self.writer
            .statement(move |c| {
                Box::pin(async move { verifications_sql::insert_verification(c, &v).await })
            })
            .await
    }

    async fn attempt(
        &self,
        environment_id: &str,
        verification_id: &str,
        max_attempts: i64,
        now: i64,
        code_mac: &[u8],
    ) -> StoreResult<Attempt> {
        let (environment_id, verification_id) =
            (environment_id.to_string(), verification_id.to_string());
        let code_mac = code_mac.to_vec();
        self.writer
            .statement(move |c| {
                Box::pin(async move {
                    verifications_sql::attempt(
                        c,
                        &environment_id,
                        &verification_id,
                        max_attempts,
                        now,
                        &code_mac,
                    )
                    .await
                })
            })
            .await
    }

    async fn prune_expired(&self, now_ms: i64) -> StoreResult<()> {
        self.writer
            .statement(move |c| {
                Box::pin(async move { verifications_sql::prune_verifications(c, now_ms).await })
            })
            .await
    }
}
