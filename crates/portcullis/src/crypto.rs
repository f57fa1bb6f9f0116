//! Cryptographic building blocks, all from aws-lc-rs (the same library that
//! signs and verifies JWTs): randomness, AES-256-GCM for secrets at rest,
//! HMAC and SHA-256 for what is only ever checked, and key generation.

use aws_lc_rs::aead::{AES_256_GCM, Aad, Nonce, RandomizedNonceKey};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use aws_lc_rs::{digest, hmac};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretBox};

use crate::domain::algorithm::TokenAlgorithm;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the system random generator failed")]
    Random,
    #[error("a sealed secret could not be opened (wrong master key or corrupted data)")]
    Open,
    #[error("sealing failed")]
    Seal,
    #[error("key generation failed")]
    KeyGeneration,
    #[error("the master key must be 32 bytes in standard base64")]
    MasterKeyFormat,
    #[error("a stored private key could not be parsed")]
    KeyFormat,
    #[error("signing failed")]
    Sign,
}

pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| CryptoError::Random)?;
    Ok(out)
}

/// Seeds aws-lc's random generator on a thread of its own. Its first use in
/// a process gathers entropy for about 25 ms (measured on the bench
/// machine). Started once the server listens, it delays neither start-up
/// nor, unless it comes within those 25 ms, the first sign-in.
pub fn warm_up_in_background() {
    std::thread::spawn(|| {
        if random_bytes::<1>().is_err() {
            tracing::warn!("the system random generator failed to start");
        }
    });
}

/// A node's id, unique among the nodes on one database (`node_…`, 128
/// bits). Not a secret: it is drawn from the operating system directly,
/// so start-up does not wait for aws-lc's generator to be seeded.
pub fn node_id() -> Result<String, CryptoError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| CryptoError::Random)?;
    Ok(format!("node_{}", hex::encode(bytes)))
}

/// A fresh id such as `ses_019a…`: the type prefix and 32 hex digits, of
/// which the first 12 are `now_ms`, the injected clock's time in
/// milliseconds (`services::new_id`), and the other 20 are random (80 bits,
/// as in a UUIDv7). Ids made later sort later, so a new row's id lands at
/// the end of its indexes instead of on a random page of each: a sign-in
/// dirties a few pages instead of one per index (docs/benchmarks.md, "Ids
/// in time order"). Ids show when they were made; nothing reads the time
/// back, no id is a secret, and 80 random bits keep them unguessable.
pub fn new_id(prefix: &str, now_ms: i64) -> Result<String, CryptoError> {
    Ok(id_from(prefix, now_ms, random_bytes::<10>()?))
}

/// An id that is never stored (an error's correlation id): the prefix and
/// 128 random bits, in the shape of `new_id`.
pub fn random_id(prefix: &str) -> Result<String, CryptoError> {
    Ok(format!("{prefix}_{}", hex::encode(random_bytes::<16>()?)))
}

fn id_from(prefix: &str, millis: i64, random: [u8; 10]) -> String {
    // 48 bits of milliseconds last until the year 10889; before 1970, 0.
    let time = (millis.max(0) & 0xffff_ffff_ffff).to_be_bytes();
    format!(
        "{prefix}_{}{}",
        hex::encode(&time[time.len() - 6..]),
        hex::encode(random)
    )
}

/// Whether `id` has the shape `new_id(prefix)` gives: the prefix, `_` and
/// 32 hex digits. Anything else cannot exist.
pub fn is_id(prefix: &str, id: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A uniformly distributed number in [0, 1), for jitter (not a secret).
pub fn random_fraction() -> f64 {
    random_bytes::<4>().map_or(0.5, |b| f64::from(u32::from_le_bytes(b)) / 4_294_967_296.0)
}

/// The prefix of webhook signing secrets (Standard Webhooks).
pub const WEBHOOK_SECRET_PREFIX: &str = "whsec_";

/// A new webhook signing secret: 24 random bytes (192 bits).
pub fn new_webhook_key() -> Result<Vec<u8>, CryptoError> {
    Ok(random_bytes::<24>()?.to_vec())
}

/// The secret as it is shown once: `whsec_` + base64 of the key.
pub fn webhook_secret_text(key: &[u8]) -> String {
    format!("{WEBHOOK_SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// A Standard Webhooks signature: `v1,` + base64 of HMAC-SHA256 over
/// `{id}.{timestamp}.{body}` under the key.
pub fn webhook_signature(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(id.as_bytes());
    ctx.update(b".");
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    format!("v1,{}", STANDARD.encode(ctx.sign().as_ref()))
}

/// A uniformly distributed decimal code of `digits` digits (rejection sampling).
pub fn random_digits(digits: u32) -> Result<String, CryptoError> {
    let modulus = 10u32.pow(digits);
    let limit = u32::MAX - (u32::MAX % modulus);
    loop {
        let v = u32::from_le_bytes(random_bytes::<4>()?);
        if v < limit {
            return Ok(format!("{:0width$}", v % modulus, width = digits as usize));
        }
    }
}

/// A secret for a caller to hold: `prefix` + 256 random bits, URL-safe.
pub fn new_secret(prefix: &str) -> Result<String, CryptoError> {
    Ok(format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)
    ))
}

pub fn sha256(data: &[u8]) -> Vec<u8> {
    sha256_array(data).to_vec()
}

/// SHA-256 without an allocation (the session check uses it per request).
pub fn sha256_array(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, data).as_ref());
    out
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

pub fn b64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// The 32-byte key that protects everything encrypted at rest and keys the
/// HMACs of short codes. Sub-keys are derived per purpose, so one purpose's
/// output can never be replayed as another's. Held as a `secrecy` box:
/// zeroed when the last clone is dropped, redacted in `Debug`.
#[derive(Clone, Debug)]
pub struct MasterKey {
    bytes: Arc<SecretBox<[u8; 32]>>,
}

impl MasterKey {
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self {
            bytes: Arc::new(SecretBox::new(Box::new(random_bytes::<32>()?))),
        })
    }

    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let raw = STANDARD
            .decode(text.trim())
            .map_err(|_| CryptoError::MasterKeyFormat)?;
        let raw = secrecy::zeroize::Zeroizing::new(raw);
        let bytes: [u8; 32] = raw
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::MasterKeyFormat)?;
        Ok(Self {
            bytes: Arc::new(SecretBox::new(Box::new(bytes))),
        })
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.bytes.expose_secret())
    }

    fn subkey(&self, purpose: &str) -> [u8; 32] {
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.bytes.expose_secret());
        let tag = hmac::sign(&key, purpose.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// HMAC-SHA256 under the sub-key for `purpose`.
    pub fn mac(&self, purpose: &str, message: &[u8]) -> Vec<u8> {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.subkey(purpose));
        hmac::sign(&key, message).as_ref().to_vec()
    }

    fn aead(&self) -> Result<RandomizedNonceKey, CryptoError> {
        RandomizedNonceKey::new(&AES_256_GCM, &self.subkey("portcullis/at-rest/v1"))
            .map_err(|_| CryptoError::Seal)
    }

    /// AES-256-GCM with a random nonce; `context` is bound as associated data,
    /// so a ciphertext moved to another row does not open.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut buf = plaintext.to_vec();
        let nonce = self
            .aead()?
            .seal_in_place_append_tag(Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| CryptoError::Seal)?;
        let mut out = nonce.as_ref().to_vec();
        out.extend_from_slice(&buf);
        Ok(out)
    }

    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < 12 + 16 {
            return Err(CryptoError::Open);
        }
        let (nonce, body) = sealed.split_at(12);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Open)?;
        let mut buf = body.to_vec();
        let plain = self
            .aead()?
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| CryptoError::Open)?;
        Ok(plain.to_vec())
    }
}

/// A new private signing key as PKCS#8 v1 DER.
pub fn generate_signing_key(alg: TokenAlgorithm) -> Result<Vec<u8>, CryptoError> {
    let der = match alg {
        TokenAlgorithm::Rs256 => {
            let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .map_err(|_| CryptoError::KeyGeneration)?;
            let der: aws_lc_rs::encoding::Pkcs8V1Der =
                pair.as_der().map_err(|_| CryptoError::KeyGeneration)?;
            der.as_ref().to_vec()
        }
        TokenAlgorithm::Es256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .and_then(|k| k.to_pkcs8v1())
            .map_err(|_| CryptoError::KeyGeneration)?
            .as_ref()
            .to_vec(),
        TokenAlgorithm::EdDsa => Ed25519KeyPair::generate()
            .and_then(|k| k.to_pkcs8v1())
            .map_err(|_| CryptoError::KeyGeneration)?
            .as_ref()
            .to_vec(),
    };
    Ok(der)
}

/// A private signing key, parsed once. Parsing validates the key, which
/// for RSA costs more than a signature; jsonwebtoken's `encode` parses the
/// DER again on every call, which halved sign-in throughput with RS256
/// (docs/benchmarks.md), so session tokens are signed with this instead.
pub enum SigningKeyPair {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (JWS `RS256`).
    Rs256(RsaKeyPair),
    /// ECDSA P-256 with SHA-256, fixed-size `r || s` signature (JWS `ES256`).
    Es256(EcdsaKeyPair),
    /// Ed25519 (JWS `EdDSA`).
    EdDsa(Ed25519KeyPair),
}

impl SigningKeyPair {
    /// From the PKCS#8 DER that `generate_signing_key` made.
    pub fn from_pkcs8(alg: TokenAlgorithm, der: &[u8]) -> Result<Self, CryptoError> {
        let pair = match alg {
            TokenAlgorithm::Rs256 => {
                Self::Rs256(RsaKeyPair::from_pkcs8(der).map_err(|_| CryptoError::KeyFormat)?)
            }
            TokenAlgorithm::Es256 => Self::Es256(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|_| CryptoError::KeyFormat)?,
            ),
            TokenAlgorithm::EdDsa => {
                Self::EdDsa(Ed25519KeyPair::from_pkcs8(der).map_err(|_| CryptoError::KeyFormat)?)
            }
        };
        Ok(pair)
    }

    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let rng = SystemRandom::new();
        match self {
            Self::Rs256(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)
                    .map_err(|_| CryptoError::Sign)?;
                Ok(signature)
            }
            Self::Es256(pair) => Ok(pair
                .sign(&rng, message)
                .map_err(|_| CryptoError::Sign)?
                .as_ref()
                .to_vec()),
            Self::EdDsa(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secret_opens_only_with_same_key_and_context() {
        let key = MasterKey::generate().unwrap();
        let sealed = key.seal("kid_1", b"private").unwrap();
        assert_eq!(key.open("kid_1", &sealed).unwrap(), b"private");
        assert!(key.open("kid_2", &sealed).is_err());
        assert!(
            MasterKey::generate()
                .unwrap()
                .open("kid_1", &sealed)
                .is_err()
        );
        assert!(key.open("kid_1", &sealed[..10]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn ids_sort_by_time_and_keep_their_shape(
            a in 0i64..(1 << 48),
            b in 0i64..(1 << 48),
            ra in proptest::array::uniform10(proptest::num::u8::ANY),
            rb in proptest::array::uniform10(proptest::num::u8::ANY),
        ) {
            let (x, y) = (id_from("ses", a, ra), id_from("ses", b, rb));
            proptest::prop_assert!(is_id("ses", &x) && is_id("ses", &y));
            if a < b {
                proptest::prop_assert!(x < y);
            }
        }
    }

    #[test]
    fn new_ids_are_distinct_and_carry_the_time_first() {
        let t = 20_000 * 86_400_000;
        let first = new_id("usr", t).unwrap();
        let ids: Vec<String> = (0..1000)
            .map(|i| new_id("usr", t + i % 3).unwrap())
            .collect();
        assert!(ids.iter().all(|id| is_id("usr", id)));
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        // The time part (after `usr_`, 12 hex digits) is the clock's.
        assert!(ids.iter().all(|id| id[4..16] >= first[4..16]));
        assert_eq!(&first[4..16], format!("{t:012x}"));
        assert!(is_id("err", &random_id("err").unwrap()));
    }

    #[test]
    fn digits_have_the_requested_width() {
        for _ in 0..200 {
            let code = random_digits(6).unwrap();
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn master_key_round_trips_through_base64_and_rejects_wrong_sizes() {
        let key = MasterKey::generate().unwrap();
        let again = MasterKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(key.mac("p", b"m"), again.mac("p", b"m"));
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
    }

    #[test]
    fn the_master_key_debug_shows_no_key() {
        let key = MasterKey::generate().unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains("REDACTED"), "{shown}");
        assert!(!shown.contains(&key.to_base64()), "{shown}");
        assert!(!shown.contains(&hex::encode(key.bytes.expose_secret())));
    }

    #[test]
    fn macs_differ_by_purpose() {
        let key = MasterKey::generate().unwrap();
        assert_ne!(key.mac("a", b"m"), key.mac("b", b"m"));
    }
}
