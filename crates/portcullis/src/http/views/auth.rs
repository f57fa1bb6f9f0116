//! What the SDK's sign-in steps answer: a verification started, and the
//! auth result (API.md, "auth result").

use serde::Serialize;

use super::sessions::SessionInfo;
use super::shown;
use super::users::UserInfo;
use crate::services::code_sign_in;
use crate::services::signed_in;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VerificationStarted {
    pub verification_id: String,
    pub expires_at: String,
}

impl From<code_sign_in::VerificationStarted> for VerificationStarted {
    fn from(v: code_sign_in::VerificationStarted) -> Self {
        VerificationStarted {
            verification_id: v.verification_id,
            expires_at: v.expires_at,
        }
    }
}

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

impl From<signed_in::MfaStatus> for MfaStatus {
    fn from(m: signed_in::MfaStatus) -> Self {
        MfaStatus {
            required: m.required,
            enrolled: m.enrolled,
            methods: m.methods,
            available_methods: m.available_methods,
        }
    }
}

// No `Debug`: it carries the session token.
/// The answer to a successful sign-in (API.md, "auth result").
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct AuthResult {
    /// The session's JWT; absent in cookie mode, where it is in the
    /// `HttpOnly` cookie `portcullis_session`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Cookie mode only: the value state-changing requests send in
    /// `X-Portcullis-CSRF` (also in the readable cookie `portcullis_csrf`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    pub session: SessionInfo,
    pub user: UserInfo,
    pub mfa: MfaStatus,
}

impl From<signed_in::SignedIn> for AuthResult {
    fn from(s: signed_in::SignedIn) -> Self {
        AuthResult {
            token: s.token.as_ref().map(shown),
            csrf_token: None,
            session: s.session.into(),
            user: s.user.into(),
            mfa: s.mfa.into(),
        }
    }
}
