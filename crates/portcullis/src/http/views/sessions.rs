//! Sessions as the API shows them, and token introspection.

use serde::Serialize;

use crate::domain::claims::SessionClaims;
use crate::services::sessions as plain;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RevokedBy {
    pub kind: String,
    pub id: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    pub id: String,
    pub user_id: String,
    pub environment_id: String,
    pub created_at: String,
    pub expires_at: String,
    pub last_active_at: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<RevokedBy>,
    pub amr: Vec<String>,
}

impl From<plain::RevokedBy> for RevokedBy {
    fn from(r: plain::RevokedBy) -> Self {
        RevokedBy {
            kind: r.kind,
            id: r.id,
        }
    }
}

impl From<plain::Session> for SessionInfo {
    fn from(s: plain::Session) -> Self {
        SessionInfo {
            id: s.id,
            user_id: s.user_id,
            environment_id: s.environment_id,
            created_at: s.created_at,
            expires_at: s.expires_at,
            last_active_at: s.last_active_at,
            ip_address: s.ip_address,
            user_agent: s.user_agent,
            revoked_at: s.revoked_at,
            revoked_by: s.revoked_by.map(RevokedBy::from),
            amr: s.amr,
        }
    }
}

/// The sessions as the API lists them.
pub fn session_list(sessions: Vec<plain::Session>) -> Vec<SessionInfo> {
    sessions.into_iter().map(SessionInfo::from).collect()
}

/// What `/sessions/introspect` answers (RFC 7662): `active`, and the claims
/// when it is. Introspection only reads: it spends and completes nothing.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "active": true, "token_type": "Bearer", "scope": "requiresAdditionalAuth",
    "sub": "usr_…", "sid": "ses_…", "aud": "env_…", "environment_id": "env_…",
    "iss": "https://auth.example.com/sdk/v1/env_…", "iat": 1764680000, "nbf": 1764680000,
    "exp": 1764683600, "jti": "…", "amr": ["otp"], "env_epoch": 0, "user_epoch": 0
}))]
pub struct Introspection {
    /// Whether the token would be accepted now. `false` alone for any token
    /// that would be refused (bad, expired, revoked, of another environment,
    /// an elevated token already spent, the environment locked).
    pub active: bool,
    /// The token's claims, when active. `scope` says what it is good for:
    /// `user:basic` for a full session, `requiresAdditionalAuth` for a
    /// partial one that still needs its second factor (accepted only by the
    /// routes that finish the sign-in), or, for an elevated token, its one
    /// action (e.g. `credential:link`).
    #[serde(flatten)]
    pub claims: Option<SessionClaims>,
    /// When active: `Bearer` for a session token (full or partial),
    /// `elevated` for an elevated token (header `typ: elevated+jwt`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
}

impl From<plain::Introspection> for Introspection {
    fn from(i: plain::Introspection) -> Self {
        Introspection {
            active: i.active,
            claims: i.claims,
            token_type: i.token_type,
        }
    }
}
