//! The owner's emergency lock: a locked environment answers every SDK
//! request and every management request for it with 423, except reading
//! the environment and unlocking; its sessions are refused but not revoked
//! (docs/access.md). The flag lives in the environment's record, so it
//! travels with the cached runtime and its invalidation (PostgreSQL:
//! `EnvironmentChanged` in the lock's own transaction).

use std::sync::Arc;

use serde_json::json;

use super::ServiceResult;
use super::api_tokens::ApiCaller;
use super::environments::{EnvironmentRuntime, Environments};
use super::events::Events;
use super::outbox_signal::OutboxSignal;
use crate::clock::rfc3339;
use crate::domain::actor::Actor;
use crate::domain::events;
use crate::store::EnvironmentStore;

/// An environment as operators see it.
#[derive(Debug, Clone)]
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

/// The owner's lock, and the organization's environments as callers see
/// them.
pub struct EnvironmentLocks {
    store: Arc<dyn EnvironmentStore>,
    environments: Arc<Environments>,
    events: Arc<Events>,
    outbox: Arc<OutboxSignal>,
}

impl EnvironmentLocks {
    pub fn new(
        store: Arc<dyn EnvironmentStore>,
        environments: Arc<Environments>,
        events: Arc<Events>,
        outbox: Arc<OutboxSignal>,
    ) -> Self {
        EnvironmentLocks {
            store,
            environments,
            events,
            outbox,
        }
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
        let env = self.environments.get(environment_id).await?;
        caller.authorize(&env)?;
        let kind = match locked {
            true => events::ENVIRONMENT_LOCKED,
            false => events::ENVIRONMENT_UNLOCKED,
        };
        let event =
            self.events
                .new_event(&env, kind, actor, None, Some(json!({ "locked": locked })))?;
        let changed = self.store.set_locked(env.id(), locked, &event).await?;
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
        Ok(self
            .environments
            .in_organization(&caller.organization_id)
            .await?
            .iter()
            .filter(|env| caller.authorize(env).is_ok())
            .map(|env| EnvironmentInfo::of(env))
            .collect())
    }

    /// Drops cached environments whose lock changed in the database behind
    /// this node's back (the CLI on a running server's data directory).
    pub async fn notice_lock_changes(&self) -> ServiceResult<()> {
        for (id, locked) in self.store.lock_states().await? {
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
