//! What a completed step of a sign-in answers: the session, its user and
//! where the user stands with MFA. Shared by e-mail sign-in and MFA.

use secrecy::SecretString;

use super::sessions::Session;
use super::users::User;

/// Where the user stands with MFA after a sign-in step.
#[derive(Debug, Clone)]
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

/// A successful sign-in step: the session's token (shown once, never in
/// `Debug`), the session, its user and their MFA standing.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: Option<SecretString>,
    pub session: Session,
    pub user: User,
    pub mfa: MfaStatus,
}
