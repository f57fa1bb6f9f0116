//! The claims of a Portcullis token, as the server issues them (API.md,
//! "JWT"; the server's `domain::claims::SessionClaims`).

use serde::{Deserialize, Serialize};

/// The scope of a complete sign-in.
pub const SCOPE_USER_BASIC: &str = "user:basic";
/// The scope of a partial session: the user has not finished MFA yet.
pub const SCOPE_REQUIRES_ADDITIONAL_AUTH: &str = "requiresAdditionalAuth";

/// The header `typ` of session tokens.
pub const SESSION_TOKEN_TYP: &str = "JWT";
/// The header `typ` of elevated tokens (one action, bound to a session).
pub const ELEVATED_TOKEN_TYP: &str = "elevated+jwt";

/// The claims of a verified session or elevated token.
///
/// `env_epoch` and `user_epoch` are the revocation epochs the session was
/// issued under: a revocation of the user (or the environment) raises its
/// epoch, and every session issued below it is revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id (`usr_…`).
    pub sub: String,
    /// The session's id (`ses_…`).
    pub sid: String,
    /// The environment's public id (`env_…`); always equal to `aud`.
    pub environment_id: String,
    /// `{public_url}/sdk/v1/{environment_id}`.
    pub iss: String,
    /// The environment's id.
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    /// Space-separated: `user:basic` (or `requiresAdditionalAuth`) plus
    /// scopes from access lists; an elevated token's is its one action.
    pub scope: String,
    /// How the user authenticated (RFC 8176 values: `otp`, `mfa`, …).
    #[serde(default)]
    pub amr: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet: Option<String>,
    /// The environment's revocation epoch when the session was issued.
    pub env_epoch: i64,
    /// The user's revocation epoch when the session was issued.
    pub user_epoch: i64,
}

impl Claims {
    /// Whether `scope` is one of the token's scopes (matched whole).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split(' ').any(|s| s == scope)
    }

    /// The scopes, one by one.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split(' ').filter(|s| !s.is_empty())
    }

    /// A partial session: it still needs its second factor (the server's
    /// rule: `requiresAdditionalAuth` without `user:basic`).
    pub fn is_partial(&self) -> bool {
        self.has_scope(SCOPE_REQUIRES_ADDITIONAL_AUTH) && !self.has_scope(SCOPE_USER_BASIC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_scope(scope: &str) -> Claims {
        Claims {
            sub: "usr_1".into(),
            sid: "ses_1".into(),
            environment_id: "env_1".into(),
            iss: "http://x/sdk/v1/env_1".into(),
            aud: "env_1".into(),
            iat: 0,
            nbf: 0,
            exp: 0,
            jti: "jti_1".into(),
            scope: scope.into(),
            amr: vec![],
            email: None,
            phone_number: None,
            wallet: None,
            env_epoch: 0,
            user_epoch: 0,
        }
    }

    #[test]
    fn scopes_are_matched_whole() {
        let c = with_scope("user:basic extra");
        assert!(c.has_scope(SCOPE_USER_BASIC));
        assert!(c.has_scope("extra"));
        assert!(!c.has_scope("user"));
        assert_eq!(c.scopes().collect::<Vec<_>>(), ["user:basic", "extra"]);
    }

    #[test]
    fn partial_means_requires_additional_auth_without_user_basic() {
        assert!(with_scope(SCOPE_REQUIRES_ADDITIONAL_AUTH).is_partial());
        assert!(!with_scope(SCOPE_USER_BASIC).is_partial());
        assert!(!with_scope("user:basic requiresAdditionalAuth").is_partial());
        assert!(!with_scope("credential:link").is_partial());
    }
}
