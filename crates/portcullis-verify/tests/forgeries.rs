//! Valid tokens pass with their claims; forged, misdirected, expired and
//! mistyped ones are refused with the server's codes.

mod support;

use std::sync::Arc;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use portcullis_verify::{Claims, InvalidReason, RevocationCheck, Stale, VerifyError};
use serde_json::json;
use support::{TestClock, TestIssuer, TestKey};

const INVALID: fn(InvalidReason) -> VerifyError = VerifyError::InvalidToken;

async fn rsa_setup() -> (TestIssuer, TestClock, TestKey) {
    let issuer = TestIssuer::start().await;
    let key = TestKey::generate(Algorithm::RS256, "key_rsa");
    issuer.publish(&key);
    (issuer, TestClock::new(), key)
}

#[tokio::test]
async fn valid_tokens_of_every_algorithm_pass_with_their_claims() {
    let issuer = TestIssuer::start().await;
    let clock = TestClock::new();
    let keys = [
        TestKey::generate(Algorithm::RS256, "key_rs"),
        TestKey::generate(Algorithm::ES256, "key_es"),
        TestKey::generate(Algorithm::EdDSA, "key_ed"),
    ];
    for key in &keys {
        issuer.publish(key);
    }
    let verifier = issuer.verifier(&clock);
    for key in &keys {
        let token = key.session(&issuer.session_claims(clock.now_s()));
        let claims = verifier
            .verify_session(&token)
            .await
            .unwrap_or_else(|e| panic!("{:?}: {e}", key.alg));
        assert_eq!(claims.sub, "usr_1");
        assert_eq!(claims.sid, "ses_1");
        assert_eq!(claims.environment_id, support::ENV);
        assert_eq!(claims.email.as_deref(), Some("a@example.com"));
        assert_eq!(claims.amr, ["otp"]);
        assert!(claims.has_scope("user:basic"));
        assert!(!claims.is_partial());
    }
    assert_eq!(issuer.jwks_requests(), 1, "one fetch serves every key");
}

#[tokio::test]
async fn alg_none_is_refused() {
    let (issuer, clock, key) = rsa_setup().await;
    let verifier = issuer.verifier(&clock);
    let claims = issuer.session_claims(clock.now_s());
    for alg in ["none", "None", "NONE"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": key.kid});
        let token = support::raw_token(&header, &claims, b"");
        let error = verifier.verify_session(&token).await.unwrap_err();
        assert_eq!(error, INVALID(InvalidReason::Malformed), "{alg}");
    }
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let (issuer, clock, key) = rsa_setup().await;
    let verifier = issuer.verifier(&clock);
    let claims = issuer.session_claims(clock.now_s());
    let jwk_json = serde_json::to_vec(&key.jwk).expect("JWK");
    for secret in [key.public_der.as_slice(), jwk_json.as_slice()] {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key.kid.clone());
        header.typ = Some("JWT".into());
        let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret))
            .expect("HS256");
        let error = verifier.verify_session(&token).await.unwrap_err();
        assert_eq!(error, INVALID(InvalidReason::AlgorithmMismatch));
    }
}

#[tokio::test]
async fn a_header_alg_other_than_the_keys_is_refused() {
    let (issuer, clock, rsa) = rsa_setup().await;
    let ec = TestKey::generate(Algorithm::ES256, "key_ec");
    issuer.publish(&ec);
    let verifier = issuer.verifier(&clock);
    // Signed by the RSA key, but naming the EC key.
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(ec.kid.clone());
    header.typ = Some("JWT".into());
    let claims = issuer.session_claims(clock.now_s());
    let token = jsonwebtoken::encode(&header, &claims, &rsa.encoding).expect("signing");
    let error = verifier.verify_session(&token).await.unwrap_err();
    assert_eq!(error, INVALID(InvalidReason::AlgorithmMismatch));
}

#[tokio::test]
async fn keys_of_another_jwks_are_refused() {
    let (issuer, clock, key) = rsa_setup().await;
    let verifier = issuer.verifier(&clock);
    let claims = issuer.session_claims(clock.now_s());
    let stranger = TestKey::generate(Algorithm::RS256, "key_elsewhere");
    let error = verifier
        .verify_session(&stranger.session(&claims))
        .await
        .unwrap_err();
    assert_eq!(error, INVALID(InvalidReason::UnknownKey));
    // Another key that claims the published key's id.
    let impostor = TestKey::generate(Algorithm::RS256, &key.kid);
    let error = verifier
        .verify_session(&impostor.session(&claims))
        .await
        .unwrap_err();
    assert_eq!(error, INVALID(InvalidReason::BadSignature));
    let mut no_kid = Header::new(Algorithm::RS256);
    no_kid.typ = Some("JWT".into());
    let token = jsonwebtoken::encode(&no_kid, &claims, &key.encoding).expect("signing");
    let error = verifier.verify_session(&token).await.unwrap_err();
    assert_eq!(error, INVALID(InvalidReason::UnknownKey));
}

#[tokio::test]
async fn wrong_issuer_audience_or_environment_is_refused() {
    let (issuer, clock, key) = rsa_setup().await;
    let verifier = issuer.verifier(&clock);
    let cases = [
        (
            "iss",
            "http://127.0.0.1:1/sdk/v1/env_test",
            InvalidReason::WrongIssuer,
        ),
        ("aud", "env_other", InvalidReason::WrongAudience),
        (
            "environment_id",
            "env_other",
            InvalidReason::WrongEnvironment,
        ),
    ];
    for (claim, value, reason) in cases {
        let mut claims = issuer.session_claims(clock.now_s());
        claims[claim] = value.into();
        let error = verifier
            .verify_session(&key.session(&claims))
            .await
            .unwrap_err();
        assert_eq!(error, INVALID(reason), "{claim}");
    }
}

#[tokio::test]
async fn expiry_and_nbf_respect_the_leeway() {
    let (issuer, clock, key) = rsa_setup().await;
    let verifier = issuer.verifier(&clock);
    let now = clock.now_s();
    let mut claims = issuer.session_claims(now - 7200);
    claims["exp"] = (now - 30).into();
    let within_leeway = key.session(&claims);
    assert!(verifier.verify_session(&within_leeway).await.is_ok());
    claims["exp"] = (now - 60).into();
    let expired = key.session(&claims);
    assert_eq!(
        verifier.verify_session(&expired).await,
        Err(VerifyError::TokenExpired)
    );
    // The same token that passed, once the clock moves on.
    clock.advance(31);
    assert_eq!(
        verifier.verify_session(&within_leeway).await,
        Err(VerifyError::TokenExpired)
    );

    let mut claims = issuer.session_claims(clock.now_s());
    claims["nbf"] = (clock.now_s() + 60).into();
    assert!(verifier.verify_session(&key.session(&claims)).await.is_ok());
    claims["nbf"] = (clock.now_s() + 61).into();
    assert_eq!(
        verifier.verify_session(&key.session(&claims)).await,
        Err(INVALID(InvalidReason::NotYetValid))
    );
}

#[tokio::test]
async fn a_tampered_payload_is_refused() {
    let (issuer, clock, key) = rsa_setup().await;
    let verifier = issuer.verifier(&clock);
    let claims = issuer.session_claims(clock.now_s());
    let token = key.session(&claims);
    let mut tampered = claims.clone();
    tampered["sub"] = "usr_admin".into();
    let error = verifier
        .verify_session(&support::with_payload(&token, &tampered))
        .await
        .unwrap_err();
    assert_eq!(error, INVALID(InvalidReason::BadSignature));
    for garbage in ["x", "a.b.c", "..", &format!("{token}.x")] {
        let error = verifier.verify_session(garbage).await.unwrap_err();
        assert_eq!(error, INVALID(InvalidReason::Malformed), "{garbage}");
    }
    assert_eq!(
        verifier.verify_session("").await,
        Err(VerifyError::MissingCredentials)
    );
}

#[tokio::test]
async fn session_and_elevated_tokens_are_not_interchangeable() {
    let (issuer, clock, key) = rsa_setup().await;
    let verifier = issuer.verifier(&clock);
    let now = clock.now_s();
    let elevated = key.elevated(&issuer.elevated_claims(now, "credential:link"));
    assert_eq!(
        verifier.verify_session(&elevated).await,
        Err(INVALID(InvalidReason::WrongType))
    );
    // Even with a session's scope, an elevated token is no session.
    let elevated_basic = key.elevated(&issuer.session_claims(now));
    assert_eq!(
        verifier.verify_partial_session(&elevated_basic).await,
        Err(INVALID(InvalidReason::WrongType))
    );
    let session = key.session(&issuer.session_claims(now));
    let mut as_elevated = issuer.session_claims(now);
    as_elevated["scope"] = "credential:link".into();
    for token in [session, key.session(&as_elevated)] {
        assert_eq!(
            verifier
                .verify_elevated(&token, "credential:link", None)
                .await,
            Err(VerifyError::ElevatedTokenRequired)
        );
    }
    let mut untyped = Header::new(Algorithm::RS256);
    untyped.kid = Some(key.kid.clone());
    untyped.typ = None;
    let token = jsonwebtoken::encode(&untyped, &issuer.session_claims(now), &key.encoding)
        .expect("signing");
    assert_eq!(
        verifier.verify_session(&token).await,
        Err(INVALID(InvalidReason::WrongType))
    );
}

#[tokio::test]
async fn elevated_tokens_are_of_one_scope_and_bound_to_their_session() {
    let (issuer, clock, key) = rsa_setup().await;
    let verifier = issuer.verifier(&clock);
    let now = clock.now_s();
    let session = verifier
        .verify_session(&key.session(&issuer.session_claims(now)))
        .await
        .expect("session");
    let token = key.elevated(&issuer.elevated_claims(now, "credential:link"));
    let elevated = verifier
        .verify_elevated(&token, "credential:link", Some(&session))
        .await
        .expect("elevated");
    assert_eq!(elevated.scope, "credential:link");
    assert!(
        verifier
            .verify_elevated(&token, "credential:link", None)
            .await
            .is_ok()
    );
    assert_eq!(
        verifier
            .verify_elevated(&token, "wallet:export", Some(&session))
            .await,
        Err(VerifyError::ElevatedTokenRequired)
    );
    let other_session = Claims {
        sid: "ses_2".into(),
        ..session.clone()
    };
    assert_eq!(
        verifier
            .verify_elevated(&token, "credential:link", Some(&other_session))
            .await,
        Err(VerifyError::ElevatedTokenRequired)
    );
    clock.advance(300 + 60);
    assert_eq!(
        verifier
            .verify_elevated(&token, "credential:link", Some(&session))
            .await,
        Err(VerifyError::ElevatedTokenRequired)
    );
}

#[tokio::test]
async fn a_partial_session_needs_the_callers_consent() {
    let (issuer, clock, key) = rsa_setup().await;
    let verifier = issuer.verifier(&clock);
    let mut claims = issuer.session_claims(clock.now_s());
    claims["scope"] = "requiresAdditionalAuth".into();
    let partial = key.session(&claims);
    assert_eq!(
        verifier.verify_session(&partial).await,
        Err(VerifyError::MfaRequired)
    );
    let claims_read = verifier
        .verify_partial_session(&partial)
        .await
        .expect("partial");
    assert!(claims_read.is_partial());
    let full = key.session(&issuer.session_claims(clock.now_s()));
    assert!(verifier.verify_partial_session(&full).await.is_ok());
    let mut no_scope = issuer.session_claims(clock.now_s());
    no_scope["scope"] = "credential:link".into();
    for result in [
        verifier.verify_session(&key.session(&no_scope)).await,
        verifier
            .verify_partial_session(&key.session(&no_scope))
            .await,
    ] {
        assert_eq!(result, Err(INVALID(InvalidReason::MissingScope)));
    }
}

/// The server's rule, over a fixed state.
struct Revoked {
    sessions: Vec<&'static str>,
    user_epoch: i64,
    env_epoch: i64,
    stale: bool,
}

impl RevocationCheck for Revoked {
    fn is_revoked(&self, claims: &Claims) -> Result<bool, Stale> {
        if self.stale {
            return Err(Stale);
        }
        Ok(self.sessions.contains(&claims.sid.as_str())
            || claims.user_epoch < self.user_epoch
            || claims.env_epoch < self.env_epoch)
    }
}

#[tokio::test]
async fn the_revocation_check_is_consulted() {
    let (issuer, clock, key) = rsa_setup().await;
    let token = key.session(&issuer.session_claims(clock.now_s()));
    let elevated = key.elevated(&issuer.elevated_claims(clock.now_s(), "wallet:sign"));
    let with =
        |check: Revoked| issuer.verifier_with(issuer.options(&clock).revocation(Arc::new(check)));
    let live = Revoked {
        sessions: vec!["ses_other"],
        user_epoch: 0,
        env_epoch: 0,
        stale: false,
    };
    assert!(with(live).verify_session(&token).await.is_ok());
    let cases = [
        Revoked {
            sessions: vec!["ses_1"],
            user_epoch: 0,
            env_epoch: 0,
            stale: false,
        },
        Revoked {
            sessions: vec![],
            user_epoch: 1,
            env_epoch: 0,
            stale: false,
        },
        Revoked {
            sessions: vec![],
            user_epoch: 0,
            env_epoch: 1,
            stale: false,
        },
    ];
    for check in cases {
        let verifier = with(check);
        assert_eq!(
            verifier.verify_session(&token).await,
            Err(VerifyError::SessionRevoked)
        );
        assert_eq!(
            verifier
                .verify_elevated(&elevated, "wallet:sign", None)
                .await,
            Err(VerifyError::ElevatedTokenRequired)
        );
    }
    let stale = with(Revoked {
        sessions: vec![],
        user_epoch: 0,
        env_epoch: 0,
        stale: true,
    });
    assert_eq!(
        stale.verify_session(&token).await,
        Err(VerifyError::Unavailable)
    );
    assert_eq!(
        stale.verify_elevated(&elevated, "wallet:sign", None).await,
        Err(VerifyError::Unavailable)
    );
}

#[tokio::test]
async fn messages_never_contain_the_token() {
    let (issuer, clock, key) = rsa_setup().await;
    let verifier = issuer.verifier(&clock);
    let mut claims = issuer.session_claims(clock.now_s());
    claims["aud"] = "env_other".into();
    let token = key.session(&claims);
    let error = verifier.verify_session(&token).await.unwrap_err();
    for text in [
        error.to_string(),
        format!("{error:?}"),
        error.detail().to_string(),
    ] {
        assert!(!text.contains(&token));
        assert!(!text.contains(token.split('.').nth(1).unwrap_or("-")));
    }
}
