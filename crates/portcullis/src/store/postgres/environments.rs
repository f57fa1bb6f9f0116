use async_trait::async_trait;

use super::{PgDb, environments_sql, events_sql, sessions_sql};
use crate::store::{
    Change, EnvironmentRecord, EnvironmentStore, EventRecord, Revocation, SigningKeyRecord,
    StoreResult,
};

#[async_trait]
impl EnvironmentStore for PgDb {
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
        let mut tx = self.write().await?;
        environments_sql::update_settings(&mut tx, environment_id, settings_json, new_key, now)
            .await?;
        events_sql::insert_event(&mut tx, event).await?;
        let environment_id = environment_id.to_string();
        tx.publish(Change::EnvironmentChanged { environment_id });
        tx.commit().await
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
        let mut tx = self.write().await?;
        let (count, epoch) =
            sessions_sql::revoke_environment_recorded(&mut tx, environment_id, r, event).await?;
        let environment_id = environment_id.to_string();
        tx.publish(Change::EnvironmentRevoked {
            environment_id,
            epoch,
        });
        tx.commit().await?;
        Ok((count, epoch))
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
        let mut tx = self.write().await?;
        if !environments_sql::set_locked(&mut tx, environment_id, locked, event).await? {
            return Ok(false);
        }
        let environment_id = environment_id.to_string();
        tx.publish(Change::EnvironmentChanged { environment_id });
        tx.commit().await?;
        Ok(true)
    }

    async fn lock_states(&self) -> StoreResult<Vec<(String, bool)>> {
        environments_sql::lock_states(&self.pool).await
    }

    async fn in_organization(&self, organization_id: &str) -> StoreResult<Vec<EnvironmentRecord>> {
        environments_sql::environments_of(&self.pool, organization_id).await
    }
}
