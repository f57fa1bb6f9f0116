//! Environments as operators see them.

use serde::Serialize;

use crate::services::lock;

/// An environment as operators see it (the API's and the command's answer).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnvironmentInfo {
    pub id: String,
    pub project_id: String,
    pub organization_id: String,
    /// `sandbox` or `live`
    pub kind: String,
    pub locked: bool,
    pub created_at: String,
    pub issuer: String,
}

impl From<lock::EnvironmentInfo> for EnvironmentInfo {
    fn from(e: lock::EnvironmentInfo) -> Self {
        EnvironmentInfo {
            id: e.id,
            project_id: e.project_id,
            organization_id: e.organization_id,
            kind: e.kind,
            locked: e.locked,
            created_at: e.created_at,
            issuer: e.issuer,
        }
    }
}
