//! Per-environment signing keys: generated, sealed at rest with the master
//! key, and loaded into memory for signing and verification.

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{DecodingKey, EncodingKey, Header};
use serde::Serialize;

use super::{ServiceError, ServiceResult};
use crate::crypto::{self, MasterKey, SigningKeyPair};
use crate::domain::algorithm::TokenAlgorithm;
use crate::store::SigningKeyRecord;

/// A key ready for use. Retired keys only verify.
pub struct RuntimeKey {
    pub kid: String,
    pub algorithm: TokenAlgorithm,
    signer: SigningKeyPair,
    pub decoding: DecodingKey,
    pub jwk: Jwk,
    pub retired_at: Option<i64>,
}

impl RuntimeKey {
    /// A compact JWS over `claims`, with this key's `alg` and `kid` and
    /// `typ: JWT`. The same bytes jsonwebtoken's `encode` produces (a unit
    /// test compares them), without parsing the private key on each call.
    pub fn sign_jwt<T: Serialize>(&self, claims: &T) -> ServiceResult<String> {
        self.sign_jwt_of_type(claims, crate::domain::claims::SESSION_TOKEN_TYP)
    }

    /// `sign_jwt` with another `typ` (elevated tokens).
    pub fn sign_jwt_of_type<T: Serialize>(&self, claims: &T, typ: &str) -> ServiceResult<String> {
        let mut header = Header::new(self.algorithm.jwt());
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.into());
        let signing_input = format!("{}.{}", json_part(&header)?, json_part(claims)?);
        let signature = self
            .signer
            .sign(signing_input.as_bytes())
            .map_err(|e| ServiceError::caused("signing a token", e))?;
        Ok(format!("{signing_input}.{}", crypto::b64url(&signature)))
    }
}

/// One base64url-encoded JSON part of a compact JWS.
fn json_part<T: Serialize + ?Sized>(value: &T) -> ServiceResult<String> {
    let json = serde_json::to_vec(value).map_err(|e| ServiceError::caused("serializing", e))?;
    Ok(crypto::b64url(&json))
}

fn encoding_key(alg: TokenAlgorithm, pkcs8_der: &[u8]) -> ServiceResult<EncodingKey> {
    let key = match alg {
        TokenAlgorithm::Rs256 => {
            let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8_der.to_vec()));
            EncodingKey::from_rsa_pem(pem.as_bytes())
                .map_err(|e| ServiceError::internal(format!("RSA key: {e}")))?
        }
        TokenAlgorithm::Es256 => EncodingKey::from_ec_der(pkcs8_der),
        TokenAlgorithm::EdDsa => EncodingKey::from_ed_der(pkcs8_der),
    };
    Ok(key)
}

fn public_jwk(kid: &str, alg: TokenAlgorithm, key: &EncodingKey) -> ServiceResult<Jwk> {
    let mut jwk = Jwk::from_encoding_key(key, alg.jwt())
        .map_err(|e| ServiceError::internal(format!("JWK export: {e}")))?;
    jwk.common.key_id = Some(kid.to_string());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    Ok(jwk)
}

/// A fresh key for an environment, sealed for storage.
pub fn new_signing_key(
    master: &MasterKey,
    environment_id: &str,
    alg: TokenAlgorithm,
    now_ms: i64,
) -> ServiceResult<SigningKeyRecord> {
    let kid = crypto::new_id("key", now_ms)?;
    let der = crypto::generate_signing_key(alg)?;
    let jwk = public_jwk(&kid, alg, &encoding_key(alg, &der)?)?;
    Ok(SigningKeyRecord {
        private_key_sealed: master.seal(&kid, &der)?,
        kid,
        environment_id: environment_id.to_string(),
        algorithm: alg,
        public_jwk: serde_json::to_string(&jwk)
            .map_err(|e| ServiceError::caused("serializing", e))?,
        created_at: now_ms,
        retired_at: None,
    })
}

pub fn load(master: &MasterKey, record: &SigningKeyRecord) -> ServiceResult<RuntimeKey> {
    let alg = record.algorithm;
    let der = master.open(&record.kid, &record.private_key_sealed)?;
    let jwk: Jwk = serde_json::from_str(&record.public_jwk)
        .map_err(|e| ServiceError::caused(format!("reading the JWK of key {}", record.kid), e))?;
    let decoding = DecodingKey::from_jwk(&jwk)
        .map_err(|e| ServiceError::internal(format!("JWK import: {e}")))?;
    Ok(RuntimeKey {
        kid: record.kid.clone(),
        algorithm: alg,
        signer: SigningKeyPair::from_pkcs8(alg, &der)
            .map_err(|e| ServiceError::internal(format!("key {}: {e}", record.kid)))?,
        decoding,
        jwk,
        retired_at: record.retired_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{Header, Validation};

    #[test]
    fn every_algorithm_signs_and_verifies_through_its_published_jwk() {
        let master = MasterKey::generate().unwrap();
        for alg in TokenAlgorithm::all() {
            let record = new_signing_key(&master, "env_x", alg, 0).unwrap();
            let key = load(&master, &record).unwrap_or_else(|e| panic!("{alg:?}: {e}"));
            let mut header = Header::new(alg.jwt());
            header.kid = Some(key.kid.clone());
            let claims = serde_json::json!({"sub": "usr_1", "exp": 4_000_000_000u64});
            header.typ = Some("JWT".into());
            let token = key.sign_jwt(&claims).unwrap();
            let der = master
                .open(&record.kid, &record.private_key_sealed)
                .unwrap();
            let reference =
                jsonwebtoken::encode(&header, &claims, &encoding_key(alg, &der).unwrap())
                    .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
            let (input, _) = token.rsplit_once('.').unwrap();
            let (reference_input, _) = reference.rsplit_once('.').unwrap();
            assert_eq!(input, reference_input, "{alg:?}: header and claims");
            if alg != TokenAlgorithm::Es256 {
                // RSA PKCS#1 v1.5 and Ed25519 are deterministic; ECDSA is not.
                assert_eq!(token, reference, "{alg:?}: signature");
            }
            let mut validation = Validation::new(alg.jwt());
            validation.validate_aud = false;
            jsonwebtoken::decode::<serde_json::Value>(&token, &key.decoding, &validation)
                .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
            assert!(
                !record.public_jwk.contains("\"d\""),
                "{alg:?} JWK has a private part"
            );
        }
    }
}
