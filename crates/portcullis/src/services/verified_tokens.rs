//! A bounded memory of tokens whose signature and claims were verified, so
//! the many checks of one token cost one signature verification. Keyed by
//! the SHA-256 of the whole token: another token (a forged or tampered one)
//! cannot hit an entry. Expiry, `nbf` and revocation are not cached; they
//! are checked on every request by the caller.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::crypto;
use crate::domain::claims::SessionClaims;

pub const CAPACITY: usize = 100_000;

#[derive(Default)]
pub struct VerifiedTokens {
    entries: RwLock<HashMap<Fingerprint, Arc<SessionClaims>>>,
}

pub type Fingerprint = [u8; 32];

pub fn fingerprint(token: &str) -> Fingerprint {
    crypto::sha256_array(token.as_bytes())
}

impl VerifiedTokens {
    pub fn get(&self, fingerprint: &Fingerprint) -> Option<Arc<SessionClaims>> {
        self.entries
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(fingerprint)
            .cloned()
    }

    /// Remembers a verified token; when full, forgets the expired ones, or
    /// everything if none had expired.
    pub fn insert(&self, fingerprint: Fingerprint, claims: Arc<SessionClaims>, now_s: i64) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.retain(|_, c| c.exp > now_s);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(fingerprint, claims);
    }

    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).len()
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
    fn it_stays_bounded() {
        let cache = VerifiedTokens::default();
        for i in 0..CAPACITY + 10 {
            cache.insert(
                fingerprint(&i.to_string()),
                claims(if i < 50 { 1 } else { 100 }),
                5,
            );
        }
        assert!(cache.len() <= CAPACITY);
        assert!(!cache.is_empty());
    }
}
