//! Rate limits on sign-in routes. Each limit is a named bucket keyed by a
//! string (a client IP, an e-mail address); the counters live in the store
//! (`RateLimitStore`), so several nodes share them. Time comes from the
//! injected clock.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{ServiceError, ServiceResult};
use crate::clock::{Clock, to_millis};
use crate::domain::rate_limit::Quota;
use crate::store::RateLimitStore;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    EmailStartPerIp,
    /// Codes mailed to one address at one client's request, a day: one
    /// client cannot use up the address's mails of the day.
    EmailStartPerAddressAndIp,
    EmailStartPerAddress,
    /// Codes mailed to one address a day, whoever asks: bounds the mail an
    /// inbox gets, and with it the guesses past `VerifyPerAddress` (each
    /// code's first try is answered whatever that limit).
    EmailStartPerAddressPerDay,
    VerifyPerIp,
    /// Code attempts against one address, whatever the client, but a right
    /// first try: bounds slow, distributed guessing.
    VerifyPerAddress,
    SmsStartPerIp,
    /// SMS codes to one number at one client's request, a day.
    SmsStartPerNumberAndIp,
    SmsStartPerNumber,
    /// SMS codes to one number a day, whoever asks.
    SmsStartPerNumberPerDay,
    /// SMS codes an environment sends in one clock hour (key
    /// `{env}|{unix hour}`): its quota is the environment's setting
    /// (`sign_in.sms.max_per_hour`), given with each check
    /// (`RateLimits::hourly_cap`), and applies even with the configured
    /// limits off.
    SmsPerEnvironmentHour,
    /// Sign-In with Ethereum messages asked for by one client (each is a
    /// stored nonce).
    WalletNoncePerIp,
    WalletNoncePerAddress,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub enabled: bool,
    pub email_start_per_ip_per_minute: u32,
    pub email_start_per_address_per_minute: u32,
    pub email_start_per_address_per_day: u32,
    pub email_start_per_address_and_ip_per_day: u32,
    pub verify_per_ip_per_minute: u32,
    pub verify_per_address_per_hour: u32,
    pub sms_start_per_ip_per_minute: u32,
    pub sms_start_per_number_per_minute: u32,
    pub sms_start_per_number_per_day: u32,
    pub sms_start_per_number_and_ip_per_day: u32,
    pub wallet_nonce_per_ip_per_minute: u32,
    pub wallet_nonce_per_address_per_minute: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            email_start_per_ip_per_minute: 10,
            email_start_per_address_per_minute: 3,
            email_start_per_address_per_day: 10,
            email_start_per_address_and_ip_per_day: 5,
            verify_per_ip_per_minute: 30,
            verify_per_address_per_hour: 5,
            sms_start_per_ip_per_minute: 10,
            sms_start_per_number_per_minute: 3,
            sms_start_per_number_per_day: 10,
            sms_start_per_number_and_ip_per_day: 5,
            wallet_nonce_per_ip_per_minute: 30,
            wallet_nonce_per_address_per_minute: 10,
        }
    }
}

impl Bucket {
    fn name(self) -> &'static str {
        match self {
            Bucket::EmailStartPerIp => "email_start_ip",
            Bucket::EmailStartPerAddressAndIp => "email_start_address_ip_day",
            Bucket::EmailStartPerAddress => "email_start_address",
            Bucket::EmailStartPerAddressPerDay => "email_start_address_day",
            Bucket::VerifyPerIp => "verify_ip",
            Bucket::VerifyPerAddress => "verify_address",
            Bucket::SmsStartPerIp => "sms_start_ip",
            Bucket::SmsStartPerNumberAndIp => "sms_start_number_ip_day",
            Bucket::SmsStartPerNumber => "sms_start_number",
            Bucket::SmsStartPerNumberPerDay => "sms_start_number_day",
            Bucket::SmsPerEnvironmentHour => "sms_environment_hour",
            Bucket::WalletNoncePerIp => "wallet_nonce_ip",
            Bucket::WalletNoncePerAddress => "wallet_nonce_address",
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
                    Bucket::EmailStartPerAddressAndIp,
                    Quota::per_day(config.email_start_per_address_and_ip_per_day),
                ),
                (
                    Bucket::EmailStartPerAddress,
                    Quota::per_minute(config.email_start_per_address_per_minute),
                ),
                (
                    Bucket::EmailStartPerAddressPerDay,
                    Quota::per_day(config.email_start_per_address_per_day),
                ),
                (
                    Bucket::VerifyPerIp,
                    Quota::per_minute(config.verify_per_ip_per_minute),
                ),
                (
                    Bucket::VerifyPerAddress,
                    Quota::per_hour(config.verify_per_address_per_hour),
                ),
                (
                    Bucket::SmsStartPerIp,
                    Quota::per_minute(config.sms_start_per_ip_per_minute),
                ),
                (
                    Bucket::SmsStartPerNumberAndIp,
                    Quota::per_day(config.sms_start_per_number_and_ip_per_day),
                ),
                (
                    Bucket::SmsStartPerNumber,
                    Quota::per_minute(config.sms_start_per_number_per_minute),
                ),
                (
                    Bucket::SmsStartPerNumberPerDay,
                    Quota::per_day(config.sms_start_per_number_per_day),
                ),
                (
                    Bucket::WalletNoncePerIp,
                    Quota::per_minute(config.wallet_nonce_per_ip_per_minute),
                ),
                (
                    Bucket::WalletNoncePerAddress,
                    Quota::per_minute(config.wallet_nonce_per_address_per_minute),
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
        self.check_all(&[(bucket, key.to_string())]).await
    }

    /// One event in each bucket, in order, all or none: when one refuses,
    /// the turns the ones before it gave are handed back, so a refused
    /// request uses up no limit (an honest client that retries too early
    /// loses nothing, and a refused one takes no turn others need).
    pub async fn check_all(&self, checks: &[(Bucket, String)]) -> ServiceResult<()> {
        self.check_all_then(checks, None).await
    }

    /// `check_all`, and last one turn of `last`, a key with a quota the
    /// caller gives (`hourly_cap`), in the same all-or-none.
    pub async fn check_all_then(
        &self,
        checks: &[(Bucket, String)],
        last: Option<(Bucket, String, Quota)>,
    ) -> ServiceResult<()> {
        let now = to_millis(self.clock.now());
        let mut taken: Vec<(String, Quota)> = Vec::new();
        let configured = checks
            .iter()
            .filter_map(|(bucket, key)| Some((*bucket, key, *self.quotas.get(bucket)?)));
        for (bucket, key, quota) in configured.chain(last.iter().map(|(b, k, q)| (*b, k, *q))) {
            let quota = &quota;
            let key = format!("{}|{key}", bucket.name());
            if let Some(wait_ms) = self.store.hit(&key, *quota, now).await? {
                // Best effort: the answer is 429 either way.
                for (key, quota) in taken {
                    if let Err(e) = self.store.give_back(&key, quota).await {
                        tracing::warn!(error = %e, "could not hand back a rate-limit turn");
                    }
                }
                return Err(ServiceError::RateLimited {
                    retry_after_secs: u64::try_from(wait_ms).map_or(1, |ms| ms.div_ceil(1000)),
                });
            }
            taken.push((key, *quota));
        }
        Ok(())
    }

    /// The turn of an environment's hourly cap of `count` for the clock
    /// hour of now: `count` turns in each hour, none carried over.
    pub fn hourly_cap(
        &self,
        bucket: Bucket,
        environment_id: &str,
        count: u32,
    ) -> (Bucket, String, Quota) {
        let hour = self.clock.now().unix_timestamp().div_euclid(3600);
        (bucket, format!("{environment_id}|{hour}"), hourly(count))
    }

    /// Hands back the turn a `check` of `bucket` took for `key` (a right
    /// code: only wrong ones count against the limit, which is still
    /// checked before each code is compared).
    pub async fn give_back(&self, bucket: Bucket, key: &str) {
        let Some(quota) = self.quotas.get(&bucket) else {
            return;
        };
        let key = format!("{}|{key}", bucket.name());
        if let Err(e) = self.store.give_back(&key, *quota).await {
            tracing::warn!(error = %e, "could not hand back a rate-limit turn");
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

/// A quota that admits `count` events in a window of an hour and gives
/// none back within it: each event uses up an hour (GCRA), the burst is
/// `count`. Keyed by the clock hour, it is exactly `count` per clock hour.
pub fn hourly(count: u32) -> Quota {
    Quota {
        count,
        period_ms: i64::from(count.max(1)) * 3_600_000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rate_limit::admit;

    #[test]
    fn an_hourly_cap_admits_exactly_its_count_within_the_hour() {
        for count in [1, 3, 100] {
            let quota = hourly(count);
            let mut tat = None;
            // Spread over the hour, or all at once: `count`, then no more.
            for i in 0..count {
                let now = i64::from(i) * (3_599_999 / i64::from(count));
                tat = Some(admit(tat, now, quota).expect("within the cap"));
            }
            assert!(admit(tat, 3_599_999, quota).is_err(), "{count}");
        }
    }
}
