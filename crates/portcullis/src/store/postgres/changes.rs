//! Changes between nodes through `LISTEN`/`NOTIFY` on one channel. A
//! notification sent inside a transaction is delivered when it commits,
//! and PostgreSQL delivers notifications in commit order.

use async_trait::async_trait;
use sqlx::PgConnection;
use sqlx::postgres::PgListener;

use super::{PgDb, db};
use crate::store::{Change, ChangeFeed, ChangeListener, StoreError, StoreResult};

const CHANNEL: &str = "portcullis_changes";

fn payload(change: &Change) -> StoreResult<String> {
    serde_json::to_string(change).map_err(|e| StoreError::Database(e.to_string()))
}

pub(super) async fn notify(conn: &mut PgConnection, change: &Change) -> StoreResult<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload(change)?)
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}

#[async_trait]
impl ChangeFeed for PgDb {
    async fn listen(&self) -> StoreResult<Option<Box<dyn ChangeListener>>> {
        let mut listener = PgListener::connect_with(&self.pool).await.map_err(db)?;
        listener.listen(CHANNEL).await.map_err(db)?;
        Ok(Some(Box::new(Listener { listener })))
    }

    async fn publish(&self, change: &Change) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        notify(&mut conn, change).await
    }
}

struct Listener {
    listener: PgListener,
}

#[async_trait]
impl ChangeListener for Listener {
    async fn next(&mut self) -> StoreResult<Option<Change>> {
        let Some(notification) = self.listener.try_recv().await.map_err(db)? else {
            return Ok(None);
        };
        Ok(Some(
            serde_json::from_str(notification.payload()).unwrap_or_else(|e| {
                // A newer node's change this one does not know.
                tracing::warn!(error = %e, "an unreadable change notification");
                Change::Unreadable
            }),
        ))
    }
}
