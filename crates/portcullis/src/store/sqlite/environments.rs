use async_trait::async_trait;

use super::{SqliteDb, environments_sql, events_sql, sessions_sql};
use crate::store::{
    EnvironmentRecord, EnvironmentStore, EventRecord, Revocation, SigningKeyRecord, StoreResult,
};

#[async_trait]
impl EnvironmentStore for SqliteDb {
    async fn get(&self, environment_id: &str) -> StoreResult<Option<EnvironmentRecord>> {
        environments_sql::environment(&self.pool, environment_id).await
    }

    async fn update_settings(
        &self,
        environment_id: &str,
        settings_json: &str,
        new_key: Option<&SigningKeyRecord>,
        now: i64,
        event: &EventRecord,
    ) -> StoreResult<()> {
        let (environment_id, settings_json) =
            (environment_id.to_string(), settings_json.to_string());
        let (new_key, event) = (new_key.cloned(), event.clone());
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    environments_sql::update_settings(
                        c,
                        &environment_id,
                        &settings_json,
                        new_key.as_ref(),
                        now,
                    )
                    .await?;
                    events_sql::insert_event(c, &event).await
                })
            })
            .await
    }

    async fn signing_keys(&self, environment_id: &str) -> StoreResult<Vec<SigningKeyRecord>> {
        environments_sql::signing_keys(&self.pool, environment_id).await
    }

    async fn revoke_all_sessions(
        &self,
        environment_id: &str,
        r: &Revocation,
        event: &EventRecord,
    ) -> StoreResult<(u64, i64)> {
        let (environment_id, r, event) = (environment_id.to_string(), r.clone(), event.clone());
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    sessions_sql::revoke_environment_recorded(c, &environment_id, &r, &event).await
                })
            })
            .await
    }

    async fn epochs(&self) -> StoreResult<Vec<(String, i64)>> {
        environments_sql::environment_epochs(&self.pool).await
    }

    async fn set_locked(
        &self,
        environment_id: &str,
        locked: bool,
        event: &EventRecord,
    ) -> StoreResult<bool> {
        let (environment_id, event) = (environment_id.to_string(), event.clone());
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    environments_sql::set_locked(c, &environment_id, locked, &event).await
                })
            })
            .await
    }

    async fn lock_states(&self) -> StoreResult<Vec<(String, bool)>> {
        environments_sql::lock_states(&self.pool).await
    }

    async fn in_organization(&self, organization_id: &str) -> StoreResult<Vec<EnvironmentRecord>> {
        environments_sql::environments_of(&self.pool, organization_id).await
    }
}
