//! End users as the management API and the session answers show them.

use serde::Serialize;

use crate::services::users as plain;

/// A credential the user has proved (docs/sign-in.md).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VerifiedCredential {
    /// `vcr_…`; absent where the answer comes from the token alone
    /// (`GET /session`), as are the instants.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `email`, `phone`, `wallet` or `passkey`.
    pub kind: String,
    /// Normalized: e-mail lower-case, phone E.164, wallet EIP-55, passkey
    /// the base64url credential id.
    pub value: String,
    /// A passkey's label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<String>,
    /// When it last signed the user in; `null` if never since it was
    /// linked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
}

/// The caller's verified credentials (`GET /credentials`), oldest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CredentialList {
    pub data: Vec<VerifiedCredential>,
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
            id: c.id,
            kind: c.kind,
            value: c.value,
            name: c.name,
            verified_at: c.verified_at,
            last_used_at: c.last_used_at,
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
