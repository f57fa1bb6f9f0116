use async_trait::async_trait;
use sqlx::{AssertSqlSafe, PgConnection};

use super::{PgDb, db, notify};
use crate::store::sql::{FROM_JOINED, MINUTE_MS, alive};
use crate::store::{
    Change, EnvironmentRecord, EnvironmentStore, Revocation, SigningKeyRecord, StoreError,
    StoreResult,
};

pub(super) async fn insert_key(conn: &mut PgConnection, k: &SigningKeyRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, environment_id, algorithm, private_key_sealed, public_jwk, created_at, retired_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&k.kid)
    .bind(&k.environment_id)
    .bind(&k.algorithm)
    .bind(&k.private_key_sealed)
    .bind(&k.public_jwk)
    .bind(k.created_at)
    .bind(k.retired_at)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}

#[async_trait]
impl EnvironmentStore for PgDb {
    async fn get(&self, environment_id: &str) -> StoreResult<Option<EnvironmentRecord>> {
        sqlx::query_as::<_, EnvironmentRecord>("SELECT * FROM environments WHERE id = $1")
            .bind(environment_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)
    }

    async fn update_settings(
        &self,
        environment_id: &str,
        settings_json: &str,
        new_key: Option<&SigningKeyRecord>,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let updated = sqlx::query("UPDATE environments SET settings_json = $1 WHERE id = $2")
            .bind(settings_json)
            .bind(environment_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if let Some(key) = new_key {
            sqlx::query(
                "UPDATE signing_keys SET retired_at = $1 WHERE environment_id = $2 AND retired_at IS NULL",
            )
            .bind(now)
            .bind(environment_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            insert_key(&mut tx, key).await?;
        }
        notify(
            &mut tx,
            &Change::EnvironmentChanged {
                environment_id: environment_id.to_string(),
            },
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    async fn signing_keys(&self, environment_id: &str) -> StoreResult<Vec<SigningKeyRecord>> {
        sqlx::query_as::<_, SigningKeyRecord>(
            "SELECT * FROM signing_keys WHERE environment_id = $1 \
             ORDER BY (retired_at IS NOT NULL), created_at DESC, kid",
        )
        .bind(environment_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)
    }

    async fn revoke_all_sessions(
        &self,
        environment_id: &str,
        r: &Revocation,
    ) -> StoreResult<(u64, i64)> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        // The row lock orders concurrent environment revocations, from any
        // node, one after the other.
        let current: Option<i64> =
            sqlx::query_scalar("SELECT sessions_epoch FROM environments WHERE id = $1 FOR UPDATE")
                .bind(environment_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
        let epoch = current.ok_or(StoreError::NotFound)? + 1;
        let this_minute = r.at.div_euclid(MINUTE_MS);
        // Exact for the minute under way (some of its sessions have expired),
        // counters for every later minute.
        let this_minute_live: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COUNT(*) {FROM_JOINED} WHERE s.environment_id = $1 AND s.expires_at < $2 AND {}",
            alive("$3")
        )))
        .bind(environment_id)
        .bind((this_minute + 1) * MINUTE_MS)
        .bind(r.at)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let later: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(live), 0) AS BIGINT) FROM session_counts \
             WHERE environment_id = $1 AND expires_minute > $2",
        )
        .bind(environment_id)
        .bind(this_minute)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query("DELETE FROM session_counts WHERE environment_id = $1")
            .bind(environment_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(
            "UPDATE environments SET sessions_epoch = $1, sessions_revoked_at = $2, \
             sessions_revoked_by_kind = $3, sessions_revoked_by_id = $4 WHERE id = $5",
        )
        .bind(epoch)
        .bind(r.at)
        .bind(&r.by_kind)
        .bind(&r.by_id)
        .bind(environment_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        notify(
            &mut tx,
            &Change::EnvironmentRevoked {
                environment_id: environment_id.to_string(),
                epoch,
            },
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(((this_minute_live + later).max(0) as u64, epoch))
    }

    async fn epochs(&self) -> StoreResult<Vec<(String, i64)>> {
        sqlx::query_as("SELECT id, sessions_epoch FROM environments WHERE sessions_epoch > 0")
            .fetch_all(&self.pool)
            .await
            .map_err(db)
    }
}
