//! Listens to the other nodes' changes and sends this node's heartbeat
//! (see `services::changes`). Ends at once with SQLite.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::task::AbortOnDropHandle;

use crate::services::changes::{Changes, Heard};

const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);
const RETRY_AFTER: Duration = Duration::from_millis(250);

/// Without its own heartbeat for this long (real time), the connection is
/// presumed dead (a half-open TCP connection never says so) and replaced.
const SILENCE_LIMIT: Duration = Duration::from_secs(5);

/// Runs the listener and the heartbeat, and runs them again should they
/// ever stop on a panic: the staleness bound must not rest on a dead task.
pub async fn supervise(changes: Arc<Changes>) {
    loop {
        // Aborted when dropped, so that aborting `supervise` stops it too.
        let task = AbortOnDropHandle::new(tokio::spawn(run(changes.clone())));
        match task.await {
            Ok(()) => return,
            Err(e) => {
                tracing::error!(error = %e, "the change listener stopped; restarting it");
                tokio::time::sleep(RETRY_AFTER).await;
            }
        }
    }
}

async fn run(changes: Arc<Changes>) {
    tokio::select! {
        () = listen(changes.clone()) => {}
        () = send_heartbeats(changes) => {}
    }
}

async fn listen(changes: Arc<Changes>) {
    loop {
        let mut hearing = match changes.listen().await {
            Ok(Some(hearing)) => hearing,
            // One node: nothing to hear, never stale.
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other nodes' changes; retrying");
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
        };
        // Changes may have been missed while not listening: the index is
        // caught up (resync) on the first own heartbeat heard, before it
        // counts as heard.
        let mut needs_resync = true;
        loop {
            let Ok(next) = tokio::time::timeout(SILENCE_LIMIT, hearing.next(&changes)).await else {
                tracing::warn!("heard nothing from the database for 5 s; reconnecting");
                break;
            };
            match next {
                Ok(Some(Heard::OwnHeartbeat(seq))) => {
                    if needs_resync {
                        if let Err(e) = changes.catch_up().await {
                            tracing::warn!(error = %e, "could not resync the revocation index");
                            continue;
                        }
                        needs_resync = false;
                        tracing::info!("hearing the other nodes");
                    }
                    changes.heard(seq);
                }
                Ok(Some(Heard::Applied)) => {}
                Ok(None) => {
                    needs_resync = true;
                    tracing::warn!("lost the connection that hears the other nodes; reconnecting");
                }
                Err(e) => {
                    needs_resync = true;
                    tracing::warn!(error = %e, "cannot hear the other nodes; retrying");
                    tokio::time::sleep(RETRY_AFTER).await;
                }
            }
        }
    }
}

async fn send_heartbeats(changes: Arc<Changes>) {
    let mut ticker = tokio::time::interval(HEARTBEAT_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        // A beat that cannot be sent within its second counts as sent and
        // unheard: the bound is in beats, so it must not stretch while the
        // database is away.
        match tokio::time::timeout(HEARTBEAT_EVERY, changes.send_heartbeat()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::debug!(error = %e, "heartbeat not sent"),
            Err(_) => tracing::debug!("heartbeat not sent within a second"),
        }
    }
}
