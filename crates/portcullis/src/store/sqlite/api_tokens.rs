use async_trait::async_trait;

use super::{SqliteDb, api_tokens_sql};
use crate::store::{ApiTokenRecord, ApiTokenStore, EventRecord, StoreResult, TokenRotation};

#[async_trait]
impl ApiTokenStore for SqliteDb {
    async fn find_by_hash(&self, token_hash: &[u8]) -> StoreResult<Option<ApiTokenRecord>> {
        api_tokens_sql::find_token_by_hash(&self.pool, token_hash).await
    }

    async fn insert(&self, token: &ApiTokenRecord, events: &[EventRecord]) -> StoreResult<()> {
        let (token, events) = (token.clone(), events.to_vec());
        self.writer
            .transaction(move |c| {
                Box::pin(
                    async move { api_tokens_sql::insert_token_recorded(c, &token, &events).await },
                )
            })
            .await
    }

    async fn touch(&self, token_id: &str, at: i64) -> StoreResult<()> {
        let token_id = token_id.to_string();
        self.writer
            .statement(move |c| {
                Box::pin(async move { api_tokens_sql::touch_token(c, &token_id, at).await })
            })
            .await
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
        let (organization_id, token_id, events) = (
            organization_id.to_string(),
            token_id.to_string(),
            events.to_vec(),
        );
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    api_tokens_sql::revoke_token(c, &organization_id, &token_id, at, &events).await
                })
            })
            .await
    }

    async fn rotate(
        &self,
        organization_id: &str,
        token_id: &str,
        rotation: &TokenRotation,
        events: &[EventRecord],
    ) -> StoreResult<bool> {
        let (organization_id, token_id, rotation, events) = (
            organization_id.to_string(),
            token_id.to_string(),
            rotation.clone(),
            events.to_vec(),
        );
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    api_tokens_sql::rotate_token(c, &organization_id, &token_id, &rotation, &events)
                        .await
                })
            })
            .await
    }
}
