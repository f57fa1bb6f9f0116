//! What a completed step of a sign-in answers: the session, its user and
//! where the user stands with MFA. Shared by e-mail sign-in and MFA.

use serde::Serialize;

use super::sessions::SessionInfo;
use super::users::UserInfo;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MfaStatus {
    /// The token is partial (`requiresAdditionalAuth`): verify a device
    /// (`enrolled`) or enrol one first.
    pub required: bool,
    /// The user has a confirmed device of a method the environment allows.
    pub enrolled: bool,
    /// The methods of the user's confirmed devices.
    pub methods: Vec<String>,
    /// The methods the environment allows.
    pub available_methods: Vec<String>,
}

/// The answer to a successful sign-in (API.md, "auth result").
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuthResult {
    pub token: Option<String>,
    pub session: SessionInfo,
    pub user: UserInfo,
    pub mfa: MfaStatus,
}
