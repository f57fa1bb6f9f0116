//! What the tests share: keys made in the test, a real local HTTP server
//! publishing discovery and the JWKS (counting JWKS requests), tokens
//! signed as the server signs them, and a clock the test sets.

#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use portcullis_verify::{Verifier, VerifierOptions};
use serde_json::{Value, json};

pub const ENV: &str = "env_test";
/// Unix seconds at the start of every test.
pub const T0: i64 = 1_800_000_000;

/// A signing key made in the test, with its public JWK.
pub struct TestKey {
    pub kid: String,
    pub alg: Algorithm,
    pub encoding: EncodingKey,
    pub jwk: Jwk,
    /// The public key's DER (for RSA: what an attacker would use as an
    /// HMAC secret).
    pub public_der: Vec<u8>,
}

impl TestKey {
    pub fn generate(alg: Algorithm, kid: &str) -> Self {
        let (encoding, public_der) = match alg {
            Algorithm::RS256 => {
                let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .expect("RSA key");
                let der: Pkcs8V1Der = pair.as_der().expect("PKCS#8");
                let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec()));
                let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("RSA PEM");
                (key, pair.public_key().as_ref().to_vec())
            }
            Algorithm::ES256 => {
                let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("EC");
                let der = pair.to_pkcs8v1().expect("PKCS#8");
                let public = pair.public_key().as_ref().to_vec();
                (EncodingKey::from_ec_der(der.as_ref()), public)
            }
            Algorithm::EdDSA => {
                let pair = Ed25519KeyPair::generate().expect("Ed25519");
                let der = pair.to_pkcs8v1().expect("PKCS#8 v1");
                let public = pair.public_key().as_ref().to_vec();
                (EncodingKey::from_ed_der(der.as_ref()), public)
            }
            other => panic!("no test keys for {other:?}"),
        };
        let mut jwk = Jwk::from_encoding_key(&encoding, alg).expect("JWK export");
        jwk.common.key_id = Some(kid.to_string());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        TestKey {
            kid: kid.to_string(),
            alg,
            encoding,
            jwk,
            public_der,
        }
    }

    /// A token of type `typ` over `claims`, signed as the server signs.
    pub fn sign(&self, typ: &str, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.to_string());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("signing")
    }

    pub fn session(&self, claims: &Value) -> String {
        self.sign("JWT", claims)
    }

    pub fn elevated(&self, claims: &Value) -> String {
        self.sign("elevated+jwt", claims)
    }
}

/// A compact JWS with the given header and payload and no valid signature.
pub fn raw_token(header: &Value, claims: &Value, signature: &[u8]) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("JSON"));
    format!(
        "{}.{}.{}",
        part(header),
        part(claims),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// The token with its payload replaced, its header and signature kept.
pub fn with_payload(token: &str, claims: &Value) -> String {
    let mut parts = token.split('.');
    let header = parts.next().expect("header");
    let _ = parts.next();
    let signature = parts.next().expect("signature");
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("JSON"));
    format!("{header}.{payload}.{signature}")
}

/// A clock the test moves; starts at `T0`.
#[derive(Clone)]
pub struct TestClock(Arc<AtomicI64>);

impl TestClock {
    pub fn new() -> Self {
        TestClock(Arc::new(AtomicI64::new(T0)))
    }

    pub fn now_s(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    pub fn reader(&self) -> impl Fn() -> SystemTime + Send + Sync + 'static {
        let secs = self.0.clone();
        move || UNIX_EPOCH + Duration::from_secs(secs.load(Ordering::SeqCst) as u64)
    }
}

struct IssuerState {
    issuer: String,
    keys: Mutex<Vec<Jwk>>,
    jwks_requests: AtomicUsize,
    failing: AtomicBool,
    /// Held for writing by a test to keep JWKS answers waiting.
    hold: Arc<tokio::sync::RwLock<()>>,
}

/// A Portcullis stand-in on 127.0.0.1:0: discovery and JWKS of `ENV`.
pub struct TestIssuer {
    pub issuer: String,
    pub jwks_uri: String,
    state: Arc<IssuerState>,
}

impl TestIssuer {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding");
        let addr = listener.local_addr().expect("address");
        let issuer = format!("http://{addr}/sdk/v1/{ENV}");
        let state = Arc::new(IssuerState {
            issuer: issuer.clone(),
            keys: Mutex::new(vec![]),
            jwks_requests: AtomicUsize::new(0),
            failing: AtomicBool::new(false),
            hold: Arc::new(tokio::sync::RwLock::new(())),
        });
        let prefix = format!("/sdk/v1/{ENV}/.well-known");
        let app = Router::new()
            .route(&format!("{prefix}/jwks.json"), get(jwks))
            .route(&format!("{prefix}/openid-configuration"), get(discovery))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        TestIssuer {
            jwks_uri: format!("{issuer}/.well-known/jwks.json"),
            issuer,
            state,
        }
    }

    pub fn publish(&self, key: &TestKey) {
        self.state.keys.lock().expect("keys").push(key.jwk.clone());
    }

    pub fn unpublish(&self, kid: &str) {
        let mut keys = self.state.keys.lock().expect("keys");
        keys.retain(|k| k.common.key_id.as_deref() != Some(kid));
    }

    pub fn jwks_requests(&self) -> usize {
        self.state.jwks_requests.load(Ordering::SeqCst)
    }

    pub fn set_failing(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }

    /// JWKS answers wait while the guard lives.
    pub async fn hold_jwks(&self) -> tokio::sync::OwnedRwLockWriteGuard<()> {
        self.state.hold.clone().write_owned().await
    }

    pub fn options(&self, clock: &TestClock) -> VerifierOptions {
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("HTTP client");
        VerifierOptions::default()
            .clock(clock.reader())
            .http_client(http)
    }

    pub fn verifier(&self, clock: &TestClock) -> Verifier {
        self.verifier_with(self.options(clock))
    }

    pub fn verifier_with(&self, options: VerifierOptions) -> Verifier {
        Verifier::new(&self.jwks_uri, &self.issuer, ENV, options).expect("verifier")
    }

    /// The claims of a complete session issued at `now_s`, for 2 hours.
    pub fn session_claims(&self, now_s: i64) -> Value {
        json!({
            "iss": self.issuer,
            "sub": "usr_1",
            "aud": ENV,
            "sid": "ses_1",
            "environment_id": ENV,
            "iat": now_s,
            "nbf": now_s,
            "exp": now_s + 7200,
            "jti": "jti_1",
            "scope": "user:basic",
            "amr": ["otp"],
            "email": "a@example.com",
            "env_epoch": 0,
            "user_epoch": 0,
        })
    }

    /// An elevated token's claims for `scope`, of the session above.
    pub fn elevated_claims(&self, now_s: i64, scope: &str) -> Value {
        let mut claims = self.session_claims(now_s);
        claims["scope"] = scope.into();
        claims["exp"] = (now_s + 300).into();
        claims["jti"] = "jti_elevated".into();
        claims["amr"] = json!(["mfa", "otp"]);
        claims
    }
}

async fn jwks(State(state): State<Arc<IssuerState>>) -> Response {
    state.jwks_requests.fetch_add(1, Ordering::SeqCst);
    let _held = state.hold.read().await;
    if state.failing.load(Ordering::SeqCst) {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let keys = state.keys.lock().expect("keys").clone();
    Json(json!({ "keys": keys })).into_response()
}

async fn discovery(State(state): State<Arc<IssuerState>>) -> Json<Value> {
    Json(json!({
        "issuer": state.issuer,
        "jwks_uri": format!("{}/.well-known/jwks.json", state.issuer),
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
    }))
}
