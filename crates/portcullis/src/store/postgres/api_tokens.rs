use async_trait::async_trait;

use super::{PgDb, db, queries};
use crate::store::{ApiTokenRecord, ApiTokenStore, StoreResult};

#[async_trait]
impl ApiTokenStore for PgDb {
    async fn find_by_hash(&self, token_hash: &[u8]) -> StoreResult<Option<ApiTokenRecord>> {
        queries::find_token_by_hash(&self.pool, token_hash).await
    }

    async fn insert(&self, token: &ApiTokenRecord) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        queries::insert_token(&mut conn, token).await
    }

    async fn touch(&self, token_id: &str, at: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = GREATEST(COALESCE(last_used_at, 0), $1) WHERE id = $2",
        )
        .bind(at)
        .bind(token_id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }
}
