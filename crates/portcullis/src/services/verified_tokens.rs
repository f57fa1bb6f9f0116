//! A bounded memory of tokens whose signature and claims were verified, so
//! the many checks of one token cost one signature verification. Keyed by
//! the SHA-256 of the whole token: another token (a forged or tampered one)
//! cannot hit an entry. Expiry, `nbf` and revocation are not cached; they
//! are checked on every request by the caller.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::sync::Cache;

use crate::crypto;
use crate::domain::claims::SessionClaims;

pub const CAPACITY: u64 = 100_000;

/// A bounded cache (moka: entries past `CAPACITY` are evicted one by one
/// by its admission and eviction policy, never all at once), each entry
/// kept until its token's `exp` at most.
pub struct VerifiedTokens {
    entries: Cache<Fingerprint, Verified>,
}

pub type Fingerprint = [u8; 32];

#[derive(Clone)]
struct Verified {
    claims: Arc<SessionClaims>,
    /// How long the token has left to live when it was verified.
    lifetime: Duration,
}

/// Each entry lives as long as its token has left when it is inserted
/// (counted on moka's own clock: this only frees memory; whether a token
/// has expired is the caller's check, on the injected clock).
struct UntilTokenExpiry;

impl Expiry<Fingerprint, Verified> for UntilTokenExpiry {
    fn expire_after_create(
        &self,
        _key: &Fingerprint,
        value: &Verified,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.lifetime)
    }
}

impl Default for VerifiedTokens {
    fn default() -> Self {
        VerifiedTokens {
            entries: Cache::builder()
                .max_capacity(CAPACITY)
                .expire_after(UntilTokenExpiry)
                .build(),
        }
    }
}

pub fn fingerprint(token: &str) -> Fingerprint {
    crypto::sha256_array(token.as_bytes())
}

impl VerifiedTokens {
    pub fn get(&self, fingerprint: &Fingerprint) -> Option<Arc<SessionClaims>> {
        self.entries.get(fingerprint).map(|v| v.claims)
    }

    /// Remembers a verified token until its expiry (`now_s` is the
    /// injected clock's time, in seconds).
    pub fn insert(&self, fingerprint: Fingerprint, claims: Arc<SessionClaims>, now_s: i64) {
        let left = u64::try_from(claims.exp.saturating_sub(now_s)).unwrap_or(0);
        let lifetime = Duration::from_secs(left);
        self.entries
            .insert(fingerprint, Verified { claims, lifetime });
    }

    /// The number of entries, after pending evictions have run.
    pub fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Arc<SessionClaims> {
        Arc::new(SessionClaims {
            exp,
            ..SessionClaims::empty()
        })
    }

    #[test]
    fn only_the_identical_token_hits() {
        let cache = VerifiedTokens::default();
        cache.insert(fingerprint("a.b.c"), claims(10), 0);
        assert!(cache.get(&fingerprint("a.b.c")).is_some());
        assert!(cache.get(&fingerprint("a.b.d")).is_none());
        assert!(cache.get(&fingerprint("a.b.c ")).is_none());
    }

    #[test]
    fn it_stays_bounded_without_forgetting_everything() {
        let cache = VerifiedTokens::default();
        for i in 0..CAPACITY + 10 {
            cache.insert(fingerprint(&i.to_string()), claims(100), 5);
        }
        let len = cache.len();
        assert!(len <= CAPACITY, "{len} entries");
        assert!(len > CAPACITY / 2, "{len} entries: most are kept");
    }

    #[test]
    fn an_entry_lives_no_longer_than_its_token() {
        let cache = VerifiedTokens::default();
        cache.insert(fingerprint("gone"), claims(5), 5);
        cache.insert(fingerprint("kept"), claims(3600), 5);
        assert!(cache.get(&fingerprint("gone")).is_none());
        assert!(cache.get(&fingerprint("kept")).is_some());
    }
}
