//! What this node hears from the others, and whether it can still trust
//! its in-memory revocation state.
//!
//! With PostgreSQL every node publishes its changes (`store::Change`) and
//! listens to everyone's. Each node also sends itself a numbered heartbeat
//! every second through the same channel. Hearing its own heartbeat proves
//! that the node has heard every change committed before it was sent
//! (PostgreSQL delivers notifications in commit order). When more than
//! `MAX_UNHEARD` heartbeats in a row go unheard (database or listening
//! connection down), the node refuses session checks with 503 rather than
//! accept a session that may have been revoked elsewhere, and `/readyz`
//! says not ready. The bound is counted in heartbeats, which tick in real
//! time: it is about the connection, not about the time tokens carry.
//!
//! It recovers on its own: after a reconnection it first hears a
//! heartbeat, then merges the store into its index (`resync`), and only
//! then counts that heartbeat as heard.
//!
//! With SQLite there is one node and nothing to hear: never stale.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Heartbeats (one a second) that may go unheard before the node stops
/// trusting its revocation index. Documented in docs/deployment.md.
pub const MAX_UNHEARD: u64 = 5;

pub struct ChangeState {
    node: String,
    /// Another node may exist (PostgreSQL); false for SQLite.
    shared: AtomicBool,
    /// Heartbeats this node has tried to send.
    sent: AtomicU64,
    /// The newest of its own heartbeats it has heard, caught up.
    heard: AtomicU64,
}

impl ChangeState {
    /// A node whose index was just loaded from the store: complete now.
    pub fn new(node: String) -> Self {
        ChangeState {
            node,
            shared: AtomicBool::new(true),
            sent: AtomicU64::new(0),
            heard: AtomicU64::new(0),
        }
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    /// There are no other nodes: the index is always complete.
    pub fn set_single_node(&self) {
        self.shared.store(false, Ordering::SeqCst);
    }

    /// The number of the next heartbeat to send.
    pub fn next_heartbeat(&self) -> u64 {
        self.sent.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Heartbeat `seq` came back and the index has caught up with it.
    pub fn heard(&self, seq: u64) {
        self.heard.fetch_max(seq, Ordering::SeqCst);
    }

    pub fn is_stale(&self) -> bool {
        self.shared.load(Ordering::SeqCst)
            && self
                .sent
                .load(Ordering::SeqCst)
                .saturating_sub(self.heard.load(Ordering::SeqCst))
                > MAX_UNHEARD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_after_more_than_the_allowed_unheard_heartbeats_and_fresh_once_heard() {
        let state = ChangeState::new("node_a".into());
        for _ in 0..MAX_UNHEARD {
            state.next_heartbeat();
        }
        assert!(!state.is_stale());
        let seq = state.next_heartbeat();
        assert!(state.is_stale());
        state.heard(seq);
        assert!(!state.is_stale());
        // An old heartbeat heard late does not lower what was heard.
        state.heard(1);
        assert!(!state.is_stale());
        state.set_single_node();
        for _ in 0..10 {
            state.next_heartbeat();
        }
        assert!(!state.is_stale(), "a single node is never stale");
    }
}
