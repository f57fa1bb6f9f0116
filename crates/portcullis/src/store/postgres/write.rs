//! The PostgreSQL backend's write hook: "run this in a write transaction
//! and publish these changes". Unlike SQLite (`sqlite/writer.rs`), writers
//! run concurrently, each in a pool transaction that locks the rows it
//! decides on.

use std::ops::{Deref, DerefMut};

use sqlx::{PgConnection, Postgres, Transaction};

use super::changes::notify;
use super::{PgDb, db};
use crate::store::{Change, StoreResult};

/// A write transaction and the changes it publishes. `commit` sends the
/// changes (`NOTIFY`, which PostgreSQL delivers when the transaction
/// commits, in commit order) and commits. Dropped without `commit`, it
/// rolls back and publishes nothing.
pub(super) struct Write {
    tx: Transaction<'static, Postgres>,
    changes: Vec<Change>,
}

impl PgDb {
    /// Begins a write transaction on the pool.
    pub(super) async fn write(&self) -> StoreResult<Write> {
        let tx = self.pool.begin().await.map_err(db)?;
        Ok(Write {
            tx,
            changes: Vec::new(),
        })
    }
}

impl Write {
    /// Tells the other nodes about this change if the transaction commits.
    pub(super) fn publish(&mut self, change: Change) {
        self.changes.push(change);
    }

    /// Sends the published changes and commits.
    pub(super) async fn commit(mut self) -> StoreResult<()> {
        for change in &self.changes {
            notify(&mut self.tx, change).await?;
        }
        self.tx.commit().await.map_err(db)
    }
}

impl Deref for Write {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.tx
    }
}

impl DerefMut for Write {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}
