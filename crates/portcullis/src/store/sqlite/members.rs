//! Organization members: reads on the pool, writes through the writer.

use async_trait::async_trait;

use super::{SqliteDb, queries};
use crate::store::{MemberChanges, MemberRecord, MemberStore, StoreResult};

#[async_trait]
impl MemberStore for SqliteDb {
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
        let member = member.clone();
        self.writer
            .transaction(move |c| Box::pin(async move { queries::insert_member(c, &member).await }))
            .await
    }

    async fn update(
        &self,
        organization_id: &str,
        member_id: &str,
        expected_role: &str,
        changes: &MemberChanges,
        at: i64,
    ) -> StoreResult<Option<MemberRecord>> {
        let (organization_id, member_id, expected_role, changes) = (
            organization_id.to_string(),
            member_id.to_string(),
            expected_role.to_string(),
            changes.clone(),
        );
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    queries::update_member(
                        c,
                        &organization_id,
                        &member_id,
                        &expected_role,
                        &changes,
                        at,
                    )
                    .await
                })
            })
            .await
    }

    async fn transfer_ownership(
        &self,
        organization_id: &str,
        member_id: &str,
        at: i64,
    ) -> StoreResult<bool> {
        let (organization_id, member_id) = (organization_id.to_string(), member_id.to_string());
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    queries::transfer_ownership(c, &organization_id, &member_id, at).await
                })
            })
            .await
    }

    async fn delete(
        &self,
        organization_id: &str,
        member_id: &str,
        expected_role: &str,
    ) -> StoreResult<bool> {
        let (organization_id, member_id, expected_role) = (
            organization_id.to_string(),
            member_id.to_string(),
            expected_role.to_string(),
        );
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    queries::delete_member(c, &organization_id, &member_id, &expected_role).await
                })
            })
            .await
    }
}
