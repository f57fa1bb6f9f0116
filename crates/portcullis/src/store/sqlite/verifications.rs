use async_trait::async_trait;

use super::{SqliteDb, db, queries};
use crate::crypto;
use crate::store::{Attempt, StoreResult, VerificationRecord, VerificationStore};

#[async_trait]
impl VerificationStore for SqliteDb {
    async fn insert(&self, v: &VerificationRecord) -> StoreResult<()> {
        let v = v.clone();
        self.writer
            .statement(move |c| Box::pin(async move { queries::insert_verification(c, &v).await }))
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
        let environment_id = environment_id.to_string();
        let verification_id = verification_id.to_string();
        let code_mac = code_mac.to_vec();
        // Two statements in one job: the attempt stays spent whatever
        // happens to the second, as it should. "Newest" is rowid order.
        self.writer
            .statement(move |c| {
                Box::pin(async move {
                    let Some(verification) = sqlx::query_as::<_, VerificationRecord>(
                        "UPDATE verifications SET attempts = attempts + 1 \
                         WHERE id = $1 AND environment_id = $2 AND consumed_at IS NULL \
                         AND attempts < $3 AND expires_at > $4 \
                         AND NOT EXISTS (SELECT 1 FROM verifications newer \
                             WHERE newer.environment_id = verifications.environment_id \
                               AND newer.channel = verifications.channel \
                               AND newer.destination = verifications.destination \
                               AND newer.rowid > verifications.rowid) \
                         RETURNING *",
                    )
                    .bind(&verification_id)
                    .bind(&environment_id)
                    .bind(max_attempts)
                    .bind(now)
                    .fetch_optional(&mut *c)
                    .await
                    .map_err(db)?
                    else {
                        return Ok(Attempt::Refused);
                    };
                    if !crypto::constant_time_eq(&code_mac, &verification.code_mac) {
                        return Ok(Attempt::Wrong(verification));
                    }
                    Ok(
                        if queries::consume_verification(c, &verification_id, now).await? {
                            Attempt::Accepted(verification)
                        } else {
                            Attempt::Wrong(verification)
                        },
                    )
                })
            })
            .await
    }

    async fn prune_expired(&self, now_ms: i64) -> StoreResult<()> {
        self.writer
            .statement(move |c| {
                Box::pin(async move { queries::prune_verifications(c, now_ms).await })
            })
            .await
    }
}
