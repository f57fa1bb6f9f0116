//! Organization members as the API and the `members` command show them.

use serde::Serialize;

use crate::services::members as plain;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Member {
    /// `mem_…`
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    /// `owner`, `admin`, `developer` or `viewer`
    pub role: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<plain::Member> for Member {
    fn from(m: plain::Member) -> Self {
        Member {
            id: m.id,
            email: m.email,
            name: m.name,
            role: m.role,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}
