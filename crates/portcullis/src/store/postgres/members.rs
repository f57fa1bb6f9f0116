//! Organization members. The ownership transfer locks the organization's
//! owner row first, so two transfers run one after the other.

use async_trait::async_trait;

use super::{PgDb, db, queries};
use crate::store::{MemberChanges, MemberRecord, MemberStore, StoreResult};

#[async_trait]
impl MemberStore for PgDb {
    async fn list(&self, organization_id: &str) -> StoreResult<Vec<MemberRecord>> {
        queries::members(&self.pool, organization_id).await
    }

    async fn get(
        &self,
        organization_id: &str,
        member_id: &str,
    ) -> StoreResult<Option<MemberRecord>> {
        queries::member(&self.pool, organization_id, member_id).await
    }

    async fn insert(&self, member: &MemberRecord) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        queries::insert_member(&mut conn, member).await
    }

    async fn update(
        &self,
        organization_id: &str,
        member_id: &str,
        expected_role: &str,
        changes: &MemberChanges,
        at: i64,
    ) -> StoreResult<Option<MemberRecord>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        queries::update_member(
            &mut conn,
            organization_id,
            member_id,
            expected_role,
            changes,
            at,
        )
        .await
    }

    async fn transfer_ownership(
        &self,
        organization_id: &str,
        member_id: &str,
        at: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query(
            "SELECT id FROM members WHERE organization_id = $1 AND role = 'owner' FOR UPDATE",
        )
        .bind(organization_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let moved = queries::transfer_ownership(&mut tx, organization_id, member_id, at).await?;
        tx.commit().await.map_err(db)?;
        Ok(moved)
    }

    async fn delete(
        &self,
        organization_id: &str,
        member_id: &str,
        expected_role: &str,
    ) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        queries::delete_member(&mut conn, organization_id, member_id, expected_role).await
    }
}
