//! MFA devices, recovery codes, the wrong-code counter and spent elevated
//! tokens. The conditional updates lock their rows, so nodes take turns.

use async_trait::async_trait;

use super::{PgDb, db, events_sql, mfa_sql};
use crate::store::{
    ChallengeRecord, CodeAttempt, EventRecord, MfaDeviceRecord, MfaStore, RecoveryCodeRecord,
    StoreResult,
};

#[async_trait]
impl MfaStore for PgDb {
    async fn devices(
        &self,
        environment_id: &str,
        user_id: &str,
    ) -> StoreResult<Vec<MfaDeviceRecord>> {
        mfa_sql::mfa_devices(&self.pool, environment_id, user_id).await
    }

    async fn insert_device(
        &self,
        device: &MfaDeviceRecord,
        event: Option<&EventRecord>,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        mfa_sql::insert_mfa_device(&mut tx, device).await?;
        if let Some(event) = event {
            events_sql::insert_event(&mut tx, event).await?;
        }
        tx.commit().await
    }

    async fn confirm_device(
        &self,
        device_id: &str,
        now_ms: i64,
        step: i64,
        event: &EventRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let confirmed = mfa_sql::confirm_mfa_device(&mut tx, device_id, now_ms, step).await?;
        if confirmed {
            events_sql::insert_event(&mut tx, event).await?;
            tx.commit().await?;
        }
        Ok(confirmed)
    }

    async fn use_step(&self, device_id: &str, step: i64, now_ms: i64) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        mfa_sql::use_mfa_step(&mut conn, device_id, step, now_ms).await
    }

    async fn delete_device(
        &self,
        environment_id: &str,
        user_id: &str,
        device_id: &str,
        event: &EventRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let deleted =
            mfa_sql::delete_mfa_device(&mut tx, environment_id, user_id, device_id).await?;
        if deleted {
            events_sql::insert_event(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }

    async fn reset(
        &self,
        environment_id: &str,
        user_id: &str,
        event: &EventRecord,
    ) -> StoreResult<u64> {
        let mut tx = self.write().await?;
        let removed = mfa_sql::reset_mfa(&mut tx, environment_id, user_id).await?;
        if removed > 0 {
            events_sql::insert_event(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(removed)
    }

    async fn replace_recovery_codes(
        &self,
        environment_id: &str,
        user_id: &str,
        codes: &[(String, Vec<u8>)],
        now_ms: i64,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        mfa_sql::replace_recovery_codes(&mut tx, environment_id, user_id, codes, now_ms).await?;
        tx.commit().await
    }

    async fn unused_recovery_codes(
        &self,
        environment_id: &str,
        user_id: &str,
    ) -> StoreResult<Vec<RecoveryCodeRecord>> {
        mfa_sql::unused_recovery_codes(&self.pool, environment_id, user_id).await
    }

    async fn use_recovery_code(&self, code_id: &str, now_ms: i64) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        mfa_sql::use_recovery_code(&mut conn, code_id, now_ms).await
    }

    async fn spend_code_attempt(
        &self,
        user_id: &str,
        now_ms: i64,
        window_ms: i64,
        max: i64,
        longest_ms: i64,
    ) -> StoreResult<CodeAttempt> {
        let mut tx = self.write().await?;
        let attempt =
            mfa_sql::spend_code_attempt(&mut tx, user_id, now_ms, window_ms, max, longest_ms)
                .await?;
        tx.commit().await?;
        Ok(attempt)
    }

    async fn clear_code_attempts(&self, user_id: &str) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        mfa_sql::clear_code_attempts(&mut conn, user_id).await
    }

    async fn spend_elevated_token(&self, jti: &str, expires_at_ms: i64) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        mfa_sql::spend_elevated_token(&mut conn, jti, expires_at_ms).await
    }

    async fn elevated_token_spent(&self, jti: &str) -> StoreResult<bool> {
        mfa_sql::elevated_token_spent(&self.pool, jti).await
    }

    async fn prune_expired(&self, now_ms: i64) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        mfa_sql::prune_mfa(&mut conn, now_ms).await
    }

    async fn insert_challenge(&self, challenge: &ChallengeRecord) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        mfa_sql::insert_challenge(&mut conn, challenge).await
    }

    async fn take_challenge(
        &self,
        environment_id: &str,
        challenge_id: &str,
        session_id: &str,
        purpose: &str,
        now_ms: i64,
    ) -> StoreResult<Option<String>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        mfa_sql::take_challenge(
            &mut conn,
            environment_id,
            challenge_id,
            session_id,
            purpose,
            now_ms,
        )
        .await
    }

    async fn update_credential(
        &self,
        device_id: &str,
        credential: &str,
        now_ms: i64,
    ) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        mfa_sql::update_credential(&mut conn, device_id, credential, now_ms).await
    }
}
