//! Sessions: issuing a JWT at sign-in, checking one on every request (no
//! database: keys and the revocation index are in memory), listing, and
//! revocation in three scopes.

use std::collections::HashSet;
use std::sync::Arc;

use jsonwebtoken::Validation;
use secrecy::SecretString;

use super::activity::ActivityTracker;
use super::change_state::ChangeState;
use super::environments::EnvironmentRuntime;
use super::revocations::Revocations;
use super::{ServiceError, ServiceResult, new_id, verified_tokens};
use crate::clock::{Clock, rfc3339, to_millis};
use crate::domain::claims::{
    SCOPE_REQUIRES_ADDITIONAL_AUTH, SCOPE_USER_BASIC, SESSION_TOKEN_TYP, SessionClaims,
};
use crate::domain::credential::{CredentialKind, Identity};
use crate::domain::events;
use crate::domain::mfa::{ELEVATED_TOKEN_TYP, SignInOutcome};
pub use crate::store::SessionFilter;
use crate::store::{
    Constraint, CredentialKey, MfaStore, ScopeRevocation, SessionRecord, SessionStore, SessionView,
    SignInEventIds, SignInRecord, StoreError, UsedCode, UserRecord,
};

/// Tolerated clock skew between nodes for `nbf`.
const NBF_LEEWAY_S: i64 = 60;

/// Where a sign-in came from, as far as the server can tell.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

/// Who revoked a session: a kind (`user`, `api_token`, …) and its id.
#[derive(Debug, Clone)]
pub struct RevokedBy {
    pub kind: String,
    pub id: Option<String>,
}

/// A session with its effective revocation.
#[derive(Debug, Clone)]
pub struct Session {
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

impl Session {
    /// The session with its effective revocation: its own, or the user's or
    /// environment's revocation whose epoch it was issued below.
    pub fn from_view(view: &SessionView, pending_activity: Option<i64>) -> Self {
        let s = &view.session;
        let own = s.revoked_at.map(|at| {
            (
                at,
                s.revoked_by_kind.clone().unwrap_or_default(),
                s.revoked_by_id.clone(),
            )
        });
        let covering = |w: &Option<ScopeRevocation>,
                        issued_under: i64,
                        kind_override: Option<&str>,
                        id_override: Option<&str>| {
            w.as_ref().filter(|w| issued_under < w.epoch).map(|w| {
                (
                    w.revocation.at,
                    kind_override
                        .map(str::to_string)
                        .unwrap_or_else(|| w.revocation.by_kind.clone()),
                    id_override
                        .map(str::to_string)
                        .or_else(|| w.revocation.by_id.clone()),
                )
            })
        };
        let revocation = [
            own,
            covering(&view.user_revocation, s.user_epoch, None, None),
            covering(
                &view.environment_revocation,
                s.env_epoch,
                Some("environment"),
                Some(&s.environment_id),
            ),
        ]
        .into_iter()
        .flatten()
        .min_by_key(|(at, _, _)| *at);
        let last_active = match (s.last_active_at, pending_activity) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        Session {
            id: s.id.clone(),
            user_id: s.user_id.clone(),
            environment_id: s.environment_id.clone(),
            created_at: rfc3339(s.created_at),
            expires_at: rfc3339(s.expires_at),
            last_active_at: last_active.map(rfc3339),
            ip_address: s.ip_address.clone(),
            user_agent: s.user_agent.clone(),
            revoked_at: revocation.as_ref().map(|(at, _, _)| rfc3339(*at)),
            revoked_by: revocation.map(|(_, kind, id)| RevokedBy { kind, id }),
            amr: serde_json::from_str(&s.amr).unwrap_or_default(),
        }
    }

    /// A session just issued: nothing can have revoked it yet.
    pub fn from_new(session: SessionRecord) -> Self {
        Self::from_view(
            &SessionView {
                session,
                user_revocation: None,
                environment_revocation: None,
            },
            None,
        )
    }

    /// The caller's own session as its token describes it: no database.
    pub fn from_claims(claims: &SessionClaims, last_active_at: Option<i64>) -> Self {
        Session {
            id: claims.sid.clone(),
            user_id: claims.sub.clone(),
            environment_id: claims.environment_id.clone(),
            created_at: rfc3339(claims.nbf * 1000),
            expires_at: rfc3339(claims.exp * 1000),
            last_active_at: last_active_at.map(rfc3339),
            ip_address: None,
            user_agent: None,
            revoked_at: None,
            revoked_by: None,
            amr: claims.amr.clone(),
        }
    }
}

pub struct IssuedSession {
    /// The session's JWT, shown once to the client that signed in.
    pub token: SecretString,
    pub session: SessionRecord,
    pub user: UserRecord,
    /// The kinds of the user's confirmed MFA devices.
    pub mfa_kinds: Vec<String>,
    /// Who the token's claims say the user is.
    pub identity: Identity,
}

/// What introspecting a token finds (RFC 7662): whether it is active,
/// and its claims when it is. Introspection only reads: it spends and
/// completes nothing.
#[derive(Debug, Clone)]
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
    pub claims: Option<SessionClaims>,
    /// When active: `Bearer` for a session token (full or partial),
    /// `elevated` for an elevated token (header `typ: elevated+jwt`).
    pub token_type: Option<String>,
}

/// Sessions: issued at sign-in, checked on every request from memory
/// (keys, the verified-token cache and the revocation index), read and
/// completed (a second factor) in the store.
pub struct Sessions {
    clock: Arc<dyn Clock>,
    store: Arc<dyn SessionStore>,
    /// Spent elevated tokens, which introspection reads.
    mfa: Arc<dyn MfaStore>,
    revocations: Arc<Revocations>,
    changes: Arc<ChangeState>,
    activity: Arc<ActivityTracker>,
}

impl Sessions {
    pub fn new(
        clock: Arc<dyn Clock>,
        store: Arc<dyn SessionStore>,
        mfa: Arc<dyn MfaStore>,
        revocations: Arc<Revocations>,
        changes: Arc<ChangeState>,
        activity: Arc<ActivityTracker>,
    ) -> Self {
        Sessions {
            clock,
            store,
            mfa,
            revocations,
            changes,
            activity,
        }
    }

    /// Signs in with the credential `(kind, value)`: finds its user or
    /// creates `candidate` holding it, stores a new session for them and
    /// signs its JWT. The session's epochs come from the store, in the same
    /// statement that inserts it, so it is born under the newest revocation
    /// of its user and environment. Uses up the verification whose code
    /// matched, in the same statement; `None` if another sign-in used it
    /// first. Two first sign-ins of one new credential racing: the store
    /// refuses the later one whole, and it is tried once more, finding the
    /// user the earlier one made.
    #[allow(clippy::too_many_arguments)]
    pub async fn issue_for_credential(
        &self,
        env: &EnvironmentRuntime,
        proof: &UsedCode,
        kind: CredentialKind,
        value: &str,
        candidate: &UserRecord,
        amr: Vec<String>,
        outcome: SignInOutcome,
        client: &ClientInfo,
    ) -> ServiceResult<Option<IssuedSession>> {
        // A partial session carries only `requiresAdditionalAuth` until its
        // second factor (`SecondFactors::verify`) completes it.
        let scope = if outcome.is_partial() {
            SCOPE_REQUIRES_ADDITIONAL_AUTH
        } else {
            SCOPE_USER_BASIC
        };
        let now = self.clock.now();
        let now_s = now.unix_timestamp();
        let exp = now_s + i64::from(env.settings.jwt_expiration_seconds);
        let template = SessionRecord {
            id: new_id(self.clock.as_ref(), "ses")?,
            environment_id: env.id().to_string(),
            user_id: String::new(),
            iat: now_s,
            env_epoch: self.revocations.read().environment_epoch(env.id()),
            user_epoch: 0,
            created_at: to_millis(now),
            expires_at: exp * 1000,
            ip_address: client.ip_address.clone(),
            user_agent: client.user_agent.clone(),
            last_active_at: None,
            revoked_at: None,
            revoked_by_kind: None,
            revoked_by_id: None,
            amr: serde_json::to_string(&amr).map_err(|e| ServiceError::caused("serializing", e))?,
            scope: scope.to_string(),
        };
        let credential = CredentialKey {
            id: new_id(self.clock.as_ref(), "vcr")?,
            kind: kind.as_str().to_string(),
            value: value.to_string(),
        };
        // Written only when a webhook takes them (docs/events.md): sign-in
        // is the hot write path.
        let events = SignInEventIds {
            session_created: match env.has_subscriber(events::USER_SESSION_CREATED) {
                true => Some(new_id(self.clock.as_ref(), "evt")?),
                false => None,
            },
            user_created: match env.has_subscriber(events::USER_CREATED) {
                true => Some(new_id(self.clock.as_ref(), "evt")?),
                false => None,
            },
        };
        let sign_in = || {
            self.store
                .sign_in(proof, &credential, candidate, &template, &events)
        };
        let stored = match sign_in().await {
            Err(StoreError::Conflict(Constraint::Credential)) => sign_in().await?,
            other => other?,
        };
        let Some(SignInRecord {
            user,
            session,
            mfa_kinds,
        }) = stored
        else {
            return Ok(None);
        };
        let identity = Identity::of_sign_in(
            kind,
            value,
            Identity {
                email: user.email.clone(),
                phone_number: user.phone_number.clone(),
                wallet: user.wallet.clone(),
            },
        );
        let claims = SessionClaims {
            iss: env.issuer.clone(),
            sub: user.id.clone(),
            aud: env.audience.clone(),
            sid: session.id.clone(),
            environment_id: env.id().to_string(),
            iat: now_s,
            nbf: now_s,
            exp,
            jti: new_id(self.clock.as_ref(), "jti")?,
            scope: session.scope.clone(),
            amr,
            email: identity.email.clone(),
            phone_number: identity.phone_number.clone(),
            wallet: identity.wallet.clone(),
            env_epoch: session.env_epoch,
            user_epoch: session.user_epoch,
        };
        let token = env.active_key()?.sign_jwt(&claims)?;
        Ok(Some(IssuedSession {
            token: token.into(),
            session,
            user,
            mfa_kinds,
            identity,
        }))
    }

    /// Verifies a session JWT for this environment: signature with a key of
    /// this environment and its algorithm, issuer, audience, expiry, and the
    /// revocation index. No database access. The environment's lock is the
    /// caller's to check (the SDK API's gate, `http/sdk/gate.rs`): a locked
    /// environment's sessions are refused, not revoked, and live again on
    /// unlock unless they expired or were revoked meanwhile.
    pub fn check_session_token(
        &self,
        env: &EnvironmentRuntime,
        token: &str,
    ) -> ServiceResult<Arc<SessionClaims>> {
        let now = self.clock.now();
        let now_s = now.unix_timestamp();
        let fingerprint = verified_tokens::fingerprint(token);
        let claims = match env.verified.get(&fingerprint) {
            Some(claims) => claims,
            None => {
                let claims = Arc::new(verify_signature_and_claims(
                    env,
                    token,
                    SESSION_TOKEN_TYP,
                    to_millis(now),
                )?);
                env.verified.insert(fingerprint, claims.clone(), now_s);
                claims
            }
        };
        self.check_live(&claims, now_s)?;
        self.activity.touch(&claims.sid, to_millis(now));
        Ok(claims)
    }

    /// Verifies an elevated token (`typ: elevated+jwt`) of this
    /// environment as `check_session_token` does a session token, its
    /// session included. Not cached: each is used once. Does not spend it.
    pub fn check_elevated_token(
        &self,
        env: &EnvironmentRuntime,
        token: &str,
    ) -> ServiceResult<SessionClaims> {
        let now = self.clock.now();
        let claims = verify_signature_and_claims(env, token, ELEVATED_TOKEN_TYP, to_millis(now))?;
        self.check_live(&claims, now.unix_timestamp())?;
        Ok(claims)
    }

    /// Expiry, `nbf`, and the revocation index, once the signature holds.
    fn check_live(&self, claims: &SessionClaims, now_s: i64) -> ServiceResult<()> {
        if now_s >= claims.exp {
            return Err(ServiceError::TokenExpired);
        }
        if claims.nbf > now_s + NBF_LEEWAY_S {
            return Err(ServiceError::InvalidToken);
        }
        if self.changes.is_stale() {
            return Err(ServiceError::Unavailable);
        }
        if self.revocations.read().is_revoked(
            &claims.environment_id,
            &claims.sub,
            &claims.sid,
            claims.epochs(),
        ) {
            return Err(ServiceError::SessionRevoked);
        }
        Ok(())
    }

    /// Reads only, whatever the caller's role: it never spends or
    /// completes anything. Inactive for any token that fails the check,
    /// except when this node cannot check at all (`Unavailable`): then the
    /// caller should retry, not conclude that the session is over. A
    /// partial session is active, and its `scope` (`requiresAdditionalAuth`)
    /// says so. An elevated token is answered too (`token_type: elevated`,
    /// `scope` its one action), active while it is unspent; asking does not
    /// spend it (docs/mfa.md, "Elevated tokens").
    pub async fn introspect(
        &self,
        env: &EnvironmentRuntime,
        token: &str,
    ) -> ServiceResult<Introspection> {
        let inactive = Introspection {
            active: false,
            claims: None,
            token_type: None,
        };
        if env.is_locked() {
            return Ok(inactive);
        }
        let session = self.check_session_token(env, token);
        let (claims, token_type) = match session {
            Ok(claims) => (SessionClaims::clone(&claims), "Bearer"),
            Err(ServiceError::Unavailable) => return Err(ServiceError::Unavailable),
            Err(ServiceError::InvalidToken) => match self.check_elevated_token(env, token) {
                Ok(elevated) => {
                    if self.mfa.elevated_token_spent(&elevated.jti).await? {
                        return Ok(inactive);
                    }
                    (elevated, "elevated")
                }
                Err(ServiceError::Unavailable) => return Err(ServiceError::Unavailable),
                Err(_) => return Ok(inactive),
            },
            Err(_) => return Ok(inactive),
        };
        Ok(Introspection {
            active: true,
            claims: Some(claims),
            token_type: Some(token_type.into()),
        })
    }

    pub async fn of_user(
        &self,
        environment_id: &str,
        user_id: &str,
        filter: SessionFilter,
    ) -> ServiceResult<Vec<Session>> {
        let views = self
            .store
            .list_for_user(environment_id, user_id, &filter)
            .await?;
        Ok(views
            .iter()
            .map(|v| Session::from_view(v, self.activity.pending_for(&v.session.id)))
            .collect())
    }

    /// How many of the environment's sessions are alive now (what
    /// revoking them all would revoke).
    pub async fn count_live(&self, environment_id: &str) -> ServiceResult<u64> {
        let now = to_millis(self.clock.now());
        Ok(self.store.count_live(environment_id, now).await?)
    }

    pub async fn get(&self, environment_id: &str, session_id: &str) -> ServiceResult<Session> {
        let view = self
            .store
            .get(environment_id, session_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        Ok(Session::from_view(
            &view,
            self.activity.pending_for(session_id),
        ))
    }

    /// The session after its second factor: `user:basic`, `amr` with `mfa`
    /// and the factor, and a new token for the same session.
    /// `SessionRevoked` if the session is gone.
    pub async fn complete_second_factor(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        factor_amr: &str,
    ) -> ServiceResult<(SecretString, Session)> {
        let mut amr = claims.amr.clone();
        for value in ["mfa", factor_amr] {
            if !amr.iter().any(|a| a == value) {
                amr.push(value.to_string());
            }
        }
        let amr_json =
            serde_json::to_string(&amr).map_err(|e| ServiceError::caused("serializing", e))?;
        if !self
            .store
            .complete_mfa(env.id(), &claims.sid, SCOPE_USER_BASIC, &amr_json)
            .await?
        {
            return Err(ServiceError::SessionRevoked);
        }
        let now_s = self.clock.now().unix_timestamp();
        let completed = SessionClaims {
            iat: now_s,
            nbf: now_s,
            jti: new_id(self.clock.as_ref(), "jti")?,
            scope: SCOPE_USER_BASIC.to_string(),
            amr,
            ..claims.clone()
        };
        let token = env.active_key()?.sign_jwt(&completed)?;
        let view = self
            .store
            .get(env.id(), &claims.sid)
            .await?
            .ok_or(ServiceError::SessionRevoked)?;
        Ok((token.into(), Session::from_view(&view, None)))
    }
}

/// Signature with a key of this environment and its algorithm, issuer,
/// audience and environment. Time and revocation are the caller's.
fn verify_signature_and_claims(
    env: &EnvironmentRuntime,
    token: &str,
    typ: &str,
    now_ms: i64,
) -> ServiceResult<SessionClaims> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| ServiceError::InvalidToken)?;
    if header.typ.as_deref() != Some(typ) {
        return Err(ServiceError::InvalidToken);
    }
    let kid = header.kid.as_deref().ok_or(ServiceError::InvalidToken)?;
    let key = env
        .verifying_key(kid, now_ms)
        .ok_or(ServiceError::InvalidToken)?;
    let alg = key.algorithm.jwt();
    if header.alg != alg {
        return Err(ServiceError::InvalidToken);
    }
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.required_spec_claims = HashSet::new();
    validation.leeway = 0;
    validation.set_audience(&[&env.audience]);
    validation.set_issuer(&[&env.issuer]);
    let claims = jsonwebtoken::decode::<SessionClaims>(token, &key.decoding, &validation)
        .map_err(|_| ServiceError::InvalidToken)?
        .claims;
    if claims.environment_id != env.id() {
        return Err(ServiceError::InvalidToken);
    }
    // A retired key verifies what it signed while active, nothing newer:
    // whoever holds it cannot mint sessions while it stays published.
    if key
        .retired_at
        .is_some_and(|retired_ms| claims.iat > retired_ms.div_euclid(1000))
    {
        return Err(ServiceError::InvalidToken);
    }
    Ok(claims)
}
