//! Why a token was refused, in the server's problem codes (API.md,
//! "Errors"). No message ever contains the token.

/// Why a token was refused. Each variant is one of the server's stable
/// problem codes ([`VerifyError::code`]) with its HTTP status
/// ([`VerifyError::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// 401 `missing_credentials`: no token was sent.
    #[error("no credentials were sent")]
    MissingCredentials,
    /// 401 `invalid_token`: malformed, bad signature, unknown `kid`,
    /// forbidden `alg`, wrong `iss`/`aud`/`typ`, not yet valid, or without
    /// the scope a session needs. The reason is for logs only.
    #[error("the token is not valid for this environment ({0})")]
    InvalidToken(InvalidReason),
    /// 401 `token_expired`: `exp` has passed (beyond the leeway).
    #[error("the token has expired")]
    TokenExpired,
    /// 401 `session_revoked`: the session was revoked (one, user-wide or
    /// environment-wide), as the [`RevocationCheck`](crate::RevocationCheck) knows.
    #[error("the session was revoked")]
    SessionRevoked,
    /// 403 `mfa_required`: a partial session where a full one is needed.
    #[error("this session must complete multi-factor authentication first")]
    MfaRequired,
    /// 403 `elevated_token_required`: no valid elevated token of this
    /// session for the action's scope.
    #[error("this action needs a valid elevated token for its scope")]
    ElevatedTokenRequired,
    /// 503 `unavailable`: the keys (or the revocation state) cannot be had
    /// right now; retry, do not conclude that the session is over.
    #[error("the verifier cannot answer right now; retry")]
    Unavailable,
}

/// What exactly was wrong with an invalid token: for logs and tests, never
/// shown to clients (the server does not tell them either).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidReason {
    /// Not a compact JWS, bad JSON, or a claim missing or of the wrong type.
    Malformed,
    /// The header has no `kid`, or no published key has it.
    UnknownKey,
    /// The header's `alg` is not the algorithm of the key it names.
    AlgorithmMismatch,
    /// The signature does not verify.
    BadSignature,
    WrongIssuer,
    WrongAudience,
    /// `environment_id` is not the audience.
    WrongEnvironment,
    /// The header's `typ` is not the one expected (a session token where an
    /// elevated one is expected, or the reverse).
    WrongType,
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid,
    /// A session token without `user:basic` (nor `requiresAdditionalAuth`).
    MissingScope,
}

impl std::fmt::Display for InvalidReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Malformed => "malformed",
            Self::UnknownKey => "unknown key",
            Self::AlgorithmMismatch => "algorithm not that of the key",
            Self::BadSignature => "bad signature",
            Self::WrongIssuer => "wrong issuer",
            Self::WrongAudience => "wrong audience",
            Self::WrongEnvironment => "wrong environment",
            Self::WrongType => "wrong token type",
            Self::NotYetValid => "not yet valid",
            Self::MissingScope => "missing scope",
        })
    }
}

impl VerifyError {
    /// The server's stable problem code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingCredentials => "missing_credentials",
            Self::InvalidToken(_) => "invalid_token",
            Self::TokenExpired => "token_expired",
            Self::SessionRevoked => "session_revoked",
            Self::MfaRequired => "mfa_required",
            Self::ElevatedTokenRequired => "elevated_token_required",
            Self::Unavailable => "unavailable",
        }
    }

    /// The HTTP status the server answers with this code.
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingCredentials
            | Self::InvalidToken(_)
            | Self::TokenExpired
            | Self::SessionRevoked => 401,
            Self::MfaRequired | Self::ElevatedTokenRequired => 403,
            Self::Unavailable => 503,
        }
    }

    /// The problem's `detail` for clients: the server's wording, without
    /// the reason of an invalid token.
    pub fn detail(&self) -> &'static str {
        match self {
            Self::MissingCredentials => "no credentials were sent",
            Self::InvalidToken(_) => "the token is not valid for this environment",
            Self::TokenExpired => "the token has expired",
            Self::SessionRevoked => "the session was revoked",
            Self::MfaRequired => "this session must complete multi-factor authentication first",
            Self::ElevatedTokenRequired => {
                "this action needs a valid elevated token for its scope \
                 (header X-Portcullis-Elevated-Token)"
            }
            Self::Unavailable => "the verifier cannot answer right now; retry",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_are_the_servers() {
        let cases = [
            (VerifyError::MissingCredentials, "missing_credentials", 401),
            (
                VerifyError::InvalidToken(InvalidReason::BadSignature),
                "invalid_token",
                401,
            ),
            (VerifyError::TokenExpired, "token_expired", 401),
            (VerifyError::SessionRevoked, "session_revoked", 401),
            (VerifyError::MfaRequired, "mfa_required", 403),
            (
                VerifyError::ElevatedTokenRequired,
                "elevated_token_required",
                403,
            ),
            (VerifyError::Unavailable, "unavailable", 503),
        ];
        for (error, code, status) in cases {
            assert_eq!(error.code(), code);
            assert_eq!(error.status(), status, "{code}");
            assert!(!error.detail().is_empty());
        }
    }
}
