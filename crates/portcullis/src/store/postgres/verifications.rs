use async_trait::async_trait;

use super::{PgDb, db, queries};
use crate::crypto;
use crate::store::{Attempt, StoreResult, VerificationRecord, VerificationStore};

#[async_trait]
impl VerificationStore for PgDb {
    async fn insert(&self, v: &VerificationRecord) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        queries::insert_verification(&mut conn, v).await
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
        // take turns and re-check the limit. Each statement commits on its
        // own: the attempt stays spent whatever happens next.
        let Some(verification) = sqlx::query_as::<_, VerificationRecord>(
            "UPDATE verifications SET attempts = attempts + 1 \
             WHERE id = $1 AND environment_id = $2 AND consumed_at IS NULL AND attempts < $3 AND expires_at > $4 \
             AND NOT EXISTS (SELECT 1 FROM verifications newer \
                 WHERE newer.environment_id = verifications.environment_id \
                   AND newer.channel = verifications.channel \
                   AND newer.destination = verifications.destination \
                   AND newer.seq > verifications.seq) \
             RETURNING id, environment_id, channel, destination, code_mac, attempts, created_at, expires_at, consumed_at",
        )
        .bind(verification_id)
        .bind(environment_id)
        .bind(max_attempts)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        else {
            return Ok(Attempt::Refused);
        };
        if !crypto::constant_time_eq(code_mac, &verification.code_mac) {
            return Ok(Attempt::Wrong(verification));
        }
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let used = queries::consume_verification(&mut conn, verification_id, now).await?;
        Ok(if used {
            Attempt::Accepted(verification)
        } else {
            Attempt::Wrong(verification)
        })
    }

    async fn prune_expired(&self, now_ms: i64) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        queries::prune_verifications(&mut conn, now_ms).await
    }
}
