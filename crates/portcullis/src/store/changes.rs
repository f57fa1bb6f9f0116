//! Changes a node tells the others about (PostgreSQL `NOTIFY`).

use crate::store::StoreResult;
use async_trait::async_trait;

/// What a node tells the others about a change it made, so that they
/// update their in-memory state at once (PostgreSQL `NOTIFY`). Published
/// in the transaction of the change: never for a change rolled back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// One session revoked; `exp` in Unix seconds.
    SessionRevoked { session_id: String, exp: i64 },
    /// Every session of a user revoked: their epoch was raised at `at_s`.
    UserRevoked {
        user_id: String,
        epoch: i64,
        at_s: i64,
    },
    /// Every session of an environment revoked: its epoch was raised.
    EnvironmentRevoked { environment_id: String, epoch: i64 },
    /// An environment's settings or keys changed: drop cached copies.
    EnvironmentChanged { environment_id: String },
    /// A node's liveness beacon; hearing its own tells a node that it hears
    /// everything committed before it was sent.
    Heartbeat { node: String, seq: u64 },
    /// A change this node cannot read (sent by a newer version): it drops
    /// whatever it caches, since it cannot tell what changed.
    #[serde(skip)]
    Unreadable,
}

/// Changes from other nodes.
#[async_trait]
pub trait ChangeFeed: Send + Sync {
    /// Starts listening. `None` when there are no other nodes to hear
    /// from: an embedded SQLite database belongs to one process.
    async fn listen(&self) -> StoreResult<Option<Box<dyn ChangeListener>>>;
    /// Publishes a change outside any transaction (heartbeats).
    async fn publish(&self, change: &Change) -> StoreResult<()>;
}

#[async_trait]
pub trait ChangeListener: Send {
    /// The next change. `Ok(None)` means the connection was lost and
    /// changes may have been missed; the next call reconnects.
    async fn next(&mut self) -> StoreResult<Option<Change>>;
}
