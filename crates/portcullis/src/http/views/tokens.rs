//! API tokens as the API and the `token` command show them.

use serde::Serialize;

use super::shown;
use crate::services::api_tokens as plain;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    /// `tok_…`
    pub id: String,
    pub note: String,
    /// `owner`, `admin`, `developer` or `viewer`
    pub role: String,
    /// The one environment it may act on; absent: every environment.
    pub environment_id: Option<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub rotated_at: Option<String>,
    /// After a rotation: until when the previous secret still works.
    pub previous_secret_expires_at: Option<String>,
}

// No `Debug`: it holds the secret in the clear.
/// A token with its secret: shown this once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiTokenWithSecret {
    #[serde(flatten)]
    pub token: ApiToken,
    /// `pcl_…`; store it now, it is never shown again.
    pub secret: String,
}

impl From<plain::ApiToken> for ApiToken {
    fn from(t: plain::ApiToken) -> Self {
        ApiToken {
            id: t.id,
            note: t.note,
            role: t.role,
            environment_id: t.environment_id,
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            rotated_at: t.rotated_at,
            previous_secret_expires_at: t.previous_secret_expires_at,
        }
    }
}

impl From<plain::IssuedToken> for ApiTokenWithSecret {
    fn from(t: plain::IssuedToken) -> Self {
        ApiTokenWithSecret {
            secret: shown(&t.secret),
            token: t.token.into(),
        }
    }
}
