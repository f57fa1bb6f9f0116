//! Flushes coalesced `last_active_at` updates, prunes the revocation index
//! and forgets idle rate-limit keys, on a fixed interval.

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

pub async fn run(services: Arc<Services>, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        flush_activity(&services).await;
        let now_s = services.clock.now().unix_timestamp();
        services
            .revocations
            .write()
            .prune(now_s, i64::from(MAX_JWT_EXPIRATION_SECONDS));
        services.rate_limits.forget_idle();
        let now_ms = crate::clock::to_millis(services.clock.now());
        if let Err(e) = services.store.sessions.prune_expired(now_ms).await {
            tracing::warn!(error = %e, "could not prune session counters");
        }
        if let Err(e) = services.store.verifications.prune_expired(now_ms).await {
            tracing::warn!(error = %e, "could not prune verifications");
        }
    }
}
