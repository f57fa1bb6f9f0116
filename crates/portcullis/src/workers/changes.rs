//! Listens to the other nodes' changes and sends this node's heartbeat
//! (see `services::changes`). Ends at once with SQLite.

use std::sync::Arc;
use std::time::Duration;

use crate::services::Services;
use crate::store::Change;

const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);
const RETRY_AFTER: Duration = Duration::from_millis(250);

/// Without its own heartbeat for this long (real time), the connection is
/// presumed dead (a half-open TCP connection never says so) and replaced.
const SILENCE_LIMIT: Duration = Duration::from_secs(5);

/// Runs the listener and the heartbeat, and runs them again should they
/// ever stop on a panic: the staleness bound must not rest on a dead task.
pub async fn supervise(services: Arc<Services>) {
    loop {
        let task = AbortOnDrop(tokio::spawn(run(services.clone())));
        match task.wait().await {
            Ok(()) => return,
            Err(e) => {
                tracing::error!(error = %e, "the change listener stopped; restarting it");
                tokio::time::sleep(RETRY_AFTER).await;
            }
        }
    }
}

/// Aborts the task when dropped, so that aborting `supervise` stops it too.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl AbortOnDrop {
    async fn wait(mut self) -> Result<(), tokio::task::JoinError> {
        (&mut self.0).await
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn run(services: Arc<Services>) {
    tokio::select! {
        () = listen(services.clone()) => {}
        () = send_heartbeats(services) => {}
    }
}

async fn listen(services: Arc<Services>) {
    loop {
        let mut listener = match services.store.changes.listen().await {
            Ok(Some(listener)) => listener,
            Ok(None) => {
                services.changes.set_single_node();
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other nodes' changes; retrying");
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
        };
        // Changes may have been missed before the first heartbeat is heard.
        let mut needs_resync = true;
        loop {
            let Ok(next) = tokio::time::timeout(SILENCE_LIMIT, listener.next()).await else {
                tracing::warn!("heard nothing from the database for 5 s; reconnecting");
                break;
            };
            match next {
                Ok(Some(Change::Heartbeat { node, seq })) if node == services.changes.node() => {
                    if needs_resync {
                        let now_s = services.clock.now().unix_timestamp();
                        if let Err(e) = services.revocations.resync(&services.store, now_s).await {
                            tracing::warn!(error = %e, "could not resync the revocation index");
                            continue;
                        }
                        services.environments.invalidate_all();
                        needs_resync = false;
                        tracing::info!("hearing the other nodes");
                    }
                    services.changes.heard(seq);
                }
                Ok(Some(change)) => services.apply_change(&change),
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

async fn send_heartbeats(services: Arc<Services>) {
    let mut ticker = tokio::time::interval(HEARTBEAT_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let beat = Change::Heartbeat {
            node: services.changes.node().to_string(),
            seq: services.changes.next_heartbeat(),
        };
        // A beat that cannot be sent within its second counts as sent and
        // unheard: the bound is in beats, so it must not stretch while the
        // database is away.
        match tokio::time::timeout(HEARTBEAT_EVERY, services.store.changes.publish(&beat)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::debug!(error = %e, "heartbeat not sent"),
            Err(_) => tracing::debug!("heartbeat not sent within a second"),
        }
    }
}
