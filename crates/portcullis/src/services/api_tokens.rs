//! Authenticating management API callers by their API token, and deciding
//! what they may do.

use super::environments::EnvironmentRuntime;
use super::{ServiceError, ServiceResult, Services};
use crate::clock::to_millis;
use crate::crypto;
use crate::domain::roles::Role;

pub const TOKEN_PREFIX: &str = "pcl_";

/// Who is calling the management API.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub token_id: String,
    pub organization_id: String,
    pub environment_id: Option<String>,
    pub role: Role,
}

pub fn hash_token(secret: &str) -> Vec<u8> {
    crypto::sha256(secret.as_bytes())
}

impl ApiCaller {
    /// May this caller act on this environment with this role? Another
    /// organization's environment does not exist for the caller.
    pub fn authorize(&self, env: &EnvironmentRuntime, needed: Role) -> ServiceResult<()> {
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
        if !self.role.allows(needed) {
            return Err(ServiceError::Forbidden);
        }
        Ok(())
    }
}

impl Services {
    pub async fn authenticate_api_token(&self, secret: &str) -> ServiceResult<ApiCaller> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Err(ServiceError::InvalidApiToken);
        }
        let hash = hash_token(secret);
        let token = self
            .store
            .api_tokens
            .find_by_hash(&hash)
            .await?
            .ok_or(ServiceError::InvalidApiToken)?;
        // The lookup was by hash; compare again in constant time so the
        // decision never rests on a non-constant-time comparison.
        if !crypto::constant_time_eq(&token.token_hash, &hash) {
            return Err(ServiceError::InvalidApiToken);
        }
        let now = to_millis(self.clock.now());
        if token.revoked_at.is_some() || token.expires_at.is_some_and(|exp| exp <= now) {
            return Err(ServiceError::InvalidApiToken);
        }
        let role = Role::parse(&token.role)
            .ok_or_else(|| ServiceError::Internal("unknown role".into()))?;
        self.store.api_tokens.touch(&token.id, now).await?;
        Ok(ApiCaller {
            token_id: token.id,
            organization_id: token.organization_id,
            environment_id: token.environment_id,
            role,
        })
    }
}
