use async_trait::async_trait;

use super::{SqliteDb, db, queries};
use crate::store::{ApiTokenRecord, ApiTokenStore, StoreResult};

#[async_trait]
impl ApiTokenStore for SqliteDb {
    async fn find_by_hash(&self, token_hash: &[u8]) -> StoreResult<Option<ApiTokenRecord>> {
        queries::find_token_by_hash(&self.pool, token_hash).await
    }

    async fn insert(&self, token: &ApiTokenRecord) -> StoreResult<()> {
        let token = token.clone();
        self.writer
            .statement(move |c| Box::pin(async move { queries::insert_token(c, &token).await }))
            .await
    }

    async fn touch(&self, token_id: &str, at: i64) -> StoreResult<()> {
        let token_id = token_id.to_string();
        self.writer
            .statement(move |c| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE api_tokens SET last_used_at = MAX(COALESCE(last_used_at, 0), $1) WHERE id = $2",
                    )
                    .bind(at)
                    .bind(&token_id)
                    .execute(c)
                    .await
                    .map_err(db)?;
                    Ok(())
                })
            })
            .await
    }
}
