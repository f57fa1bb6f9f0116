//! Every second (`Config::lock_watch_interval`), compares the cached environments' lock with the
//! database's, so a lock made by another process (the `portcullis env
//! lock` command on a running server's data directory) takes effect here
//! within a second. With PostgreSQL the lock's own notification is faster;
//! this is the safety net.

use std::sync::Arc;
use std::time::Duration;

use crate::services::lock::EnvironmentLocks;

pub async fn run(locks: Arc<EnvironmentLocks>, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(e) = locks.notice_lock_changes().await {
            tracing::debug!(error = %e, "could not read the environments' locks");
        }
    }
}
