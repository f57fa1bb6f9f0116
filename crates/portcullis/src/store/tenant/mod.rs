//! The tenant: organizations, their projects, and the first tenant written at
//! start-up. (`meta` is read and written through `HealthStore`.)

use crate::store::{
    ApiTokenRecord, EnvironmentRecord, MemberRecord, SigningKeyRecord, StoreResult,
};
use async_trait::async_trait;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrganizationRecord {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProjectRecord {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewTenant {
    pub organization: OrganizationRecord,
    pub project: ProjectRecord,
    pub environments: Vec<EnvironmentRecord>,
    pub signing_keys: Vec<SigningKeyRecord>,
    pub owner_token: ApiTokenRecord,
    pub owner: MemberRecord,
}

#[derive(Debug, Clone)]
pub struct TenantRecord {
    pub organization: OrganizationRecord,
    pub project: ProjectRecord,
    pub environments: Vec<EnvironmentRecord>,
}

#[async_trait]
pub trait OrganizationStore: Send + Sync {
    /// Writes a whole new tenant in one transaction: organization, project,
    /// its environments with their first signing keys, and an owner token.
    /// Fails with `Conflict` when a first tenant exists already (another
    /// node created it at the same time).
    async fn create_tenant(&self, tenant: &NewTenant) -> StoreResult<()>;
    /// The oldest organization with its project and environments, if any.
    async fn first_tenant(&self) -> StoreResult<Option<TenantRecord>>;
}
