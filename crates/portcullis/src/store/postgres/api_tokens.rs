use async_trait::async_trait;

use super::{PgDb, api_tokens_sql, db};
use crate::store::{ApiTokenRecord, ApiTokenStore, EventRecord, StoreResult, TokenRotation};

#[async_trait]
impl ApiTokenStore for PgDb {
    async fn find_by_hash(&self, token_hash: &[u8]) -> StoreResult<Option<ApiTokenRecord>> {
        api_tokens_sql::find_token_by_hash(&self.pool, token_hash).await
    }

    async fn insert(&self, token: &ApiTokenRecord, events: &[EventRecord]) -> StoreResult<()> {
        let mut tx = self.write().await?;
        api_tokens_sql::insert_token_recorded(&mut tx, token, events).await?;
        tx.commit().await
    }

    async fn touch(&self, token_id: &str, at: i64) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        api_tokens_sql::touch_token(&mut conn, token_id, at).await
    }

    async fn list(
        &self,
        organization_id: &str,
        environment_id: Option<&str>,
    ) -> StoreResult<Vec<ApiTokenRecord>> {
        api_tokens_sql::tokens(&self.pool, organization_id, environment_id).await
    }

    async fn get(
        &self,
        organization_id: &str,
        token_id: &str,
    ) -> StoreResult<Option<ApiTokenRecord>> {
        api_tokens_sql::token(&self.pool, organization_id, token_id).await
    }

    async fn revoke(
        &self,
        organization_id: &str,
        token_id: &str,
        at: i64,
        events: &[EventRecord],
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let revoked =
            api_tokens_sql::revoke_token(&mut tx, organization_id, token_id, at, events).await?;
        tx.commit().await?;
        Ok(revoked)
    }

    async fn rotate(
        &self,
        organization_id: &str,
        token_id: &str,
        rotation: &TokenRotation,
        events: &[EventRecord],
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let rotated =
            api_tokens_sql::rotate_token(&mut tx, organization_id, token_id, rotation, events)
                .await?;
        tx.commit().await?;
        Ok(rotated)
    }
}
