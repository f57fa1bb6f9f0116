//! On a fixed interval, this node's own upkeep and, when this node claims
//! it, the shared database's (`services::maintenance`).

use std::sync::Arc;
use std::time::Duration;

use crate::services::maintenance::Maintenance;

/// How many ticks between two merges of the store's revocations into the
/// index (a safety net: local revocations update the index at once).
const RESYNC_EVERY_TICKS: u64 = 6;

pub async fn run(maintenance: Arc<Maintenance>, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for tick in 1u64.. {
        ticker.tick().await;
        maintenance.flush_activity().await;
        if tick % RESYNC_EVERY_TICKS == 0
            && let Err(e) = maintenance.resync_revocations().await
        {
            tracing::warn!(error = %e, "could not resync the revocation index");
        }
        maintenance.prune_revocation_index();
        if let Err(e) = maintenance.prune_if_due().await {
            tracing::warn!(error = %e, "could not claim the pruning job");
        }
    }
}
