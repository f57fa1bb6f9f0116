//! Hearing the other nodes (PostgreSQL `LISTEN`): their revocations and
//! changed environments, applied to this node's memory at once, and this
//! node's own heartbeats, which tell it that it hears everything
//! (`change_state.rs`). The worker (`workers/changes.rs`) drives it.

use std::sync::Arc;

use super::ServiceResult;
use super::change_state::ChangeState;
use super::environments::Environments;
use super::revocations::Revocations;
use crate::clock::Clock;
use crate::store::{Change, ChangeFeed, ChangeListener};

pub struct Changes {
    clock: Arc<dyn Clock>,
    feed: Arc<dyn ChangeFeed>,
    state: Arc<ChangeState>,
    environments: Arc<Environments>,
    revocations: Arc<Revocations>,
}

/// What a listening connection heard.
pub enum Heard {
    /// This node's own heartbeat `seq`: everything committed before it
    /// was sent has been heard.
    OwnHeartbeat(u64),
    /// Another node's change, applied to this node's memory already.
    Applied,
}

/// One listening connection.
pub struct Hearing(Box<dyn ChangeListener>);

impl Hearing {
    /// The next thing heard. `Ok(None)`: the connection was lost and
    /// changes may have been missed; the next call reconnects.
    pub async fn next(&mut self, changes: &Changes) -> ServiceResult<Option<Heard>> {
        Ok(match self.0.next().await? {
            Some(Change::Heartbeat { node, seq }) if node == changes.state.node() => {
                Some(Heard::OwnHeartbeat(seq))
            }
            Some(change) => {
                changes.apply(&change);
                Some(Heard::Applied)
            }
            None => None,
        })
    }
}

impl Changes {
    pub fn new(
        clock: Arc<dyn Clock>,
        feed: Arc<dyn ChangeFeed>,
        state: Arc<ChangeState>,
        environments: Arc<Environments>,
        revocations: Arc<Revocations>,
    ) -> Self {
        Changes {
            clock,
            feed,
            state,
            environments,
            revocations,
        }
    }

    /// Starts listening; `None` (and the node marked single) when there are
    /// no other nodes to hear.
    pub async fn listen(&self) -> ServiceResult<Option<Hearing>> {
        match self.feed.listen().await? {
            Some(listener) => Ok(Some(Hearing(listener))),
            None => {
                self.state.set_single_node();
                Ok(None)
            }
        }
    }

    /// After a (re)connection: merges the store into the revocation index
    /// and drops cached environments, since changes may have been missed.
    pub async fn catch_up(&self) -> ServiceResult<()> {
        self.revocations
            .resync(self.clock.now().unix_timestamp())
            .await?;
        self.environments.invalidate_all();
        Ok(())
    }

    /// Heartbeat `seq` came back, and the index has caught up with it.
    pub fn heard(&self, seq: u64) {
        self.state.heard(seq);
    }

    /// Sends the next heartbeat.
    pub async fn send_heartbeat(&self) -> ServiceResult<()> {
        let beat = Change::Heartbeat {
            node: self.state.node().to_string(),
            seq: self.state.next_heartbeat(),
        };
        Ok(self.feed.publish(&beat).await?)
    }

    /// This process hears no one (the operator's commands): nothing makes
    /// it stale.
    pub fn set_single_node(&self) {
        self.state.set_single_node();
    }

    /// Whether this node may have missed changes (`/readyz`).
    pub fn is_stale(&self) -> bool {
        self.state.is_stale()
    }

    /// This node's id among the nodes.
    pub fn node(&self) -> &str {
        self.state.node()
    }

    /// Applies another node's change (or an echo of this node's own, which
    /// changes nothing: the index only ever raises).
    fn apply(&self, change: &Change) {
        match change {
            Change::SessionRevoked { session_id, exp } => {
                self.revocations.write().revoke_session(session_id, *exp);
            }
            Change::UserRevoked {
                user_id,
                epoch,
                at_s,
            } => {
                self.revocations
                    .write()
                    .raise_user_epoch(user_id, *epoch, *at_s);
            }
            Change::EnvironmentRevoked {
                environment_id,
                epoch,
            } => {
                self.revocations
                    .write()
                    .raise_environment_epoch(environment_id, *epoch);
            }
            Change::EnvironmentChanged { environment_id } => {
                self.environments.invalidate(environment_id);
            }
            // Revocations are merged from the store every minute anyway.
            Change::Unreadable => self.environments.invalidate_all(),
            Change::Heartbeat { .. } => {}
        }
    }
}
