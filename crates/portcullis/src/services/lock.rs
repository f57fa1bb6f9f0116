//! The owner's emergency lock: a locked environment answers every SDK
//! request and every management request for it with 423, except reading
//! the environment and unlocking; its sessions are refused but not revoked
//! (docs/access.md). The flag lives in the environment's record, so it
//! travels with the cached runtime and its invalidation (PostgreSQL:
//! `EnvironmentChanged` in the lock's own transaction).

use std::sync::Arc;

use serde_json::json;

use super::environments::EnvironmentRuntime;
use super::events::Actor;
use super::{ServiceError, ServiceResult, Services};
use crate::domain::events;

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

    /// Locks or unlocks. Idempotent: `false` (and no event) when the
    /// environment was so already.
    pub async fn set_locked(
        &self,
        env: &EnvironmentRuntime,
        locked: bool,
        actor: &Actor,
    ) -> ServiceResult<bool> {
        let kind = match locked {
            true => events::ENVIRONMENT_LOCKED,
            false => events::ENVIRONMENT_UNLOCKED,
        };
        let event = self.new_event(env, kind, actor, None, Some(json!({ "locked": locked })))?;
        let changed = self
            .store
            .environments
            .set_locked(env.id(), locked, &event)
            .await?;
        self.environments.invalidate(env.id());
        if changed {
            self.outbox.wake();
        }
        Ok(changed)
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
