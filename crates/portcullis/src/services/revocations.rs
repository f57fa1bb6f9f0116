//! The node's revocation index (see `domain::revocation`): loaded from the
//! store at start, updated at once by every local revocation, and merged
//! with the store periodically (`resync`) so that an update this node missed
//! heals by itself.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::sync::watch;

use crate::domain::revocation::RevocationIndex;
use crate::store::{EnvironmentStore, SessionStore, StoreResult, UserStore};

pub struct Revocations {
    index: RwLock<RevocationIndex>,
    /// Counts the index's writes: what the revocation stream waits on
    /// (a local revocation, another node's, the periodic resync).
    written: watch::Sender<u64>,
    sessions: Arc<dyn SessionStore>,
    users: Arc<dyn UserStore>,
    environments: Arc<dyn EnvironmentStore>,
}

impl Revocations {
    /// The index as the store has it now.
    pub async fn load(
        sessions: Arc<dyn SessionStore>,
        users: Arc<dyn UserStore>,
        environments: Arc<dyn EnvironmentStore>,
        now_s: i64,
    ) -> StoreResult<Self> {
        let revocations = Revocations {
            index: RwLock::default(),
            written: watch::Sender::new(0),
            sessions,
            users,
            environments,
        };
        revocations.resync(now_s).await?;
        Ok(revocations)
    }

    /// Raises the index to everything the store records. Only ever adds or
    /// raises, so it cannot undo a revocation it races with.
    pub async fn resync(&self, now_s: i64) -> StoreResult<()> {
        let sessions = self.sessions.revoked_unexpired(now_s).await?;
        let users = self.users.epochs().await?;
        let environments = self.environments.epochs().await?;
        let mut index = self.write();
        for (id, exp) in sessions {
            index.revoke_session(&id, exp);
        }
        for (user, epoch, raised_ms) in users {
            index.raise_user_epoch(&user, epoch, raised_ms / 1000);
        }
        for (env, epoch) in environments {
            index.raise_environment_epoch(&env, epoch);
        }
        Ok(())
    }

    pub fn read(&self) -> RwLockReadGuard<'_, RevocationIndex> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The index, to change it. The store holds the change already (it is
    /// written there first), so whoever is woken can read it there.
    pub fn write(&self) -> RwLockWriteGuard<'_, RevocationIndex> {
        self.written.send_modify(|n| *n = n.wrapping_add(1));
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes with every write of the index.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.written.subscribe()
    }
}
