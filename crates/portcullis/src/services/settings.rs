//! An environment's security settings: reading is the cached runtime's;
//! changing them writes the event, and a new signing key when the
//! algorithm changes, in one transaction.

use std::sync::Arc;

use super::environments::Environments;
use super::events::Events;
use super::keys;
use super::{ServiceError, ServiceResult};
use crate::clock::{Clock, to_millis};
use crate::crypto::MasterKey;
use crate::domain::actor::Actor;
use crate::domain::events;
use crate::domain::settings::{SecuritySettings, validate_rpc_urls};
use crate::store::{EnvironmentStore, EventRecord};

pub struct Settings {
    clock: Arc<dyn Clock>,
    master_key: MasterKey,
    store: Arc<dyn EnvironmentStore>,
    environments: Arc<Environments>,
    events: Arc<Events>,
    /// RPC URLs may name http and private addresses (development).
    allow_private_urls: bool,
}

impl Settings {
    pub fn new(
        clock: Arc<dyn Clock>,
        master_key: MasterKey,
        store: Arc<dyn EnvironmentStore>,
        environments: Arc<Environments>,
        events: Arc<Events>,
        allow_private_urls: bool,
    ) -> Self {
        Settings {
            clock,
            master_key,
            store,
            environments,
            events,
            allow_private_urls,
        }
    }

    /// Applies a merge patch to the security settings. Choosing another
    /// algorithm creates a new active key; the old one keeps verifying.
    pub async fn update(
        &self,
        environment_id: &str,
        patch: &serde_json::Value,
        actor: &Actor,
    ) -> ServiceResult<SecuritySettings> {
        let env = self.environments.get(environment_id).await?;
        let next = env.settings.patched(patch)?;
        let public_host = url::Url::parse(self.environments.public_url())
            .ok()
            .and_then(|u| u.host_str().map(str::to_string));
        next.validate_for(public_host.as_deref(), env.origins.allows_all())?;
        validate_rpc_urls(&next.chains, self.allow_private_urls)?;
        let event = self.events.new_event(
            &env,
            events::ENVIRONMENT_SETTINGS_UPDATED,
            actor,
            Some(environment_id),
            Some(serde_json::json!({ "changed": changed_fields(&env.settings, &next) })),
        )?;
        // Who was told before the change is told about it too: a change
        // that removes recipients cannot go unnoticed.
        let mut told = env
            .settings
            .notifications
            .recipients(events::ENVIRONMENT_SETTINGS_UPDATED);
        for r in next
            .notifications
            .recipients(events::ENVIRONMENT_SETTINGS_UPDATED)
        {
            if !told.contains(&r) {
                told.push(r);
            }
        }
        let event = EventRecord {
            notify: (!told.is_empty()).then(|| serde_json::to_string(&told).unwrap_or_default()),
            ..event
        };
        let now = to_millis(self.clock.now());
        let new_key = if next.token_algorithm != env.active_key()?.algorithm {
            Some(keys::new_signing_key(
                &self.master_key,
                environment_id,
                next.token_algorithm,
                now,
            )?)
        } else {
            None
        };
        let json =
            serde_json::to_string(&next).map_err(|e| ServiceError::caused("serializing", e))?;
        self.store
            .update_settings(environment_id, &json, new_key.as_ref(), now, &event)
            .await?;
        self.environments.invalidate(environment_id);
        Ok(next)
    }
}

/// The top-level settings whose value changed, in order.
fn changed_fields(before: &SecuritySettings, after: &SecuritySettings) -> Vec<String> {
    let (Ok(serde_json::Value::Object(before)), Ok(serde_json::Value::Object(after))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return vec![];
    };
    after
        .iter()
        .filter(|(key, value)| before.get(*key) != Some(*value))
        .map(|(key, _)| key.clone())
        .collect()
}
