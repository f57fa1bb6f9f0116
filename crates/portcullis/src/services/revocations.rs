//! The node's revocation index (see `domain::revocation`), loaded from the
//! store at start and updated at once by every local revocation.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::domain::revocation::RevocationIndex;
use crate::store::{Store, StoreResult};

#[derive(Default)]
pub struct Revocations {
    index: RwLock<RevocationIndex>,
}

impl Revocations {
    pub async fn load(store: &Store, now_s: i64) -> StoreResult<Self> {
        let mut index = RevocationIndex::default();
        for (id, exp) in store.sessions.revoked_unexpired(now_s).await? {
            index.revoke_session(&id, exp);
        }
        for (user, w) in store.users.watermarks().await? {
            index.raise_user_watermark(&user, w);
        }
        for (env, w) in store.environments.watermarks().await? {
            index.raise_environment_watermark(&env, w);
        }
        Ok(Self {
            index: RwLock::new(index),
        })
    }

    pub fn read(&self) -> RwLockReadGuard<'_, RevocationIndex> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, RevocationIndex> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }
}
