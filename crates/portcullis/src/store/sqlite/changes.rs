//! One process owns an embedded database, so there is no one to hear from
//! and no one to tell.

use async_trait::async_trait;

use super::SqliteDb;
use crate::store::{Change, ChangeFeed, ChangeListener, StoreResult};

#[async_trait]
impl ChangeFeed for SqliteDb {
    async fn listen(&self) -> StoreResult<Option<Box<dyn ChangeListener>>> {
        Ok(None)
    }

    async fn publish(&self, _change: &Change) -> StoreResult<()> {
        Ok(())
    }
}
