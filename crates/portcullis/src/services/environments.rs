//! Environments as the hot path needs them: settings parsed and keys
//! unsealed once, kept in memory, reloaded when they change.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use jsonwebtoken::jwk::Jwk;

use super::events::{Actor, recipients};
use super::keys::{self, RuntimeKey};
use super::verified_tokens::VerifiedTokens;
use super::{ServiceError, ServiceResult, Services};
use crate::clock::to_millis;
use crate::domain::claims;
use crate::domain::events;
use crate::domain::origin::AllowedOrigin;
use crate::domain::origin_list::OriginList;
use crate::domain::settings::{MAX_JWT_EXPIRATION_SECONDS, SecuritySettings};
use crate::store::{EnvironmentRecord, EventRecord, OriginRecord};

pub struct EnvironmentRuntime {
    pub record: EnvironmentRecord,
    pub settings: SecuritySettings,
    pub issuer: String,
    pub audience: String,
    /// The active key first, then retired ones, newest first.
    pub keys: Vec<RuntimeKey>,
    /// Tokens already verified against these keys; dropped with them.
    pub verified: VerifiedTokens,
    /// The allowed origins as listed (in the order added), parsed: `None`
    /// for one stored by an older, laxer parser, which matches nothing.
    pub listed_origins: Vec<(OriginRecord, Option<AllowedOrigin>)>,
    /// The same origins, as the SDK API's CORS check asks them.
    pub origins: OriginList,
    /// The `events` filters of the environment's enabled webhooks: which
    /// events some endpoint wants.
    pub webhook_filters: Vec<Vec<String>>,
}

impl EnvironmentRuntime {
    /// Whether an enabled webhook of the environment takes `kind`: if none
    /// does, a hot-path event can be written as dispatched already.
    pub fn has_subscriber(&self, kind: &str) -> bool {
        self.webhook_filters
            .iter()
            .any(|filter| crate::domain::events::subscribed(filter, kind))
    }
}

impl EnvironmentRuntime {
    pub fn id(&self) -> &str {
        &self.record.id
    }

    pub fn active_key(&self) -> ServiceResult<&RuntimeKey> {
        self.keys
            .first()
            .filter(|k| k.retired_at.is_none())
            .ok_or_else(|| {
                ServiceError::Internal(format!("environment {} has no active key", self.record.id))
            })
    }

    /// A key that may still verify tokens: active, or retired less than the
    /// longest token lifetime ago.
    pub fn verifying_key(&self, kid: &str, now_ms: i64) -> Option<&RuntimeKey> {
        self.keys
            .iter()
            .find(|k| k.kid == kid && still_published(k, now_ms))
    }

    pub fn published_keys(&self, now_ms: i64) -> Vec<&Jwk> {
        self.keys
            .iter()
            .filter(|k| still_published(k, now_ms))
            .map(|k| &k.jwk)
            .collect()
    }
}

fn still_published(key: &RuntimeKey, now_ms: i64) -> bool {
    key.retired_at
        .is_none_or(|retired| retired + i64::from(MAX_JWT_EXPIRATION_SECONDS) * 1000 > now_ms)
}

#[derive(Default)]
pub struct EnvironmentCache {
    loaded: RwLock<HashMap<String, Arc<EnvironmentRuntime>>>,
    /// Raised by every invalidation, so a load that read the store before
    /// an invalidation cannot put its stale result back afterwards.
    generation: AtomicU64,
}

impl EnvironmentCache {
    pub fn cached(&self, id: &str) -> Option<Arc<EnvironmentRuntime>> {
        self.loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub fn invalidate(&self, id: &str) {
        let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        loaded.remove(id);
    }

    /// Drops everything: after this node may have missed changes.
    pub fn invalidate_all(&self) {
        let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        loaded.clear();
    }

    /// Keeps a loaded environment unless an invalidation happened since
    /// `generation` was read.
    fn put(&self, runtime: Arc<EnvironmentRuntime>, generation: u64) {
        let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        if self.generation() == generation {
            loaded.insert(runtime.record.id.clone(), runtime);
        }
    }
}

impl Services {
    /// The environment, from memory when possible. `NotFound` if unknown.
    pub async fn environment(&self, id: &str) -> ServiceResult<Arc<EnvironmentRuntime>> {
        // A node that may have missed other nodes' changes (it has not
        // heard them lately) reads through its cache rather than trust it.
        let trusted = !self.changes.is_stale();
        if let Some(env) = self.environments.cached(id).filter(|_| trusted) {
            return Ok(env);
        }
        // Anything but `env_` + 32 hex digits cannot exist, so it is
        // answered without asking the database.
        if !crate::crypto::is_id("env", id) {
            return Err(ServiceError::NotFound);
        }
        let generation = self.environments.generation();
        let record = self
            .store
            .environments
            .get(id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let settings: SecuritySettings = serde_json::from_str(&record.settings_json)
            .map_err(|e| ServiceError::Internal(format!("settings of {id}: {e}")))?;
        let keys = self
            .store
            .environments
            .signing_keys(id)
            .await?
            .iter()
            .map(|k| keys::load(&self.master_key, k))
            .collect::<ServiceResult<Vec<_>>>()?;
        let listed_origins = self
            .store
            .origins
            .list(id)
            .await?
            .into_iter()
            .map(|record| match AllowedOrigin::parse(&record.origin) {
                Ok(origin) => (record, Some(origin)),
                Err(e) => {
                    tracing::warn!(environment_id = id, origin_id = %record.id, error = %e,
                        "a stored origin is no longer valid; it matches nothing");
                    (record, None)
                }
            })
            .collect::<Vec<_>>();
        let origins = OriginList::new(listed_origins.iter().map(|(_, o)| o.clone()));
        let webhook_filters = self
            .store
            .webhooks
            .list(id)
            .await?
            .iter()
            .filter(|w| w.enabled)
            .map(super::webhooks::event_filter)
            .collect();
        let runtime = Arc::new(EnvironmentRuntime {
            issuer: claims::issuer(&self.public_url, id),
            audience: claims::audience(id),
            record,
            settings,
            keys,
            verified: VerifiedTokens::default(),
            listed_origins,
            origins,
            webhook_filters,
        });
        if trusted {
            self.environments.put(runtime.clone(), generation);
        }
        Ok(runtime)
    }

    /// Applies a merge patch to the security settings. Choosing another
    /// algorithm creates a new active key; the old one keeps verifying.
    pub async fn update_security_settings(
        &self,
        environment_id: &str,
        patch: &serde_json::Value,
        actor: &Actor,
    ) -> ServiceResult<SecuritySettings> {
        let env = self.environment(environment_id).await?;
        let next = env.settings.patched(patch)?;
        let event = self.new_event(
            &env,
            events::ENVIRONMENT_SETTINGS_UPDATED,
            actor,
            Some(environment_id),
            Some(serde_json::json!({ "changed": changed_fields(&env.settings, &next) })),
        )?;
        // Who was told before the change is told about it too: a change
        // that removes recipients cannot go unnoticed.
        let mut told = recipients(
            &env.settings.notifications,
            events::ENVIRONMENT_SETTINGS_UPDATED,
        );
        for r in recipients(&next.notifications, events::ENVIRONMENT_SETTINGS_UPDATED) {
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
            serde_json::to_string(&next).map_err(|e| ServiceError::Internal(e.to_string()))?;
        self.store
            .environments
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
