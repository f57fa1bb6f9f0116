//! The owner's emergency lock: a locked environment answers every SDK
//! request and every management request for it with 423, except reading
//! the environment and unlocking; its sessions are refused but not revoked
//! (docs/access.md). The flag lives in the environment's record, so it
//! travels with the cached runtime and its invalidation (PostgreSQL:
//! `EnvironmentChanged` in the lock's own transaction).

use std::sync::Arc;

use serde_json::json;

use serde::Serialize;

use super::api_tokens::ApiCaller;
use super::environments::EnvironmentRuntime;
use super::events::Actor;
use super::{ServiceError, ServiceResult, Services};
use crate::clock::rfc3339;
use crate::domain::events;

/// An environment as operators see it (the API's and the command's answer).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnvironmentInfo {
    pub id: String,
    pub project_id: String,
    pub organization_id: String,
    /// `sandbox` or `live`
    pub kind: String,
    pub locked: bool,
    pub created_at: String,
    pub issuer: String,
}

impl EnvironmentInfo {
    pub fn of(env: &EnvironmentRuntime) -> EnvironmentInfo {
        let r = &env.record;
        EnvironmentInfo {
            id: r.id.clone(),
            project_id: r.project_id.clone(),
            organization_id: r.organization_id.clone(),
            kind: r.kind.clone(),
            locked: r.locked,
            created_at: rfc3339(r.created_at),
            issuer: env.issuer.clone(),
        }
    }
}

impl EnvironmentRuntime {
    pub fn is_locked(&self) -> bool {
        self.record.locked
    }

    /// 423 `environment_locked` when the environment is locked.
    pub fn refuse_if_locked(&self) -> ServiceResult<()> {
        match self.is_locked() {
            true => Err(ServiceError::EnvironmentLocked),
            false => Ok(()),
        }
    }
}

impl Services {
    /// The environment, for SDK traffic: 423 when it is locked. Every SDK
    /// path reaches its environment through here (or `http/lock.rs` first).
    pub async fn open_environment(&self, id: &str) -> ServiceResult<Arc<EnvironmentRuntime>> {
        let env = self.environment(id).await?;
        env.refuse_if_locked()?;
        Ok(env)
    }

    /// Locks or unlocks, for a caller that may act on the environment (the
    /// owner's role is the route's to check). Idempotent: nothing happens,
    /// and no event is written, when it was so already.
    pub async fn lock_environment(
        &self,
        caller: &ApiCaller,
        environment_id: &str,
        locked: bool,
        actor: &Actor,
    ) -> ServiceResult<EnvironmentInfo> {
        let env = self.environment(environment_id).await?;
        caller.authorize(&env)?;
        let kind = match locked {
            true => events::ENVIRONMENT_LOCKED,
            false => events::ENVIRONMENT_UNLOCKED,
        };
        let event = self.new_event(&env, kind, actor, None, Some(json!({ "locked": locked })))?;
        let changed = self
            .store
            .environments
            .set_locked(env.id(), locked, &event)
            .await?;
        if changed {
            self.environments.invalidate(env.id());
            self.outbox.wake();
        }
        Ok(EnvironmentInfo {
            locked,
            ..EnvironmentInfo::of(&env)
        })
    }

    /// The caller's organization's environments, oldest first.
    pub async fn environments_of(&self, caller: &ApiCaller) -> ServiceResult<Vec<EnvironmentInfo>> {
        let records = self
            .store
            .environments
            .in_organization(&caller.organization_id)
            .await?;
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            let env = self.environment(&r.id).await?;
            if caller.authorize(&env).is_ok() {
                out.push(EnvironmentInfo::of(&env));
            }
        }
        Ok(out)
    }

    /// Drops cached environments whose lock changed in the database behind
    /// this node's back (the CLI on a running server's data directory).
    pub async fn notice_lock_changes(&self) -> ServiceResult<()> {
        for (id, locked) in self.store.environments.lock_states().await? {
            if self
                .environments
                .cached(&id)
                .is_some_and(|env| env.is_locked() != locked)
            {
                self.environments.invalidate(&id);
            }
        }
        Ok(())
    }
}
