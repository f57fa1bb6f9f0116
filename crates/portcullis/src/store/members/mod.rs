//! The members who administer an organization.

use crate::domain::roles::Role;
use crate::store::{EventRecord, StoreResult};
use async_trait::async_trait;

/// A person who administers an organization.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRecord {
    pub id: String,
    pub organization_id: String,
    /// Lower case.
    pub email: String,
    pub name: Option<String>,
    /// Read through `Role::try_from`: an unknown stored role is a
    /// `StoreError`.
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a member update sets; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct MemberChanges {
    pub email: Option<String>,
    pub name: Option<Option<String>>,
    pub role: Option<Role>,
}

/// Organization members. There is always exactly one owner (a unique
/// index); ownership moves only by `transfer_ownership`. Each change
/// writes its events in its own transaction.
#[async_trait]
pub trait MemberStore: Send + Sync {
    /// Oldest first.
    async fn list(&self, organization_id: &str) -> StoreResult<Vec<MemberRecord>>;
    async fn get(
        &self,
        organization_id: &str,
        member_id: &str,
    ) -> StoreResult<Option<MemberRecord>>;
    /// `Conflict` when the organization has a member with this e-mail.
    async fn insert(&self, member: &MemberRecord, events: &[EventRecord]) -> StoreResult<()>;
    /// Applies `changes` if the member still has `expected_role`; `None`
    /// when it does not (or there is no such member). `Conflict` on a
    /// duplicate e-mail.
    async fn update(
        &self,
        organization_id: &str,
        member_id: &str,
        expected_role: Role,
        changes: &MemberChanges,
        at: i64,
        events: &[EventRecord],
    ) -> StoreResult<Option<MemberRecord>>;
    /// In one transaction: applies `changes` (not the role) to the member
    /// if it still has `expected_role`, the owner becomes `admin`, the
    /// member becomes the owner. `None` (nothing changed) when the member
    /// is gone or changed meanwhile.
    async fn transfer_ownership(
        &self,
        organization_id: &str,
        member_id: &str,
        expected_role: Role,
        changes: &MemberChanges,
        at: i64,
        events: &[EventRecord],
    ) -> StoreResult<Option<MemberRecord>>;
    /// The organization's members who have a confirmed TOTP authenticator
    /// (`member_totp.confirmed_at` set), by id.
    async fn ids_with_totp(&self, organization_id: &str) -> StoreResult<Vec<String>>;
    /// Removes a member that has `expected_role` (never the owner).
    async fn delete(
        &self,
        organization_id: &str,
        member_id: &str,
        expected_role: Role,
        events: &[EventRecord],
    ) -> StoreResult<bool>;
}
