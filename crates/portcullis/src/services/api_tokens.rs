//! API tokens: authenticating management API callers, deciding what they
//! may do, and managing the tokens themselves (create, list, rotate with a
//! grace period, delete).

use secrecy::SecretString;
use serde_json::json;

use std::sync::Arc;

use super::environments::{EnvironmentRuntime, Environments};
use super::events::Events;
use super::{ServiceError, ServiceResult, new_id};
use crate::clock::{Clock, parse_rfc3339, rfc3339, to_millis};
use crate::crypto;
use crate::domain::actor::Actor;
use crate::domain::events;
use crate::domain::roles::{self, Role};
use crate::domain::validation::ValidationErrors;
use crate::store::{ApiTokenRecord, ApiTokenStore, EventRecord, TokenRotation};

pub const TOKEN_PREFIX: &str = "pcl_";
pub const TOKEN_ID_PREFIX: &str = "tok";
/// The longest grace period of a rotation: a week.
pub const MAX_GRACE_SECONDS: i64 = 7 * 24 * 3600;
pub const MAX_NOTE_CHARS: usize = 200;
/// `last_used_at` is written at most once a minute per token.
pub const LAST_USED_RESOLUTION_MS: i64 = 60_000;

/// Who is calling the management API.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub token_id: String,
    pub organization_id: String,
    pub environment_id: Option<String>,
    pub role: Role,
    /// When the caller's own token stops working (Unix ms).
    pub expires_at: Option<i64>,
    /// Authenticated by the secret a rotation replaced (in its grace
    /// period): good for the API's work, not for managing tokens or
    /// members, so a leaked old secret cannot rotate itself back in.
    pub via_previous_secret: bool,
}

pub fn hash_token(secret: &str) -> Vec<u8> {
    crypto::sha256(secret.as_bytes())
}

impl ApiCaller {
    /// The operator at the command line: the organization's owner.
    pub fn operator(organization_id: &str) -> ApiCaller {
        ApiCaller {
            token_id: "cli".into(),
            organization_id: organization_id.to_string(),
            environment_id: None,
            role: Role::Owner,
            expires_at: None,
            via_previous_secret: false,
        }
    }

    /// A member at the dashboard, with their role in the organization.
    pub fn member(member_id: &str, organization_id: &str, role: Role) -> ApiCaller {
        ApiCaller {
            token_id: member_id.to_string(),
            organization_id: organization_id.to_string(),
            environment_id: None,
            role,
            expires_at: None,
            via_previous_secret: false,
        }
    }

    /// Managing tokens and members needs the token's current secret.
    pub fn require_current_secret(&self) -> ServiceResult<()> {
        match self.via_previous_secret {
            false => Ok(()),
            true => Err(ServiceError::Forbidden),
        }
    }

    /// May this caller act on this environment? Another organization's
    /// environment does not exist for the caller; a token limited to
    /// another environment is refused.
    pub fn authorize(&self, env: &EnvironmentRuntime) -> ServiceResult<()> {
        if env.record.organization_id != self.organization_id {
            return Err(ServiceError::NotFound);
        }
        if self
            .environment_id
            .as_deref()
            .is_some_and(|only| only != env.id())
        {
            return Err(ServiceError::Forbidden);
        }
        Ok(())
    }

    /// Organization-wide resources (members) are out of reach of a token
    /// limited to one environment.
    pub fn authorize_organization(&self) -> ServiceResult<()> {
        match self.environment_id {
            None => Ok(()),
            Some(_) => Err(ServiceError::Forbidden),
        }
    }

    /// Can the caller see this token? Another organization's token, or one
    /// outside the caller's environment, does not exist for it.
    fn sees(&self, token: &ApiTokenRecord) -> bool {
        token.organization_id == self.organization_id
            && (self.environment_id.is_none() || self.environment_id == token.environment_id)
    }
}

/// A new token, as the caller asks for it.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub note: String,
    pub role: String,
    pub environment_id: Option<String>,
    /// RFC 3339, as the caller wrote it.
    pub expires_at: Option<String>,
}

/// An API token as its managers see it (never its secret or hash).
#[derive(Debug, Clone)]
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

impl From<&ApiTokenRecord> for ApiToken {
    fn from(t: &ApiTokenRecord) -> Self {
        ApiToken {
            id: t.id.clone(),
            note: t.note.clone(),
            role: t.role.as_str().to_string(),
            environment_id: t.environment_id.clone(),
            created_at: rfc3339(t.created_at),
            expires_at: t.expires_at.map(rfc3339),
            last_used_at: t.last_used_at.map(rfc3339),
            rotated_at: t.rotated_at.map(rfc3339),
            previous_secret_expires_at: t.previous_expires_at.map(rfc3339),
        }
    }
}

/// A token just created or rotated, with its secret: shown this once, and
/// never in `Debug`.
#[derive(Debug)]
pub struct IssuedToken {
    pub token: ApiToken,
    /// `pcl_…`
    pub secret: SecretString,
}

/// The earlier of two optional expiries (`None`: never).
fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// What the token's events carry (never the secret or its hash).
fn token_data(t: &ApiTokenRecord) -> serde_json::Value {
    json!({
        "id": t.id,
        "note": t.note,
        "role": t.role,
        "environment_id": t.environment_id,
        "expires_at": t.expires_at.map(crate::clock::rfc3339),
    })
}

pub struct ApiTokens {
    clock: Arc<dyn Clock>,
    store: Arc<dyn ApiTokenStore>,
    environments: Arc<Environments>,
    events: Arc<Events>,
}

impl ApiTokens {
    pub fn new(
        clock: Arc<dyn Clock>,
        store: Arc<dyn ApiTokenStore>,
        environments: Arc<Environments>,
        events: Arc<Events>,
    ) -> Self {
        ApiTokens {
            clock,
            store,
            environments,
            events,
        }
    }

    pub async fn authenticate(&self, secret: &str) -> ServiceResult<ApiCaller> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Err(ServiceError::InvalidApiToken);
        }
        let hash = hash_token(secret);
        let token = self
            .store
            .find_by_hash(&hash)
            .await?
            .ok_or(ServiceError::InvalidApiToken)?;
        let now = to_millis(self.clock.now());
        // The lookup was by hash; compare again in constant time so the
        // decision never rests on a non-constant-time comparison.
        let current = crypto::constant_time_eq(&token.token_hash, &hash);
        let previous = token
            .previous_hash
            .as_deref()
            .is_some_and(|p| crypto::constant_time_eq(p, &hash))
            && token.previous_expires_at.is_some_and(|until| until > now);
        if !(current || previous)
            || token.revoked_at.is_some()
            || token.expires_at.is_some_and(|exp| exp <= now)
        {
            return Err(ServiceError::InvalidApiToken);
        }
        let role = token.role;
        // `last_used_at` to the minute: not a write per request.
        if token
            .last_used_at
            .is_none_or(|last| now - last >= LAST_USED_RESOLUTION_MS)
            && let Err(e) = self.store.touch(&token.id, now).await
        {
            tracing::warn!(error = %e, "could not record an API token's use");
        }
        Ok(ApiCaller {
            token_id: token.id,
            organization_id: token.organization_id,
            environment_id: token.environment_id,
            role,
            expires_at: token.expires_at,
            via_previous_secret: !current,
        })
    }

    /// One event of `kind` about `token` in each environment it reaches.
    async fn token_events(
        &self,
        token: &ApiTokenRecord,
        kind: &str,
        actor: &Actor,
    ) -> ServiceResult<Vec<EventRecord>> {
        self.events
            .in_reach(
                &token.organization_id,
                token.environment_id.as_deref(),
                kind,
                actor,
                &token.id,
                token_data(token),
            )
            .await
    }

    /// 423 when the environment a token is limited to is locked: during an
    /// incident nobody mints or rotates that environment's tokens (deleting
    /// one stays open).
    async fn refuse_if_reach_locked(&self, environment_id: Option<&str>) -> ServiceResult<()> {
        match environment_id {
            Some(id) => self.environments.get(id).await?.refuse_if_locked(),
            None => Ok(()),
        }
    }

    /// Creates a token and returns it with its secret (shown once). Never
    /// above the caller's role, never outside the caller's environment.
    pub async fn create(
        &self,
        caller: &ApiCaller,
        input: NewToken,
        actor: &Actor,
    ) -> ServiceResult<IssuedToken> {
        caller.require_current_secret()?;
        // A limited caller learns nothing about other environments.
        if caller.environment_id.is_some()
            && input.environment_id.is_some()
            && caller.environment_id != input.environment_id
        {
            return Err(ServiceError::Forbidden);
        }
        let now = to_millis(self.clock.now());
        let mut errors = ValidationErrors::default();
        let note = input.note.trim().to_string();
        if note.is_empty()
            || note.chars().count() > MAX_NOTE_CHARS
            || note.chars().any(char::is_control)
        {
            errors.push(
                "note",
                format!(
                    "must be 1 to {MAX_NOTE_CHARS} characters without control characters: \
                     what the token is for"
                ),
            );
        }
        let role = Role::parse(&input.role);
        if role.is_none() {
            errors.push("role", "must be owner, admin, developer or viewer");
        }
        let requested = match input.expires_at.as_deref() {
            None => None,
            Some(text) => {
                let at = parse_rfc3339(text);
                match at {
                    None => errors.push(
                        "expires_at",
                        "must be an RFC 3339 time, e.g. 2027-01-31T00:00:00Z",
                    ),
                    Some(at) if at <= now => errors.push("expires_at", "must be in the future"),
                    Some(_) => {}
                }
                at
            }
        };
        // A token that expires makes none that outlives it.
        let expires_at = match (requested, caller.expires_at) {
            (None, limit) => limit,
            (Some(at), Some(limit)) if at > limit => {
                errors.push(
                    "expires_at",
                    "must not be later than the expiry of the token that creates it",
                );
                None
            }
            (at, _) => at,
        };
        let environment_id = input.environment_id.or(caller.environment_id.clone());
        if let Some(id) = &environment_id {
            let ours = match self.environments.get(id).await {
                Ok(env) => env.record.organization_id == caller.organization_id,
                Err(ServiceError::NotFound) => false,
                Err(e) => return Err(e),
            };
            if !ours {
                errors.push(
                    "environment_id",
                    "is not an environment of the organization",
                );
            }
        }
        errors.into_result().map_err(ServiceError::Validation)?;
        let role = role.ok_or_else(|| ServiceError::internal("role"))?;
        roles::check_grant(caller.role, role, true)?;
        self.refuse_if_reach_locked(environment_id.as_deref())
            .await?;
        let secret = crypto::new_secret(TOKEN_PREFIX)?;
        let record = ApiTokenRecord {
            id: new_id(self.clock.as_ref(), TOKEN_ID_PREFIX)?,
            organization_id: caller.organization_id.clone(),
            environment_id,
            role,
            note,
            token_hash: hash_token(&secret),
            created_at: now,
            expires_at,
            revoked_at: None,
            last_used_at: None,
            previous_hash: None,
            previous_expires_at: None,
            rotated_at: None,
        };
        let events = self
            .token_events(&record, events::API_TOKEN_CREATED, actor)
            .await?;
        self.store.insert(&record, &events).await?;
        Ok(IssuedToken {
            token: ApiToken::from(&record),
            secret: secret.into(),
        })
    }

    /// The tokens the caller can see that are not deleted, oldest first.
    pub async fn list(&self, caller: &ApiCaller) -> ServiceResult<Vec<ApiToken>> {
        let tokens = self
            .store
            .list(&caller.organization_id, caller.environment_id.as_deref())
            .await?;
        Ok(tokens.iter().map(ApiToken::from).collect())
    }

    /// A token the caller can see and may manage (not above its role).
    async fn manageable_token(
        &self,
        caller: &ApiCaller,
        token_id: &str,
    ) -> ServiceResult<ApiTokenRecord> {
        caller.require_current_secret()?;
        if !crypto::is_id(TOKEN_ID_PREFIX, token_id) {
            return Err(ServiceError::NotFound);
        }
        let token = self
            .store
            .get(&caller.organization_id, token_id)
            .await?
            .filter(|t| caller.sees(t))
            .ok_or(ServiceError::NotFound)?;
        let role = token.role;
        roles::check_removal(caller.role, role, true)?;
        Ok(token)
    }

    /// Deletes (revokes for good) a token; it stops working at once.
    pub async fn delete(
        &self,
        caller: &ApiCaller,
        token_id: &str,
        actor: &Actor,
    ) -> ServiceResult<()> {
        let token = self.manageable_token(caller, token_id).await?;
        let events = self
            .token_events(&token, events::API_TOKEN_DELETED, actor)
            .await?;
        let now = to_millis(self.clock.now());
        match self
            .store
            .revoke(&caller.organization_id, &token.id, now, &events)
            .await?
        {
            true => Ok(()),
            false => Err(ServiceError::NotFound),
        }
    }

    /// Gives a token a new secret. The current one keeps working for
    /// `grace_seconds` (0 to a week); one from an earlier rotation stops.
    pub async fn rotate(
        &self,
        caller: &ApiCaller,
        token_id: &str,
        grace_seconds: i64,
        actor: &Actor,
    ) -> ServiceResult<IssuedToken> {
        if !(0..=MAX_GRACE_SECONDS).contains(&grace_seconds) {
            return Err(ServiceError::Validation(ValidationErrors::single(
                "grace_seconds",
                format!("must be between 0 and {MAX_GRACE_SECONDS} (a week)"),
            )));
        }
        let mut token = self.manageable_token(caller, token_id).await?;
        // A rotation yields a secret, so it follows the rules of creation:
        // only a token the caller could have created (`manageable_token`
        // checks reach and role; for tokens, removing and granting a role
        // are one rule), and a secret that outlives neither the token nor
        // the caller's own token. A short-lived credential that rotates a
        // longer-lived token shortens it rather than minting a lasting one.
        let expires_at = earliest(token.expires_at, caller.expires_at);
        // Deleting stays open: it only takes access away.
        self.refuse_if_reach_locked(token.environment_id.as_deref())
            .await?;
        let now = to_millis(self.clock.now());
        let secret = crypto::new_secret(TOKEN_PREFIX)?;
        let hash = hash_token(&secret);
        let previous_until = now + grace_seconds * 1000;
        let events = self
            .token_events(&token, events::API_TOKEN_ROTATED, actor)
            .await?;
        let rotation = TokenRotation {
            new_hash: hash.clone(),
            previous_expires_at: previous_until,
            expires_at,
            at: now,
        };
        let rotated = self
            .store
            .rotate(&caller.organization_id, &token.id, &rotation, &events)
            .await?;
        if !rotated {
            return Err(ServiceError::NotFound);
        }
        token.expires_at = expires_at;
        token.previous_hash = Some(std::mem::replace(&mut token.token_hash, hash));
        token.previous_expires_at = Some(previous_until);
        token.rotated_at = Some(now);
        Ok(IssuedToken {
            token: ApiToken::from(&token),
            secret: secret.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = "pcl_0123456789abcdef";
        let issued = IssuedToken {
            token: ApiToken {
                id: "tok_1".into(),
                note: "ci".into(),
                role: "admin".into(),
                environment_id: None,
                created_at: "2026-01-01T00:00:00Z".into(),
                expires_at: None,
                last_used_at: None,
                rotated_at: None,
                previous_secret_expires_at: None,
            },
            secret: secret.into(),
        };
        let shown = format!("{issued:?}");
        assert!(
            shown.contains("tok_1") && !shown.contains(secret),
            "{shown}"
        );
    }
}
