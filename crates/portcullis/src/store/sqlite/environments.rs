use async_trait::async_trait;
use sqlx::{Sqlite, Transaction};

use super::{SqliteDb, db};
use crate::store::{EnvironmentRecord, EnvironmentStore, SigningKeyRecord, StoreError, StoreResult, Watermark};

pub(super) async fn insert_key(tx: &mut Transaction<'_, Sqlite>, k: &SigningKeyRecord) -> StoreResult<()> {
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
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(())
}

/// Counts the sessions a new watermark newly covers: alive, not revoked one
/// by one, not already under an older watermark. `extra` narrows it (a user).
pub(super) const COUNT_NEWLY_REVOKED: &str = "SELECT COUNT(*) FROM sessions s \
     JOIN users u ON u.id = s.user_id JOIN environments e ON e.id = s.environment_id \
     WHERE s.environment_id = $1 AND s.expires_at > $2 AND s.revoked_at IS NULL \
       AND s.iat < $3 \
       AND s.iat >= COALESCE(u.sessions_revoked_before, 0) \
       AND s.iat >= COALESCE(e.sessions_revoked_before, 0)";

#[async_trait]
impl EnvironmentStore for SqliteDb {
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
            sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE environment_id = $2 AND retired_at IS NULL")
                .bind(now)
                .bind(environment_id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            insert_key(&mut tx, key).await?;
        }
        tx.commit().await.map_err(db)
    }

    async fn signing_keys(&self, environment_id: &str) -> StoreResult<Vec<SigningKeyRecord>> {
        sqlx::query_as::<_, SigningKeyRecord>(
            "SELECT * FROM signing_keys WHERE environment_id = $1 ORDER BY created_at DESC, kid",
        )
        .bind(environment_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)
    }

    async fn revoke_all_sessions(&self, environment_id: &str, w: &Watermark) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let count: i64 = sqlx::query_scalar(COUNT_NEWLY_REVOKED)
            .bind(environment_id)
            .bind(w.revocation.at)
            .bind(w.before)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let updated = sqlx::query(
            "UPDATE environments SET sessions_revoked_before = MAX(COALESCE(sessions_revoked_before, 0), $1), \
             sessions_revoked_at = $2, sessions_revoked_by_kind = $3, sessions_revoked_by_id = $4 WHERE id = $5",
        )
        .bind(w.before)
        .bind(w.revocation.at)
        .bind(&w.revocation.by_kind)
        .bind(&w.revocation.by_id)
        .bind(environment_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(db)?;
        Ok(count.max(0) as u64)
    }

    async fn watermarks(&self) -> StoreResult<Vec<(String, i64)>> {
        sqlx::query_as("SELECT id, sessions_revoked_before FROM environments WHERE sessions_revoked_before IS NOT NULL")
            .fetch_all(&self.pool)
            .await
            .map_err(db)
    }
}
