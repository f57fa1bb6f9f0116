//! Rate limits on sign-in routes. Each limit is a named bucket keyed by a
//! string (a client IP, an e-mail address); the counters live in the store
//! (`RateLimitStore`), so several nodes share them. Time comes from the
//! injected clock.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;

use super::{ServiceError, ServiceResult};
use crate::clock::{Clock, to_millis};
use crate::domain::rate_limit::Quota;
use crate::store::RateLimitStore;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    EmailStartPerIp,
    EmailStartPerAddress,
    VerifyPerIp,
    /// Code attempts against one address, whatever the client: bounds slow,
    /// distributed guessing.
    VerifyPerAddress,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub enabled: bool,
    pub email_start_per_ip_per_minute: u32,
    pub email_start_per_address_per_minute: u32,
    pub verify_per_ip_per_minute: u32,
    pub verify_per_address_per_hour: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            email_start_per_ip_per_minute: 10,
            email_start_per_address_per_minute: 3,
            verify_per_ip_per_minute: 30,
            verify_per_address_per_hour: 10,
        }
    }
}

impl Bucket {
    fn name(self) -> &'static str {
        match self {
            Bucket::EmailStartPerIp => "email_start_ip",
            Bucket::EmailStartPerAddress => "email_start_address",
            Bucket::VerifyPerIp => "verify_ip",
            Bucket::VerifyPerAddress => "verify_address",
        }
    }
}

/// The configured quotas, applied to counters in the store: in memory for
/// SQLite (one process), in the database for PostgreSQL (every node).
pub struct RateLimits {
    clock: Arc<dyn Clock>,
    store: Arc<dyn RateLimitStore>,
    quotas: HashMap<Bucket, Quota>,
}

impl RateLimits {
    pub fn new(
        config: &RateLimitConfig,
        clock: Arc<dyn Clock>,
        store: Arc<dyn RateLimitStore>,
    ) -> Self {
        let mut quotas = HashMap::new();
        if config.enabled {
            for (bucket, quota) in [
                (
                    Bucket::EmailStartPerIp,
                    Quota::per_minute(config.email_start_per_ip_per_minute),
                ),
                (
                    Bucket::EmailStartPerAddress,
                    Quota::per_minute(config.email_start_per_address_per_minute),
                ),
                (
                    Bucket::VerifyPerIp,
                    Quota::per_minute(config.verify_per_ip_per_minute),
                ),
                (
                    Bucket::VerifyPerAddress,
                    Quota::per_hour(config.verify_per_address_per_hour),
                ),
            ] {
                // A quota of 0 turns that one limit off.
                if quota.count > 0 {
                    quotas.insert(bucket, quota);
                }
            }
        }
        Self {
            clock,
            store,
            quotas,
        }
    }

    pub async fn check(&self, bucket: Bucket, key: &str) -> ServiceResult<()> {
        let Some(quota) = self.quotas.get(&bucket) else {
            return Ok(());
        };
        let now = to_millis(self.clock.now());
        let key = format!("{}|{key}", bucket.name());
        match self.store.hit(&key, *quota, now).await? {
            None => Ok(()),
            Some(wait_ms) => Err(ServiceError::RateLimited {
                retry_after_secs: u64::try_from(wait_ms).map_or(1, |ms| ms.div_ceil(1000)),
            }),
        }
    }

    /// Drops keys whose limits have fully recovered, so memory stays bounded.
    pub async fn forget_idle(&self) {
        let now = to_millis(self.clock.now());
        if let Err(e) = self.store.forget_idle(now).await {
            tracing::warn!(error = %e, "could not forget idle rate-limit keys");
        }
    }
}
