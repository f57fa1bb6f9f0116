//! Environments as the hot path needs them: settings parsed and keys
//! unsealed once, kept in memory, reloaded when they change.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use jsonwebtoken::jwk::Jwk;

use super::change_state::ChangeState;
use super::keys::{self, RuntimeKey};
use super::verified_tokens::VerifiedTokens;
use super::{ServiceError, ServiceResult};
use crate::crypto::MasterKey;
use crate::domain::claims;
use crate::domain::origin::AllowedOrigin;
use crate::domain::origin_list::OriginList;
use crate::domain::settings::{MAX_JWT_EXPIRATION_SECONDS, SecuritySettings};
use crate::store::{EnvironmentRecord, EnvironmentStore, OriginRecord, OriginStore, WebhookStore};

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

    /// A `live` environment (the other kind, `sandbox`, is for development).
    pub fn is_live(&self) -> bool {
        self.record.kind == "live"
    }

    pub fn is_locked(&self) -> bool {
        self.record.locked
    }

    /// 423 `environment_locked` when the environment is locked.
    pub fn refuse_if_locked(&self) -> ServiceResult<()> {
        match self.is_locked() {
            true => Err(ServiceError::EnvironmentLocked),
            false => Ok(()),
        }
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
                ServiceError::internal(format!("environment {} has no active key", self.record.id))
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
struct EnvironmentCache {
    loaded: RwLock<HashMap<String, Arc<EnvironmentRuntime>>>,
    /// Raised by every invalidation, so a load that read the store before
    /// an invalidation cannot put its stale result back afterwards.
    generation: AtomicU64,
}

impl EnvironmentCache {
    fn cached(&self, id: &str) -> Option<Arc<EnvironmentRuntime>> {
        self.loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn invalidate(&self, id: &str) {
        let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        loaded.remove(id);
    }

    /// Drops everything: after this node may have missed changes.
    fn invalidate_all(&self) {
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

/// The environments as every other service reaches them: loaded once,
/// kept in memory, dropped from memory when they change here or on another
/// node (`changes.rs`).
pub struct Environments {
    store: Arc<dyn EnvironmentStore>,
    origins: Arc<dyn OriginStore>,
    webhooks: Arc<dyn WebhookStore>,
    master_key: MasterKey,
    public_url: String,
    cache: EnvironmentCache,
    changes: Arc<ChangeState>,
}

impl Environments {
    pub fn new(
        store: Arc<dyn EnvironmentStore>,
        origins: Arc<dyn OriginStore>,
        webhooks: Arc<dyn WebhookStore>,
        master_key: MasterKey,
        public_url: String,
        changes: Arc<ChangeState>,
    ) -> Self {
        Environments {
            store,
            origins,
            webhooks,
            master_key,
            public_url,
            cache: EnvironmentCache::default(),
            changes,
        }
    }

    /// The server's public URL, under which issuers and links are made.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The environment, from memory when possible. `NotFound` if unknown.
    pub async fn get(&self, id: &str) -> ServiceResult<Arc<EnvironmentRuntime>> {
        // A node that may have missed other nodes' changes (it has not
        // heard them lately) reads through its cache rather than trust it.
        let trusted = !self.changes.is_stale();
        if let Some(env) = self.cache.cached(id).filter(|_| trusted) {
            return Ok(env);
        }
        // Anything but `env_` + 32 hex digits cannot exist, so it is
        // answered without asking the database.
        if !crate::crypto::is_id("env", id) {
            return Err(ServiceError::NotFound);
        }
        let generation = self.cache.generation();
        let record = self.store.get(id).await?.ok_or(ServiceError::NotFound)?;
        let settings = record.settings.clone();
        let keys = self
            .store
            .signing_keys(id)
            .await?
            .iter()
            .map(|k| keys::load(&self.master_key, k))
            .collect::<ServiceResult<Vec<_>>>()?;
        let listed_origins = self
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
            .webhooks
            .list(id)
            .await?
            .iter()
            .filter(|w| w.enabled)
            .map(|w| crate::domain::events::filter_of(&w.events))
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
            self.cache.put(runtime.clone(), generation);
        }
        Ok(runtime)
    }

    /// The environment, for SDK traffic: 423 when it is locked.
    pub async fn open(&self, id: &str) -> ServiceResult<Arc<EnvironmentRuntime>> {
        let env = self.get(id).await?;
        env.refuse_if_locked()?;
        Ok(env)
    }

    /// The organization's environments, oldest first.
    pub async fn in_organization(
        &self,
        organization_id: &str,
    ) -> ServiceResult<Vec<Arc<EnvironmentRuntime>>> {
        let records = self.store.in_organization(organization_id).await?;
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            out.push(self.get(&r.id).await?);
        }
        Ok(out)
    }

    /// The cached copy, if this node holds one (no database).
    pub fn cached(&self, id: &str) -> Option<Arc<EnvironmentRuntime>> {
        self.cache.cached(id)
    }

    /// Forgets the cached copy: the environment changed.
    pub fn invalidate(&self, id: &str) {
        self.cache.invalidate(id);
    }

    /// Forgets every cached copy: this node may have missed changes.
    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }
}
