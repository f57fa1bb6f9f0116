//! Organization members: reads on the pool, writes through the writer.

use async_trait::async_trait;

use super::{SqliteDb, members_sql};
use crate::domain::roles::Role;
use crate::store::{EventRecord, MemberChanges, MemberRecord, MemberStore, StoreResult};

#[async_trait]
impl MemberStore for SqliteDb {
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
        let (member, events) = (member.clone(), events.to_vec());
        self.writer
            .transaction(move |c| {
                Box::pin(
                    async move { members_sql::insert_member_recorded(c, &member, &events).await },
                )
            })
            .await
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
        let (org, id, role) = (
            organization_id.to_string(),
            member_id.to_string(),
            expected_role,
        );
        let (changes, events) = (changes.clone(), events.to_vec());
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    members_sql::update_member_recorded(c, &org, &id, role, &changes, at, &events)
                        .await
                })
            })
            .await
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
        let (org, id, role) = (
            organization_id.to_string(),
            member_id.to_string(),
            expected_role,
        );
        let (changes, events) = (changes.clone(), events.to_vec());
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    members_sql::transfer_ownership(c, &org, &id, role, &changes, at, &events).await
                })
            })
            .await
    }

    async fn delete(
        &self,
        organization_id: &str,
        member_id: &str,
        expected_role: Role,
        events: &[EventRecord],
    ) -> StoreResult<bool> {
        let (org, id, role) = (
            organization_id.to_string(),
            member_id.to_string(),
            expected_role,
        );
        let events = events.to_vec();
        self.writer
            .transaction(move |c| {
                Box::pin(
                    async move { members_sql::delete_member(c, &org, &id, role, &events).await },
                )
            })
            .await
    }
}
