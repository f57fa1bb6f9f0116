//! The claims of a session JWT (API.md, "JWT"), and the scope rules.

use serde::{Deserialize, Serialize};

pub const SCOPE_USER_BASIC: &str = "user:basic";
pub const SCOPE_REQUIRES_ADDITIONAL_AUTH: &str = "requiresAdditionalAuth";

/// The `typ` of session tokens; elevated tokens carry their own
/// (`domain::mfa::ELEVATED_TOKEN_TYP`).
pub const SESSION_TOKEN_TYP: &str = "JWT";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub sid: String,
    pub environment_id: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    pub scope: String,
    pub amr: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// E.164, when the user holds a verified phone number (OIDC's
    /// `phone_number`; every one is verified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// The EIP-55 address, when the user holds a verified wallet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet: Option<String>,
    /// The environment's revocation epoch at issue (see `domain::revocation`).
    pub env_epoch: i64,
    /// The user's revocation epoch at issue.
    pub user_epoch: i64,
}

impl SessionClaims {
    /// Claims with every field empty or zero, for tests to fill in.
    #[cfg(test)]
    pub fn empty() -> Self {
        Self {
            iss: String::new(),
            sub: String::new(),
            aud: String::new(),
            sid: String::new(),
            environment_id: String::new(),
            iat: 0,
            nbf: 0,
            exp: 0,
            jti: String::new(),
            scope: String::new(),
            amr: vec![],
            email: None,
            phone_number: None,
            wallet: None,
            env_epoch: 0,
            user_epoch: 0,
        }
    }

    pub fn epochs(&self) -> super::revocation::Epochs {
        super::revocation::Epochs {
            environment: self.env_epoch,
            user: self.user_epoch,
        }
    }
}

impl SessionClaims {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split(' ').any(|s| s == scope)
    }

    /// A partial session: it still needs its second factor, and only the
    /// routes that finish the sign-in accept it.
    pub fn is_partial(&self) -> bool {
        self.has_scope(SCOPE_REQUIRES_ADDITIONAL_AUTH) && !self.has_scope(SCOPE_USER_BASIC)
    }

    /// How authenticators show the user: their e-mail address, else their
    /// phone number, else their id.
    pub fn account_name(&self) -> &str {
        self.email
            .as_deref()
            .or(self.phone_number.as_deref())
            .unwrap_or(&self.sub)
    }
}

/// The issuer of an environment's tokens; discovery lives under it.
pub fn issuer(public_url: &str, environment_id: &str) -> String {
    format!(
        "{}/sdk/v1/{environment_id}",
        public_url.trim_end_matches('/')
    )
}

/// The audience of an environment's session tokens: its public id, so a
/// token of one environment is never accepted by another.
pub fn audience(environment_id: &str) -> String {
    environment_id.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_has_no_double_slash() {
        assert_eq!(issuer("http://x:1/", "env_a"), "http://x:1/sdk/v1/env_a");
        assert_eq!(issuer("http://x:1", "env_a"), "http://x:1/sdk/v1/env_a");
    }

    #[test]
    fn scopes_are_matched_whole() {
        let c = SessionClaims {
            scope: "user:basic extra".into(),
            ..SessionClaims::empty()
        };
        assert!(c.has_scope(SCOPE_USER_BASIC));
        assert!(!c.has_scope("user"));
    }

    #[test]
    fn partial_means_requires_additional_auth_without_user_basic() {
        let with = |scope: &str| SessionClaims {
            scope: scope.into(),
            ..SessionClaims::empty()
        };
        assert!(with(SCOPE_REQUIRES_ADDITIONAL_AUTH).is_partial());
        assert!(!with(SCOPE_USER_BASIC).is_partial());
        assert!(!with("user:basic requiresAdditionalAuth").is_partial());
        assert!(!with("credential:link").is_partial());
    }
}
