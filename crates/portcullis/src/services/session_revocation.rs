//! Revoking sessions in three scopes: one session, every session of a
//! user, every session of an environment. Each writes the store and its
//! event in one transaction, then raises this node's revocation index at
//! once (the other nodes hear it through `changes.rs`).

use std::future::Future;
use std::sync::Arc;

use super::activity::ActivityTracker;
use super::environments::Environments;
use super::events::Events;
use super::revocations::Revocations;
use super::sessions::Session;
use super::{ServiceError, ServiceResult};
use crate::clock::{Clock, to_millis};
use crate::domain::actor::{Actor, ActorKind};
use crate::domain::events;
use crate::metrics::Metrics;
use crate::store::{EnvironmentStore, Revocation, SessionStore, UserStore};

/// What a revocation records of who made it.
fn revocation_by(actor: &Actor, at: i64) -> Revocation {
    Revocation {
        at,
        by_kind: actor.kind.revoked_by_kind().into(),
        by_id: Some(actor.id.clone()),
    }
}

pub struct SessionRevocation {
    clock: Arc<dyn Clock>,
    sessions: Arc<dyn SessionStore>,
    users: Arc<dyn UserStore>,
    environment_store: Arc<dyn EnvironmentStore>,
    environments: Arc<Environments>,
    events: Arc<Events>,
    revocations: Arc<Revocations>,
    activity: Arc<ActivityTracker>,
    metrics: Metrics,
}

/// What the revocation service is built from.
pub struct SessionRevocationParts {
    pub clock: Arc<dyn Clock>,
    pub sessions: Arc<dyn SessionStore>,
    pub users: Arc<dyn UserStore>,
    pub environment_store: Arc<dyn EnvironmentStore>,
    pub environments: Arc<Environments>,
    pub events: Arc<Events>,
    pub revocations: Arc<Revocations>,
    pub activity: Arc<ActivityTracker>,
    pub metrics: Metrics,
}

impl SessionRevocation {
    pub fn new(p: SessionRevocationParts) -> Self {
        SessionRevocation {
            clock: p.clock,
            sessions: p.sessions,
            users: p.users,
            environment_store: p.environment_store,
            environments: p.environments,
            events: p.events,
            revocations: p.revocations,
            activity: p.activity,
            metrics: p.metrics,
        }
    }

    /// Runs a store change and the index update that must follow it as one
    /// task of its own, so a client that disconnects cannot leave the
    /// database revoked and this node's index not.
    async fn detached<T, Fut>(
        self: &Arc<Self>,
        work: impl FnOnce(Arc<SessionRevocation>) -> Fut,
    ) -> ServiceResult<T>
    where
        T: Send + 'static,
        Fut: Future<Output = ServiceResult<T>> + Send + 'static,
    {
        tokio::spawn(work(self.clone()))
            .await
            .map_err(|e| ServiceError::internal(format!("revocation task failed: {e}")))?
    }

    /// Revokes one session. `owner`, when given, must own it (a user revoking
    /// their own); otherwise it does not exist for them.
    pub async fn session(
        self: &Arc<Self>,
        environment_id: &str,
        session_id: &str,
        owner: Option<&str>,
        actor: &Actor,
    ) -> ServiceResult<Session> {
        let current = self
            .sessions
            .get(environment_id, session_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if owner.is_some_and(|user| user != current.session.user_id) {
            return Err(ServiceError::NotFound);
        }
        let (environment_id, session_id, actor) = (
            environment_id.to_string(),
            session_id.to_string(),
            actor.clone(),
        );
        let kind = match actor.kind {
            ActorKind::User => events::USER_SESSION_REVOKED,
            _ => events::ADMIN_USER_SESSION_REVOKED,
        };
        self.detached(move |services| async move {
            let now = to_millis(services.clock.now());
            let env = services.environments.get(&environment_id).await?;
            let event = services
                .events
                .new_event(&env, kind, &actor, Some(&session_id), None)?;
            let view = services
                .sessions
                .revoke(
                    &environment_id,
                    &session_id,
                    &revocation_by(&actor, now),
                    &event,
                )
                .await?
                .ok_or(ServiceError::NotFound)?;
            services
                .revocations
                .write()
                .revoke_session(&session_id, view.session.expires_at / 1000);
            services.metrics.revocation("session", 1);
            Ok(Session::from_view(
                &view,
                services.activity.pending_for(&session_id),
            ))
        })
        .await
    }

    pub async fn user(
        self: &Arc<Self>,
        environment_id: &str,
        user_id: &str,
        actor: &Actor,
    ) -> ServiceResult<u64> {
        let (environment_id, user_id, actor) = (
            environment_id.to_string(),
            user_id.to_string(),
            actor.clone(),
        );
        self.detached(move |services| async move {
            let now = services.clock.now();
            let env = services.environments.get(&environment_id).await?;
            let mut event = services.events.new_event(
                &env,
                events::USER_SESSIONS_REVOKED,
                &actor,
                Some(&user_id),
                None,
            )?;
            event.fanout = Some(events::FANOUT_USER_SESSIONS.into());
            let (count, epoch) = services
                .users
                .revoke_sessions(
                    &environment_id,
                    &user_id,
                    &revocation_by(&actor, to_millis(now)),
                    &event,
                )
                .await?;
            services
                .revocations
                .write()
                .raise_user_epoch(&user_id, epoch, now.unix_timestamp());
            services.metrics.revocation("user", count);
            Ok(count)
        })
        .await
    }

    pub async fn environment(
        self: &Arc<Self>,
        environment_id: &str,
        actor: &Actor,
    ) -> ServiceResult<u64> {
        let (environment_id, actor) = (environment_id.to_string(), actor.clone());
        self.detached(move |services| async move {
            let now = services.clock.now();
            let env = services.environments.get(&environment_id).await?;
            let mut event = services.events.new_event(
                &env,
                events::ENVIRONMENT_SESSIONS_REVOKED,
                &actor,
                Some(&environment_id),
                None,
            )?;
            event.fanout = Some(events::FANOUT_ENVIRONMENT_SESSIONS.into());
            let (count, epoch) = services
                .environment_store
                .revoke_all_sessions(
                    &environment_id,
                    &revocation_by(&actor, to_millis(now)),
                    &event,
                )
                .await?;
            services
                .revocations
                .write()
                .raise_environment_epoch(&environment_id, epoch);
            services.metrics.revocation("environment", count);
            Ok(count)
        })
        .await
    }
}
