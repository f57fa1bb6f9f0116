//! Whether this node should get traffic (`/readyz`): the database answers,
//! and the node hears the other nodes (PostgreSQL).

use std::sync::Arc;

use super::change_state::ChangeState;
use crate::store::HealthStore;

pub enum NotReady {
    /// The node has not heard the other nodes recently.
    Stale,
    /// The database does not answer.
    DatabaseDown,
}

pub struct Readiness {
    store: Arc<dyn HealthStore>,
    state: Arc<ChangeState>,
}

impl Readiness {
    pub fn new(store: Arc<dyn HealthStore>, state: Arc<ChangeState>) -> Self {
        Readiness { store, state }
    }

    pub async fn check(&self) -> Result<(), NotReady> {
        if self.state.is_stale() {
            return Err(NotReady::Stale);
        }
        self.store.ping().await.map_err(|e| {
            tracing::warn!(error = %e, "readiness check failed");
            NotReady::DatabaseDown
        })
    }
}
