//! Rate limits on sign-in routes. Each limit is a named bucket keyed by a
//! string (a client IP, an e-mail address), so a shared store can take the
//! counters over for several nodes without changing callers. Time comes from
//! the injected clock.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::Clock as GovernorClockTrait;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use serde::Deserialize;

use super::{ServiceError, ServiceResult};
use crate::clock::Clock;

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

#[derive(Clone)]
struct GovernorClock(Arc<dyn Clock>);

impl GovernorClockTrait for GovernorClock {
    type Instant = Nanos;
    fn now(&self) -> Nanos {
        let nanos = self.0.now().unix_timestamp_nanos();
        Nanos::from(u64::try_from(nanos).unwrap_or(0))
    }
}

type Limiter = RateLimiter<String, HashMapStateStore<String>, GovernorClock, NoOpMiddleware<Nanos>>;

pub struct RateLimits {
    clock: GovernorClock,
    limiters: HashMap<Bucket, Limiter>,
}

impl RateLimits {
    pub fn new(config: &RateLimitConfig, clock: Arc<dyn Clock>) -> Self {
        let clock = GovernorClock(clock);
        let mut limiters = HashMap::new();
        if config.enabled {
            let minute = |n: u32| NonZeroU32::new(n).map(Quota::per_minute);
            let hour = |n: u32| NonZeroU32::new(n).map(Quota::per_hour);
            for (bucket, quota) in [
                (
                    Bucket::EmailStartPerIp,
                    minute(config.email_start_per_ip_per_minute),
                ),
                (
                    Bucket::EmailStartPerAddress,
                    minute(config.email_start_per_address_per_minute),
                ),
                (Bucket::VerifyPerIp, minute(config.verify_per_ip_per_minute)),
                (
                    Bucket::VerifyPerAddress,
                    hour(config.verify_per_address_per_hour),
                ),
            ] {
                if let Some(quota) = quota {
                    limiters.insert(
                        bucket,
                        RateLimiter::hashmap_with_clock(quota, clock.clone()),
                    );
                }
            }
        }
        Self { clock, limiters }
    }

    pub fn check(&self, bucket: Bucket, key: &str) -> ServiceResult<()> {
        let Some(limiter) = self.limiters.get(&bucket) else {
            return Ok(());
        };
        limiter.check_key(&key.to_string()).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            ServiceError::RateLimited {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }

    /// Drops keys whose limits have fully recovered, so memory stays bounded.
    pub fn forget_idle(&self) {
        for limiter in self.limiters.values() {
            limiter.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use time::Duration;

    #[test]
    fn a_bucket_refills_as_the_clock_moves() {
        let clock = Arc::new(ManualClock::starting_now());
        let config = RateLimitConfig {
            email_start_per_address_per_minute: 3,
            ..Default::default()
        };
        let limits = RateLimits::new(&config, clock.clone());
        for _ in 0..3 {
            limits
                .check(Bucket::EmailStartPerAddress, "a@x.io")
                .unwrap();
        }
        match limits.check(Bucket::EmailStartPerAddress, "a@x.io") {
            Err(ServiceError::RateLimited { retry_after_secs }) => {
                assert!((1..=20).contains(&retry_after_secs))
            }
            other => panic!("expected a limit, got {other:?}"),
        }
        limits
            .check(Bucket::EmailStartPerAddress, "b@x.io")
            .unwrap();
        clock.advance(Duration::seconds(20));
        limits
            .check(Bucket::EmailStartPerAddress, "a@x.io")
            .unwrap();
    }

    #[test]
    fn disabled_limits_never_refuse() {
        let clock = Arc::new(ManualClock::starting_now());
        let config = RateLimitConfig {
            enabled: false,
            ..Default::default()
        };
        let limits = RateLimits::new(&config, clock);
        for _ in 0..100 {
            limits.check(Bucket::EmailStartPerIp, "1.2.3.4").unwrap();
        }
    }
}
