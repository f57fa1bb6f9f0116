//! Organization members. The ownership transfer locks the organization's
//! owner row first, so two transfers run one after the other.

use async_trait::async_trait;

use super::{PgDb, db, members_sql};
use crate::domain::roles::Role;
use crate::store::{EventRecord, MemberChanges, MemberRecord, MemberStore, StoreResult};

#[async_trait]
impl MemberStore for PgDb {
    async fn list(&self, organization_id: &str) -> StoreResult<Vec<MemberRecord>> {
        members_sql::members(&self.pool, organization_id).await
    }

    async fn get(
        &self,
        organization_id: &str,
        member_id: &str,
    ) -> StoreResult<Option<MemberRecord>> {
        members_sql::member(&self.pool, organization_id, member_id).await
    }

    async fn ids_with_totp(&self, organization_id: &str) -> StoreResult<Vec<String>> {
        members_sql::member_ids_with_totp(&self.pool, organization_id).await
    }

    async fn insert(&self, member: &MemberRecord, events: &[EventRecord]) -> StoreResult<()> {
        let mut tx = self.write().await?;
        members_sql::insert_member_recorded(&mut tx, member, events).await?;
        tx.commit().await
    }

    async fn update(
        &self,
        organization_id: &str,
        member_id: &str,
        expected_role: Role,
        changes: &MemberChanges,
        at: i64,
        events: &[EventRecord],
    ) -> StoreResult<Option<MemberRecord>> {
        let mut tx = self.write().await?;
        let updated = members_sql::update_member_recorded(
            &mut tx,
            organization_id,
            member_id,
            expected_role,
            changes,
            at,
            events,
        )
        .await?;
        tx.commit().await?;
        Ok(updated)
    }

    async fn transfer_ownership(
        &self,
        organization_id: &str,
        member_id: &str,
        expected_role: Role,
        changes: &MemberChanges,
        at: i64,
        events: &[EventRecord],
    ) -> StoreResult<Option<MemberRecord>> {
        let mut tx = self.write().await?;
        sqlx::query(
            "SELECT id FROM members WHERE organization_id = $1 AND role = 'owner' FOR UPDATE",
        )
        .bind(organization_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let moved = members_sql::transfer_ownership(
            &mut tx,
            organization_id,
            member_id,
            expected_role,
            changes,
            at,
            events,
        )
        .await?;
        tx.commit().await?;
        Ok(moved)
    }

    async fn delete(
        &self,
        organization_id: &str,
        member_id: &str,
        expected_role: Role,
        events: &[EventRecord],
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let deleted =
            members_sql::delete_member(&mut tx, organization_id, member_id, expected_role, events)
                .await?;
        tx.commit().await?;
        Ok(deleted)
    }
}
