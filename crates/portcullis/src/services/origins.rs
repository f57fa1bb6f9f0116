//! Managing an environment's allowed origins. The list itself lives in
//! the environment's runtime (memory), reloaded whenever it changes here
//! or, with PostgreSQL, on another node.

use std::sync::Arc;

use super::environments::{EnvironmentRuntime, Environments};
use super::events::Events;
use super::{ServiceError, ServiceResult, new_id};
use crate::clock::{Clock, to_millis};
use crate::crypto;
use crate::domain::actor::Actor;
use crate::domain::events;
use crate::domain::origin::AllowedOrigin;
use crate::domain::origin_list::{self, MAX_ORIGINS, OriginWarning};
use crate::domain::validation::ValidationErrors;
use crate::store::{OriginRecord, OriginStore};

/// Ids of origins: `ori_` + 32 hex digits.
pub const ORIGIN_ID_PREFIX: &str = "ori";

/// An origin as the environment lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedOrigin {
    /// `ori_…`
    pub id: String,
    /// In normal form.
    pub origin: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

impl From<&OriginRecord> for ListedOrigin {
    fn from(r: &OriginRecord) -> Self {
        ListedOrigin {
            id: r.id.clone(),
            origin: r.origin.clone(),
            created_at: r.created_at,
        }
    }
}

impl EnvironmentRuntime {
    /// The environment's origins as listed, oldest first.
    pub fn listed(&self) -> Vec<ListedOrigin> {
        self.listed_origins
            .iter()
            .map(|(record, _)| record.into())
            .collect()
    }

    /// The advice the environment's list earns (only `live` ones get any).
    pub fn origin_warnings(&self) -> Vec<OriginWarning> {
        origin_list::warnings(
            self.is_live(),
            self.listed_origins
                .iter()
                .map(|(record, origin)| (record.origin.as_str(), origin.as_ref())),
        )
    }
}

pub struct Origins {
    clock: Arc<dyn Clock>,
    store: Arc<dyn OriginStore>,
    environments: Arc<Environments>,
    events: Arc<Events>,
}

impl Origins {
    pub fn new(
        clock: Arc<dyn Clock>,
        store: Arc<dyn OriginStore>,
        environments: Arc<Environments>,
        events: Arc<Events>,
    ) -> Self {
        Origins {
            clock,
            store,
            environments,
            events,
        }
    }

    /// Adds `input` to the environment's list, in normal form. 400 when it
    /// is not an origin or the list is full, 409 when it is listed already.
    pub async fn add(
        &self,
        env: &EnvironmentRuntime,
        input: &str,
        actor: &Actor,
    ) -> ServiceResult<ListedOrigin> {
        let origin = AllowedOrigin::parse(input.trim()).map_err(|e| {
            ServiceError::Validation(ValidationErrors::single("origin", e.to_string()))
        })?;
        let record = OriginRecord {
            id: new_id(self.clock.as_ref(), ORIGIN_ID_PREFIX)?,
            environment_id: env.id().to_string(),
            origin: origin.to_string(),
            created_at: to_millis(self.clock.now()),
        };
        let event = self.events.new_event(
            env,
            events::ENVIRONMENT_ORIGIN_ADDED,
            actor,
            Some(&record.id),
            Some(serde_json::json!({ "id": record.id, "origin": record.origin })),
        )?;
        let added = self.store.add(&record, MAX_ORIGINS, &event).await?;
        self.environments.invalidate(env.id());
        if !added {
            return Err(ServiceError::Validation(ValidationErrors::single(
                "origin",
                format!("an environment lists at most {MAX_ORIGINS} origins"),
            )));
        }
        Ok((&record).into())
    }

    pub async fn delete(
        &self,
        env: &EnvironmentRuntime,
        origin_id: &str,
        actor: &Actor,
    ) -> ServiceResult<()> {
        // Only well-formed ids can exist (and a NUL byte never reaches the
        // database).
        if !crypto::is_id(ORIGIN_ID_PREFIX, origin_id) {
            return Err(ServiceError::NotFound);
        }
        let origin = env
            .listed_origins
            .iter()
            .find(|(r, _)| r.id == origin_id)
            .map(|(r, _)| r.origin.clone());
        let event = self.events.new_event(
            env,
            events::ENVIRONMENT_ORIGIN_REMOVED,
            actor,
            Some(origin_id),
            Some(serde_json::json!({ "id": origin_id, "origin": origin })),
        )?;
        let deleted = self.store.delete(env.id(), origin_id, &event).await?;
        self.environments.invalidate(env.id());
        match deleted {
            true => Ok(()),
            false => Err(ServiceError::NotFound),
        }
    }
}
