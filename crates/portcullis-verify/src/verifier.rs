//! The verifier: a token's signature against the environment's published
//! keys, then the server's rules for its header and claims.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Validation, decode, decode_header};

use crate::claims::{Claims, ELEVATED_TOKEN_TYP, SCOPE_USER_BASIC, SESSION_TOKEN_TYP};
use crate::error::{InvalidReason, VerifyError};
use crate::jwks::{Discovery, KeyCache, fetch_json};
use crate::options::{Clock, VerifierOptions};
use crate::revocations::{RevocationCheck, Stale};

/// A longer token is refused before any parsing: the server's are far
/// shorter.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Why a verifier could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    #[error("building the HTTP client failed: {0}")]
    HttpClient(String),
    #[error("OpenID discovery at {url} failed: {reason}")]
    Discovery { url: String, reason: String },
    #[error("the discovery document names the issuer {found:?}, not {expected:?}")]
    IssuerMismatch { expected: String, found: String },
}

/// Verifies one environment's session and elevated tokens. Cheap to clone
/// (one shared key cache); build one per environment and keep it.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    keys: KeyCache,
    issuer: String,
    audience: String,
    leeway_s: i64,
    clock: Clock,
    revocation: Option<Arc<dyn RevocationCheck>>,
}

impl Verifier {
    /// Reads `{issuer}/.well-known/openid-configuration` for the JWKS
    /// address. `issuer` is `{public_url}/sdk/v1/{environment_id}` and
    /// `audience` the environment's id.
    pub async fn discover(
        issuer: &str,
        audience: &str,
        options: VerifierOptions,
    ) -> Result<Self, SetupError> {
        let issuer = issuer.trim_end_matches('/');
        let http = http_client(&options)?;
        let url = format!("{issuer}/.well-known/openid-configuration");
        let discovery: Discovery = fetch_json(&http, &url)
            .await
            .map_err(|reason| SetupError::Discovery { url, reason })?;
        if discovery.issuer != issuer {
            return Err(SetupError::IssuerMismatch {
                expected: issuer.to_string(),
                found: discovery.issuer,
            });
        }
        Ok(Self::build(
            discovery.jwks_uri,
            http,
            issuer,
            audience,
            options,
        ))
    }

    /// A verifier for keys published at `jwks_uri` (usually
    /// `{issuer}/.well-known/jwks.json`), with no discovery request.
    pub fn new(
        jwks_uri: &str,
        issuer: &str,
        audience: &str,
        options: VerifierOptions,
    ) -> Result<Self, SetupError> {
        let http = http_client(&options)?;
        Ok(Self::build(
            jwks_uri.to_string(),
            http,
            issuer.trim_end_matches('/'),
            audience,
            options,
        ))
    }

    fn build(
        jwks_uri: String,
        http: reqwest::Client,
        issuer: &str,
        audience: &str,
        options: VerifierOptions,
    ) -> Self {
        let keys = KeyCache::new(
            jwks_uri,
            http,
            options.clock.clone(),
            options.min_refresh_interval,
            options.max_key_age,
        );
        Verifier {
            inner: Arc::new(Inner {
                keys,
                issuer: issuer.to_string(),
                audience: audience.to_string(),
                leeway_s: seconds(options.leeway),
                clock: options.clock,
                revocation: options.revocation,
            }),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    pub fn audience(&self) -> &str {
        &self.inner.audience
    }

    pub fn jwks_uri(&self) -> &str {
        self.inner.keys.jwks_uri()
    }

    /// Fetches the keys now (say at start-up, to fail early), unless a
    /// fetch was tried within `min_refresh_interval`.
    pub async fn refresh_keys(&self) -> Result<(), VerifyError> {
        self.inner.keys.refresh().await
    }

    /// A complete session: `typ: JWT`, scope `user:basic`. A partial
    /// session (MFA outstanding) is refused with `MfaRequired`.
    pub async fn verify_session(&self, token: &str) -> Result<Claims, VerifyError> {
        let claims = self.verify_typed(token, SESSION_TOKEN_TYP).await?;
        check_session_scope(&claims, false)?;
        Ok(claims)
    }

    /// A complete or a partial session (`requiresAdditionalAuth`), for the
    /// routes that help the user finish MFA. [`Claims::is_partial`] tells
    /// which.
    pub async fn verify_partial_session(&self, token: &str) -> Result<Claims, VerifyError> {
        let claims = self.verify_typed(token, SESSION_TOKEN_TYP).await?;
        check_session_scope(&claims, true)?;
        Ok(claims)
    }

    /// An elevated token (`typ: elevated+jwt`) for the one action `scope`,
    /// bound to `session` when given (same `sid` and `sub`). As on the
    /// server, every failure but `Unavailable` is `ElevatedTokenRequired`.
    /// A verifier cannot see whether the token was already spent: only the
    /// server, which spends it, can.
    pub async fn verify_elevated(
        &self,
        token: &str,
        scope: &str,
        session: Option<&Claims>,
    ) -> Result<Claims, VerifyError> {
        let elevated = match self.verify_typed(token, ELEVATED_TOKEN_TYP).await {
            Ok(claims) => claims,
            Err(VerifyError::Unavailable) => return Err(VerifyError::Unavailable),
            Err(error) => {
                tracing::debug!(%error, "elevated token refused");
                return Err(VerifyError::ElevatedTokenRequired);
            }
        };
        let bound = session.is_none_or(|s| s.sid == elevated.sid && s.sub == elevated.sub);
        match elevated.scope == scope && bound {
            true => Ok(elevated),
            false => Err(VerifyError::ElevatedTokenRequired),
        }
    }

    /// Signature with the key named by `kid` and its algorithm only, `typ`,
    /// issuer, audience, environment, time, then revocation.
    async fn verify_typed(&self, token: &str, typ: &str) -> Result<Claims, VerifyError> {
        let invalid = VerifyError::InvalidToken;
        if token.is_empty() {
            return Err(VerifyError::MissingCredentials);
        }
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid(InvalidReason::Malformed));
        }
        // `decode_header` refuses `alg: none` and every name it does not
        // know; the key's algorithm decides among the rest.
        let header = decode_header(token).map_err(|_| invalid(InvalidReason::Malformed))?;
        if header.typ.as_deref() != Some(typ) {
            return Err(invalid(InvalidReason::WrongType));
        }
        let kid = header
            .kid
            .as_deref()
            .ok_or(invalid(InvalidReason::UnknownKey))?;
        let key = self.inner.keys.key(kid).await?;
        if header.alg != key.algorithm {
            return Err(invalid(InvalidReason::AlgorithmMismatch));
        }
        let mut validation = Validation::new(key.algorithm);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::new();
        let claims = decode::<Claims>(token, &key.decoding, &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => invalid(InvalidReason::BadSignature),
                _ => invalid(InvalidReason::Malformed),
            })?
            .claims;
        let inner = &self.inner;
        if claims.iss != inner.issuer {
            return Err(invalid(InvalidReason::WrongIssuer));
        }
        if claims.aud != inner.audience {
            return Err(invalid(InvalidReason::WrongAudience));
        }
        if claims.environment_id != inner.audience {
            return Err(invalid(InvalidReason::WrongEnvironment));
        }
        let now_s = unix_seconds((inner.clock)());
        if now_s >= claims.exp.saturating_add(inner.leeway_s) {
            return Err(VerifyError::TokenExpired);
        }
        if claims.nbf > now_s.saturating_add(inner.leeway_s) {
            return Err(invalid(InvalidReason::NotYetValid));
        }
        if let Some(check) = &inner.revocation {
            match check.is_revoked(&claims) {
                Ok(false) => {}
                Ok(true) => return Err(VerifyError::SessionRevoked),
                Err(Stale) => return Err(VerifyError::Unavailable),
            }
        }
        Ok(claims)
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .field("jwks_uri", &self.inner.keys.jwks_uri())
            .finish_non_exhaustive()
    }
}

/// A full session has `user:basic`; a partial one (`requiresAdditionalAuth`
/// alone) passes only where `allow_partial`, else it is `MfaRequired`.
pub(crate) fn check_session_scope(claims: &Claims, allow_partial: bool) -> Result<(), VerifyError> {
    if claims.has_scope(SCOPE_USER_BASIC) {
        Ok(())
    } else if claims.is_partial() {
        match allow_partial {
            true => Ok(()),
            false => Err(VerifyError::MfaRequired),
        }
    } else {
        Err(VerifyError::InvalidToken(InvalidReason::MissingScope))
    }
}

fn http_client(options: &VerifierOptions) -> Result<reqwest::Client, SetupError> {
    match &options.http_client {
        Some(client) => Ok(client.clone()),
        None => reqwest::Client::builder()
            .timeout(options.http_timeout)
            .build()
            .map_err(|e| SetupError::HttpClient(e.to_string())),
    }
}

fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

fn unix_seconds(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map_or(0, seconds)
}
