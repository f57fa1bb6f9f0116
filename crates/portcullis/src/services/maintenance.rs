//! Upkeep, as `workers/maintenance.rs` runs it on an interval: this node's
//! own (coalesced `last_active_at` writes, the revocation index merged with
//! the store and pruned), and the shared database's (expired verifications
//! and session counters, idle rate-limit keys, spent elevated tokens,
//! WebAuthn challenges, events and their deliveries past retention,
//! members' expired sign-in codes and ended dashboard sessions), which
//! one node at a time claims (`store::JobStore`), so N nodes do not do it
//! N times.

use std::sync::Arc;

use super::ServiceResult;
use super::activity::ActivityTracker;
use super::change_state::ChangeState;
use super::events::Events;
use super::rate_limit::RateLimits;
use super::revocations::Revocations;
use crate::clock::{Clock, to_millis};
use crate::domain::member_session::IDLE_TIMEOUT_MS;
use crate::domain::revocation::FEED_RETENTION_MS;
use crate::domain::settings::MAX_JWT_EXPIRATION_SECONDS;
use crate::store::{JobStore, MemberAccessStore, MfaStore, SessionStore, VerificationStore};

/// The shared database's pruning job and how often it is due (clock time).
const PRUNE_JOB: &str = "prune";
const PRUNE_EVERY_MS: i64 = 60_000;
/// Spent elevated tokens are kept this long past their expiry.
const SPENT_TOKEN_MARGIN_MS: i64 = 5 * 60_000;

pub struct Maintenance {
    clock: Arc<dyn Clock>,
    jobs: Arc<dyn JobStore>,
    sessions: Arc<dyn SessionStore>,
    verifications: Arc<dyn VerificationStore>,
    member_access: Arc<dyn MemberAccessStore>,
    mfa: Arc<dyn MfaStore>,
    rate_limits: Arc<RateLimits>,
    events: Arc<Events>,
    revocations: Arc<Revocations>,
    activity: Arc<ActivityTracker>,
    state: Arc<ChangeState>,
}

/// What upkeep is built from.
pub struct MaintenanceParts {
    pub clock: Arc<dyn Clock>,
    pub jobs: Arc<dyn JobStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub verifications: Arc<dyn VerificationStore>,
    pub member_access: Arc<dyn MemberAccessStore>,
    pub mfa: Arc<dyn MfaStore>,
    pub rate_limits: Arc<RateLimits>,
    pub events: Arc<Events>,
    pub revocations: Arc<Revocations>,
    pub activity: Arc<ActivityTracker>,
    pub state: Arc<ChangeState>,
}

impl Maintenance {
    pub fn new(p: MaintenanceParts) -> Self {
        Maintenance {
            clock: p.clock,
            jobs: p.jobs,
            sessions: p.sessions,
            verifications: p.verifications,
            member_access: p.member_access,
            mfa: p.mfa,
            rate_limits: p.rate_limits,
            events: p.events,
            revocations: p.revocations,
            activity: p.activity,
            state: p.state,
        }
    }

    /// Writes the sessions' latest activity noted since the last flush.
    pub async fn flush_activity(&self) {
        let batch = self.activity.drain();
        if let Err(e) = self.sessions.record_activity(&batch).await {
            tracing::warn!(error = %e, sessions = batch.len(), "could not record session activity");
        }
    }

    /// Merges the store's revocations into this node's index (a safety
    /// net: local revocations update the index at once).
    pub async fn resync_revocations(&self) -> ServiceResult<()> {
        let now_s = self.clock.now().unix_timestamp();
        Ok(self.revocations.resync(now_s).await?)
    }

    /// Forgets revocations of tokens that expired anyway.
    pub fn prune_revocation_index(&self) {
        let now_s = self.clock.now().unix_timestamp();
        self.revocations
            .write()
            .prune(now_s, i64::from(MAX_JWT_EXPIRATION_SECONDS));
    }

    /// The shared database's pruning, if this node gets the job now.
    pub async fn prune_if_due(&self) -> ServiceResult<()> {
        let now_ms = to_millis(self.clock.now());
        if self
            .jobs
            .claim(PRUNE_JOB, self.state.node(), now_ms, PRUNE_EVERY_MS)
            .await?
        {
            self.prune(now_ms).await;
        }
        Ok(())
    }

    async fn prune(&self, now_ms: i64) {
        self.rate_limits.forget_idle().await;
        if let Err(e) = self.sessions.prune_expired(now_ms).await {
            tracing::warn!(error = %e, "could not prune session counters");
        }
        if let Err(e) = self
            .sessions
            .prune_revocation_log(now_ms - FEED_RETENTION_MS)
            .await
        {
            tracing::warn!(error = %e, "could not prune the revocation feed");
        }
        if let Err(e) = self.verifications.prune_expired(now_ms).await {
            tracing::warn!(error = %e, "could not prune verifications");
        }
        if let Err(e) = self
            .member_access
            .prune_member_access(now_ms, IDLE_TIMEOUT_MS)
            .await
        {
            tracing::warn!(error = %e, "could not prune members' sign-ins and sessions");
        }
        // A margin for nodes whose clocks lag: a spent elevated token must stay
        // known until no node could still take it for unexpired.
        if let Err(e) = self.mfa.prune_expired(now_ms - SPENT_TOKEN_MARGIN_MS).await {
            tracing::warn!(error = %e, "could not prune elevated tokens and WebAuthn challenges");
        }
        match self.events.prune_events(now_ms).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                rows = n,
                "pruned events, deliveries and mails past retention"
            ),
            Err(e) => tracing::warn!(error = %e, "could not prune events, deliveries and mails"),
        }
    }
}
