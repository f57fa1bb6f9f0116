//! MFA devices, recovery codes, the wrong-code counter and spent elevated
//! tokens: reads on the pool, writes through the writer.

use async_trait::async_trait;

use super::{SqliteDb, events_sql, mfa_sql};
use crate::store::{
    ChallengeRecord, CodeAttempt, EventRecord, MfaDeviceRecord, MfaStore, RecoveryCodeRecord,
    StoreResult,
};

#[async_trait]
impl MfaStore for SqliteDb {
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
        let (device, event) = (device.clone(), event.cloned());
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    mfa_sql::insert_mfa_device(&mut *c, &device).await?;
                    match &event {
                        Some(event) => events_sql::insert_event(c, event).await,
                        None => Ok(()),
                    }
                })
            })
            .await
    }

    async fn confirm_device(
        &self,
        device_id: &str,
        now_ms: i64,
        step: i64,
        event: &EventRecord,
    ) -> StoreResult<bool> {
        let (device_id, event) = (device_id.to_string(), event.clone());
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    let confirmed =
                        mfa_sql::confirm_mfa_device(&mut *c, &device_id, now_ms, step).await?;
                    if confirmed {
                        events_sql::insert_event(c, &event).await?;
                    }
                    Ok(confirmed)
                })
            })
            .await
    }

    async fn use_step(&self, device_id: &str, step: i64, now_ms: i64) -> StoreResult<bool> {
        let device_id = device_id.to_string();
        self.writer
            .statement(move |c| {
                Box::pin(async move { mfa_sql::use_mfa_step(c, &device_id, step, now_ms).await })
            })
            .await
    }

    async fn delete_device(
        &self,
        environment_id: &str,
        user_id: &str,
        device_id: &str,
        event: &EventRecord,
    ) -> StoreResult<bool> {
        let (env, user, device, event) = (
            environment_id.to_string(),
            user_id.to_string(),
            device_id.to_string(),
            event.clone(),
        );
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    let deleted = mfa_sql::delete_mfa_device(&mut *c, &env, &user, &device).await?;
                    if deleted {
                        events_sql::insert_event(c, &event).await?;
                    }
                    Ok(deleted)
                })
            })
            .await
    }

    async fn reset(
        &self,
        environment_id: &str,
        user_id: &str,
        event: &EventRecord,
    ) -> StoreResult<u64> {
        let (env, user, event) = (
            environment_id.to_string(),
            user_id.to_string(),
            event.clone(),
        );
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    let removed = mfa_sql::reset_mfa(&mut *c, &env, &user).await?;
                    if removed > 0 {
                        events_sql::insert_event(c, &event).await?;
                    }
                    Ok(removed)
                })
            })
            .await
    }

    async fn replace_recovery_codes(
        &self,
        environment_id: &str,
        user_id: &str,
        codes: &[(String, Vec<u8>)],
        now_ms: i64,
    ) -> StoreResult<()> {
        let (env, user, codes) = (
            environment_id.to_string(),
            user_id.to_string(),
            codes.to_vec(),
        );
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    mfa_sql::replace_recovery_codes(c, &env, &user, &codes, now_ms).await
                })
            })
            .await
    }

    async fn unused_recovery_codes(
        &self,
        environment_id: &str,
        user_id: &str,
    ) -> StoreResult<Vec<RecoveryCodeRecord>> {
        mfa_sql::unused_recovery_codes(&self.pool, environment_id, user_id).await
    }

    async fn use_recovery_code(&self, code_id: &str, now_ms: i64) -> StoreResult<bool> {
        let code_id = code_id.to_string();
        self.writer
            .statement(move |c| {
                Box::pin(async move { mfa_sql::use_recovery_code(c, &code_id, now_ms).await })
            })
            .await
    }

    async fn spend_code_attempt(
        &self,
        user_id: &str,
        now_ms: i64,
        window_ms: i64,
        max: i64,
        longest_ms: i64,
    ) -> StoreResult<CodeAttempt> {
        let user_id = user_id.to_string();
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    mfa_sql::spend_code_attempt(c, &user_id, now_ms, window_ms, max, longest_ms)
                        .await
                })
            })
            .await
    }

    async fn clear_code_attempts(&self, user_id: &str) -> StoreResult<()> {
        let user_id = user_id.to_string();
        self.writer
            .statement(move |c| {
                Box::pin(async move { mfa_sql::clear_code_attempts(c, &user_id).await })
            })
            .await
    }

    async fn spend_elevated_token(&self, jti: &str, expires_at_ms: i64) -> StoreResult<bool> {
        let jti = jti.to_string();
        self.writer
            .statement(move |c| {
                Box::pin(async move { mfa_sql::spend_elevated_token(c, &jti, expires_at_ms).await })
            })
            .await
    }

    async fn elevated_token_spent(&self, jti: &str) -> StoreResult<bool> {
        mfa_sql::elevated_token_spent(&self.pool, jti).await
    }

    async fn prune_expired(&self, now_ms: i64) -> StoreResult<()> {
        self.writer
            .statement(move |c| Box::pin(async move { mfa_sql::prune_mfa(c, now_ms).await }))
            .await
    }

    async fn insert_challenge(&self, challenge: &ChallengeRecord) -> StoreResult<()> {
        let challenge = challenge.clone();
        self.writer
            .statement(move |c| {
                Box::pin(async move { mfa_sql::insert_challenge(c, &challenge).await })
            })
            .await
    }

    async fn take_challenge(
        &self,
        environment_id: &str,
        challenge_id: &str,
        session_id: &str,
        purpose: &str,
        now_ms: i64,
    ) -> StoreResult<Option<String>> {
        let (env, id, sid, purpose) = (
            environment_id.to_string(),
            challenge_id.to_string(),
            session_id.to_string(),
            purpose.to_string(),
        );
        self.writer
            .statement(move |c| {
                Box::pin(async move {
                    mfa_sql::take_challenge(c, &env, &id, &sid, &purpose, now_ms).await
                })
            })
            .await
    }

    async fn update_credential(
        &self,
        device_id: &str,
        credential: &str,
        now_ms: i64,
    ) -> StoreResult<()> {
        let (id, credential) = (device_id.to_string(), credential.to_string());
        self.writer
            .statement(move |c| {
                Box::pin(
                    async move { mfa_sql::update_credential(c, &id, &credential, now_ms).await },
                )
            })
            .await
    }
}
