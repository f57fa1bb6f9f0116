//! On a fixed interval, this node's own upkeep: flushes coalesced
//! `last_active_at` updates, merges the store's revocations into the index
//! and prunes it. And the shared database's upkeep (expired verifications
//! and session counters, idle rate-limit keys, spent elevated tokens, WebAuthn challenges, events and their deliveries past retention), which one node at a time
//! claims (`store::JobStore`), so N nodes do not do it N times.

use std::sync::Arc;
use std::time::Duration;

use crate::domain::settings::MAX_JWT_EXPIRATION_SECONDS;
use crate::services::Services;

pub async fn flush_activity(services: &Services) {
    let batch = services.activity.drain();
    if let Err(e) = services.store.sessions.record_activity(&batch).await {
        tracing::warn!(error = %e, sessions = batch.len(), "could not record session activity");
    }
}

/// The shared database's pruning job and how often it is due (clock time).
const PRUNE_JOB: &str = "prune";
const PRUNE_EVERY_MS: i64 = 60_000;
const SPENT_TOKEN_MARGIN_MS: i64 = 5 * 60_000;

/// How many ticks between two merges of the store's revocations into the
/// index (a safety net: local revocations update the index at once).
const RESYNC_EVERY_TICKS: u64 = 6;

pub async fn run(services: Arc<Services>, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for tick in 1u64.. {
        ticker.tick().await;
        flush_activity(&services).await;
        let now = services.clock.now();
        let (now_s, now_ms) = (now.unix_timestamp(), crate::clock::to_millis(now));
        if tick % RESYNC_EVERY_TICKS == 0
            && let Err(e) = services.revocations.resync(&services.store, now_s).await
        {
            tracing::warn!(error = %e, "could not resync the revocation index");
        }
        services
            .revocations
            .write()
            .prune(now_s, i64::from(MAX_JWT_EXPIRATION_SECONDS));
        match services
            .store
            .jobs
            .claim(PRUNE_JOB, services.changes.node(), now_ms, PRUNE_EVERY_MS)
            .await
        {
            Ok(true) => prune(&services, now_ms).await,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "could not claim the pruning job"),
        }
    }
}

async fn prune(services: &Services, now_ms: i64) {
    services.rate_limits.forget_idle().await;
    if let Err(e) = services.store.sessions.prune_expired(now_ms).await {
        tracing::warn!(error = %e, "could not prune session counters");
    }
    if let Err(e) = services.store.verifications.prune_expired(now_ms).await {
        tracing::warn!(error = %e, "could not prune verifications");
    }
    // A margin for nodes whose clocks lag: a spent elevated token must stay
    // known until no node could still take it for unexpired.
    if let Err(e) = services
        .store
        .mfa
        .prune_expired(now_ms - SPENT_TOKEN_MARGIN_MS)
        .await
    {
        tracing::warn!(error = %e, "could not prune elevated tokens and WebAuthn challenges");
    }
    match services.prune_events(now_ms).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            rows = n,
            "pruned events, deliveries and mails past retention"
        ),
        Err(e) => tracing::warn!(error = %e, "could not prune events, deliveries and mails"),
    }
}
