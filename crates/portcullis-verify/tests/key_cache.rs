//! The JWKS cache: discovery, rotation, the refresh limit against floods of
//! made-up `kid`s, one fetch for concurrent misses, and keys unreachable.

mod support;

use std::time::Duration;

use jsonwebtoken::Algorithm;
use portcullis_verify::{InvalidReason, SetupError, Verifier, VerifyError};
use support::{ENV, TestClock, TestIssuer, TestKey};

#[tokio::test]
async fn discovery_finds_the_jwks() {
    let issuer = TestIssuer::start().await;
    let clock = TestClock::new();
    let key = TestKey::generate(Algorithm::ES256, "key_1");
    issuer.publish(&key);
    let verifier = Verifier::discover(&format!("{}/", issuer.issuer), ENV, issuer.options(&clock))
        .await
        .expect("discovery");
    assert_eq!(verifier.jwks_uri(), issuer.jwks_uri);
    assert_eq!(verifier.issuer(), issuer.issuer);
    let token = key.session(&issuer.session_claims(clock.now_s()));
    assert!(verifier.verify_session(&token).await.is_ok());

    let wrong = Verifier::discover(
        &issuer.issuer.replace(ENV, "env_other"),
        "env_other",
        issuer.options(&clock),
    )
    .await;
    assert!(
        matches!(wrong, Err(SetupError::Discovery { .. })),
        "{wrong:?}"
    );
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_on_first_sight() {
    let issuer = TestIssuer::start().await;
    let clock = TestClock::new();
    let old = TestKey::generate(Algorithm::RS256, "key_old");
    issuer.publish(&old);
    let verifier = issuer.verifier(&clock);
    let token = old.session(&issuer.session_claims(clock.now_s()));
    assert!(verifier.verify_session(&token).await.is_ok());
    assert_eq!(issuer.jwks_requests(), 1);

    clock.advance(120);
    let new = TestKey::generate(Algorithm::EdDSA, "key_new");
    issuer.publish(&new);
    let token = new.session(&issuer.session_claims(clock.now_s()));
    let claims = verifier.verify_session(&token).await.expect("new key");
    assert_eq!(claims.sub, "usr_1");
    assert_eq!(issuer.jwks_requests(), 2);
    // Both keys stay known without another request.
    let old_token = old.session(&issuer.session_claims(clock.now_s()));
    assert!(verifier.verify_session(&old_token).await.is_ok());
    assert_eq!(issuer.jwks_requests(), 2);
}

#[tokio::test]
async fn made_up_kids_cause_at_most_one_fetch_per_interval() {
    let issuer = TestIssuer::start().await;
    let clock = TestClock::new();
    let key = TestKey::generate(Algorithm::ES256, "key_real");
    issuer.publish(&key);
    let verifier = issuer.verifier(&clock);
    assert!(
        verifier
            .verify_session(&key.session(&issuer.session_claims(clock.now_s())))
            .await
            .is_ok()
    );
    assert_eq!(issuer.jwks_requests(), 1);

    let forger_key = TestKey::generate(Algorithm::ES256, "unpublished");
    let flood = |round: usize| {
        let claims = issuer.session_claims(clock.now_s());
        (0..1000)
            .map(|i| {
                let mut header = jsonwebtoken::Header::new(Algorithm::ES256);
                header.kid = Some(format!("made_up_{round}_{i}"));
                header.typ = Some("JWT".into());
                jsonwebtoken::encode(&header, &claims, &forger_key.encoding).expect("signing")
            })
            .collect::<Vec<_>>()
    };
    // Within the interval of the first fetch: none.
    for token in flood(0) {
        let error = verifier.verify_session(&token).await.unwrap_err();
        assert_eq!(error, VerifyError::InvalidToken(InvalidReason::UnknownKey));
    }
    assert_eq!(issuer.jwks_requests(), 1);
    // The interval (30 s) has passed: one fetch for the next thousand.
    clock.advance(30);
    for token in flood(1) {
        assert!(verifier.verify_session(&token).await.is_err());
    }
    assert_eq!(issuer.jwks_requests(), 2);
    clock.advance(29);
    for token in flood(2) {
        assert!(verifier.verify_session(&token).await.is_err());
    }
    assert_eq!(issuer.jwks_requests(), 2);
    clock.advance(1);
    for token in flood(3) {
        assert!(verifier.verify_session(&token).await.is_err());
    }
    assert_eq!(issuer.jwks_requests(), 3);
    // The real key was never lost.
    let token = key.session(&issuer.session_claims(clock.now_s()));
    assert!(verifier.verify_session(&token).await.is_ok());
    assert_eq!(issuer.jwks_requests(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_share_one_fetch() {
    let issuer = TestIssuer::start().await;
    let clock = TestClock::new();
    let key = TestKey::generate(Algorithm::EdDSA, "key_1");
    issuer.publish(&key);
    // No interval at all: only the sharing keeps this to one request.
    let verifier =
        issuer.verifier_with(issuer.options(&clock).min_refresh_interval(Duration::ZERO));
    let token = key.session(&issuer.session_claims(clock.now_s()));
    let held = issuer.hold_jwks().await;
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (verifier, token) = (verifier.clone(), token.clone());
            tokio::spawn(async move { verifier.verify_session(&token).await })
        })
        .collect();
    let first_request = async {
        while issuer.jwks_requests() == 0 {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), first_request)
        .await
        .expect("the first fetch reaches the server");
    for _ in 0..200 {
        tokio::task::yield_now().await;
    }
    drop(held);
    for task in tasks {
        assert!(task.await.expect("task").is_ok());
    }
    assert_eq!(issuer.jwks_requests(), 1);
}

#[tokio::test]
async fn keys_out_of_reach_are_unavailable_not_invalid() {
    let issuer = TestIssuer::start().await;
    let clock = TestClock::new();
    let key = TestKey::generate(Algorithm::RS256, "key_1");
    issuer.publish(&key);
    issuer.set_failing(true);
    let verifier = issuer.verifier(&clock);
    let token = key.session(&issuer.session_claims(clock.now_s()));
    assert_eq!(
        verifier.verify_session(&token).await,
        Err(VerifyError::Unavailable)
    );
    assert_eq!(verifier.refresh_keys().await, Err(VerifyError::Unavailable));
    assert_eq!(
        issuer.jwks_requests(),
        1,
        "a failure also waits the interval"
    );

    issuer.set_failing(false);
    clock.advance(30);
    assert!(verifier.verify_session(&token).await.is_ok());
    assert_eq!(issuer.jwks_requests(), 2);

    // Keys already fetched stay in use while the server is down.
    issuer.set_failing(true);
    clock.advance(3600);
    let token = key.session(&issuer.session_claims(clock.now_s()));
    assert!(verifier.verify_session(&token).await.is_ok());
    assert_eq!(issuer.jwks_requests(), 3);
}

#[tokio::test]
async fn a_key_no_longer_published_stops_verifying_after_max_key_age() {
    let issuer = TestIssuer::start().await;
    let clock = TestClock::new();
    let kept = TestKey::generate(Algorithm::ES256, "key_kept");
    let dropped = TestKey::generate(Algorithm::ES256, "key_dropped");
    issuer.publish(&kept);
    issuer.publish(&dropped);
    let verifier = issuer.verifier(&clock);
    let token = dropped.session(&issuer.session_claims(clock.now_s()));
    assert!(verifier.verify_session(&token).await.is_ok());
    issuer.unpublish(&dropped.kid);
    clock.advance(599);
    assert!(verifier.verify_session(&token).await.is_ok());
    clock.advance(1);
    assert_eq!(
        verifier.verify_session(&token).await,
        Err(VerifyError::InvalidToken(InvalidReason::UnknownKey))
    );
    let token = kept.session(&issuer.session_claims(clock.now_s()));
    assert!(verifier.verify_session(&token).await.is_ok());
    assert_eq!(issuer.jwks_requests(), 2);
}
