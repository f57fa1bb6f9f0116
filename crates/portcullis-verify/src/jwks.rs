//! The environment's published keys: fetched, cached, and fetched again on
//! an unknown `kid` at most once per `min_refresh_interval`, however many
//! tokens ask (and one fetch for all the verifications waiting on it).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{InvalidReason, VerifyError};
use crate::options::Clock;

/// The most a discovery document or key set may weigh.
const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// A published public key, with the one algorithm it verifies.
pub(crate) struct VerifyingKey {
    pub algorithm: Algorithm,
    pub decoding: DecodingKey,
}

#[derive(Default)]
struct KeySet {
    keys: HashMap<String, Arc<VerifyingKey>>,
    /// When this set was fetched; `None` before the first fetch succeeds.
    fetched_at: Option<SystemTime>,
}

#[derive(Default)]
struct FetchState {
    last_attempt: Option<SystemTime>,
    last_failed: bool,
}

pub(crate) struct KeyCache {
    jwks_uri: String,
    http: reqwest::Client,
    clock: Clock,
    min_refresh_interval: Duration,
    max_key_age: Duration,
    keys: RwLock<Arc<KeySet>>,
    /// Fetches finished so far (counted while the fetch lock is held): a
    /// verification that missed while another fetch was under way uses
    /// that fetch's result instead of making its own.
    fetches_done: AtomicU64,
    fetch: tokio::sync::Mutex<FetchState>,
}

impl KeyCache {
    pub fn new(
        jwks_uri: String,
        http: reqwest::Client,
        clock: Clock,
        min_refresh_interval: Duration,
        max_key_age: Duration,
    ) -> Self {
        Self {
            jwks_uri,
            http,
            clock,
            min_refresh_interval,
            max_key_age,
            keys: RwLock::new(Arc::default()),
            fetches_done: AtomicU64::new(0),
            fetch: tokio::sync::Mutex::new(FetchState::default()),
        }
    }

    pub fn jwks_uri(&self) -> &str {
        &self.jwks_uri
    }

    fn current(&self) -> Arc<KeySet> {
        // A panic elsewhere while holding the lock cannot leave a half-made
        // set: the lock only ever swaps a whole `Arc`.
        match self.keys.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn install(&self, set: KeySet) {
        let set = Arc::new(set);
        match self.keys.write() {
            Ok(mut keys) => *keys = set,
            Err(poisoned) => *poisoned.into_inner() = set,
        }
    }

    /// The key named `kid`: from the cache, else after one fetch if the
    /// interval allows.
    pub async fn key(&self, kid: &str) -> Result<Arc<VerifyingKey>, VerifyError> {
        let observed = self.fetches_done.load(Ordering::Acquire);
        let set = self.current();
        let fresh = set
            .fetched_at
            .is_some_and(|at| !elapsed_at_least((self.clock)(), at, self.max_key_age));
        if let Some(key) = set.keys.get(kid) {
            if fresh {
                return Ok(key.clone());
            }
            // An old set: refresh it, unless another verification is at it
            // (then this one goes on with the key it has).
            let Ok(mut state) = self.fetch.try_lock() else {
                return Ok(key.clone());
            };
            self.fetch_if_allowed(&mut state).await;
            return self
                .current()
                .keys
                .get(kid)
                .cloned()
                .ok_or(VerifyError::InvalidToken(InvalidReason::UnknownKey));
        }
        let mut state = self.fetch.lock().await;
        if self.fetches_done.load(Ordering::Acquire) == observed {
            self.fetch_if_allowed(&mut state).await;
        }
        let set = self.current();
        match set.keys.get(kid) {
            Some(key) => Ok(key.clone()),
            None if set.fetched_at.is_none() || state.last_failed => Err(VerifyError::Unavailable),
            None => Err(VerifyError::InvalidToken(InvalidReason::UnknownKey)),
        }
    }

    /// Fetches the key set now unless one was tried within the interval.
    pub async fn refresh(&self) -> Result<(), VerifyError> {
        let mut state = self.fetch.lock().await;
        self.fetch_if_allowed(&mut state).await;
        match state.last_failed {
            true => Err(VerifyError::Unavailable),
            false => Ok(()),
        }
    }

    async fn fetch_if_allowed(&self, state: &mut FetchState) {
        let now = (self.clock)();
        if state
            .last_attempt
            .is_some_and(|at| !elapsed_at_least(now, at, self.min_refresh_interval))
        {
            return;
        }
        state.last_attempt = Some(now);
        match fetch_json::<RawKeySet>(&self.http, &self.jwks_uri).await {
            Ok(raw) => {
                let keys = raw.verifying_keys();
                tracing::debug!(jwks_uri = %self.jwks_uri, keys = keys.len(), "fetched the JWKS");
                self.install(KeySet {
                    keys,
                    fetched_at: Some(now),
                });
                state.last_failed = false;
            }
            Err(error) => {
                tracing::warn!(jwks_uri = %self.jwks_uri, %error, "fetching the JWKS failed");
                state.last_failed = true;
            }
        }
        self.fetches_done.fetch_add(1, Ordering::AcqRel);
    }
}

/// Whether `interval` has passed from `then` to `now`. A clock that went
/// back counts as passed: at worst one more fetch, which resets `then`.
fn elapsed_at_least(now: SystemTime, then: SystemTime, interval: Duration) -> bool {
    now.duration_since(then).map_or(true, |d| d >= interval)
}

#[derive(Deserialize)]
struct RawKeySet {
    keys: Vec<serde_json::Value>,
}

impl RawKeySet {
    /// The keys this verifier can use; one it cannot read is skipped, not
    /// a reason to refuse the others.
    fn verifying_keys(self) -> HashMap<String, Arc<VerifyingKey>> {
        self.keys
            .into_iter()
            .filter_map(|value| {
                let jwk: Jwk = serde_json::from_value(value).ok()?;
                let kid = jwk.common.key_id.clone()?;
                let key = verifying_key(&jwk);
                if key.is_none() {
                    tracing::debug!(%kid, "skipping a published key this verifier does not accept");
                }
                Some((kid, Arc::new(key?)))
            })
            .collect()
    }
}

/// The key's algorithm decides: its type and curve give one of the
/// server's algorithms (RS256, ES256, EdDSA), and a declared `alg` must
/// agree. Secrets (`oct`, HS*) and every other type are never accepted.
fn verifying_key(jwk: &Jwk) -> Option<VerifyingKey> {
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|u| *u != PublicKeyUse::Signature)
    {
        return None;
    }
    let (algorithm, declared) = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => (Algorithm::RS256, KeyAlgorithm::RS256),
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
            (Algorithm::ES256, KeyAlgorithm::ES256)
        }
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            (Algorithm::EdDSA, KeyAlgorithm::EdDSA)
        }
        _ => return None,
    };
    if jwk.common.key_algorithm.is_some_and(|a| a != declared) {
        return None;
    }
    let decoding = DecodingKey::from_jwk(jwk).ok()?;
    Some(VerifyingKey {
        algorithm,
        decoding,
    })
}

/// The parts of an OpenID discovery document this verifier reads.
#[derive(Deserialize)]
pub(crate) struct Discovery {
    pub issuer: String,
    pub jwks_uri: String,
}

/// GETs a JSON document of at most `MAX_DOCUMENT_BYTES`. The error is for
/// logs: it names no secret (these documents are public).
pub(crate) async fn fetch_json<T: DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
) -> Result<T, String> {
    let mut response = http
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("answered {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("reading the body failed: {e}"))?
    {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("the body is over {MAX_DOCUMENT_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| format!("not the expected JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwk(json: serde_json::Value) -> Jwk {
        serde_json::from_value(json).expect("a JWK")
    }

    #[test]
    fn secrets_and_mismatched_algorithms_are_never_keys() {
        let oct = jwk(serde_json::json!({"kty": "oct", "k": "c2VjcmV0", "kid": "a"}));
        assert!(verifying_key(&oct).is_none());
        let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let ed = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "b"});
        assert!(verifying_key(&jwk(ed.clone())).is_some_and(|k| k.algorithm == Algorithm::EdDSA));
        let mut declared_other = ed.clone();
        declared_other["alg"] = "HS256".into();
        assert!(verifying_key(&jwk(declared_other)).is_none());
        let mut for_encryption = ed;
        for_encryption["use"] = "enc".into();
        assert!(verifying_key(&jwk(for_encryption)).is_none());
    }

    #[test]
    fn a_clock_gone_back_allows_a_fetch() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let interval = Duration::from_secs(30);
        assert!(!elapsed_at_least(t + Duration::from_secs(29), t, interval));
        assert!(elapsed_at_least(t + interval, t, interval));
        assert!(elapsed_at_least(t - Duration::from_secs(1), t, interval));
    }
}
