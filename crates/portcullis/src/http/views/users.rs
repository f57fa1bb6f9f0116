//! End users as the management API and the session answers show them.

use serde::Serialize;

use crate::services::users as plain;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VerifiedCredential {
    /// `email` (later also `phone`, `wallet`, `passkey`).
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserInfo {
    pub id: String,
    pub environment_id: String,
    pub email: Option<String>,
    /// Absent where the answer comes from the token alone (`GET /session`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    pub verified_credentials: Vec<VerifiedCredential>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserPage {
    pub data: Vec<UserInfo>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl From<plain::VerifiedCredential> for VerifiedCredential {
    fn from(c: plain::VerifiedCredential) -> Self {
        VerifiedCredential {
            kind: c.kind,
            value: c.value,
        }
    }
}

impl From<plain::User> for UserInfo {
    fn from(u: plain::User) -> Self {
        UserInfo {
            id: u.id,
            environment_id: u.environment_id,
            email: u.email,
            created_at: u.created_at,
            verified_credentials: u
                .verified_credentials
                .into_iter()
                .map(VerifiedCredential::from)
                .collect(),
        }
    }
}

impl From<plain::UserPage> for UserPage {
    fn from(p: plain::UserPage) -> Self {
        UserPage {
            data: p.data.into_iter().map(UserInfo::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}
