use async_trait::async_trait;
use sqlx::PgConnection;

use super::{PgDb, db};
use crate::store::{ApiTokenRecord, ApiTokenStore, StoreResult};

pub(super) async fn insert_token(conn: &mut PgConnection, t: &ApiTokenRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO api_tokens (id, organization_id, environment_id, role, note, token_hash, created_at, expires_at, \
         revoked_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&t.id)
    .bind(&t.organization_id)
    .bind(&t.environment_id)
    .bind(&t.role)
    .bind(&t.note)
    .bind(&t.token_hash)
    .bind(t.created_at)
    .bind(t.expires_at)
    .bind(t.revoked_at)
    .bind(t.last_used_at)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}

#[async_trait]
impl ApiTokenStore for PgDb {
    async fn find_by_hash(&self, token_hash: &[u8]) -> StoreResult<Option<ApiTokenRecord>> {
        sqlx::query_as::<_, ApiTokenRecord>("SELECT * FROM api_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)
    }

    async fn insert(&self, token: &ApiTokenRecord) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        insert_token(&mut conn, token).await
    }

    async fn touch(&self, token_id: &str, at: i64) -> StoreResult<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = GREATEST(COALESCE(last_used_at, 0), $1) WHERE id = $2")
            .bind(at)
            .bind(token_id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }
}
