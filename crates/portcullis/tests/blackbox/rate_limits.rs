//! Sign-in rate limits (point 10).

use crate::harness::*;

#[tokio::test]
async fn starts_are_limited_per_address_with_retry_after() {
    let app = spawn_app_with(|c| c.rate_limits.enabled = true).await;
    for _ in 0..3 {
        app.start_email(&app.sandbox, "ada@example.com")
            .await
            .assert_status(202);
    }
    let r = app.start_email(&app.sandbox, "ada@example.com").await;
    r.assert_problem(429, "rate_limited");
    let retry = r.retry_after();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    // Another address from the same client is still fine.
    app.start_email(&app.sandbox, "bob@example.com")
        .await
        .assert_status(202);
    app.advance(time::Duration::seconds(retry));
    app.start_email(&app.sandbox, "ada@example.com")
        .await
        .assert_status(202);
}

#[tokio::test]
async fn starts_are_limited_per_client_ip() {
    let app = spawn_app_with(|c| c.rate_limits.enabled = true).await;
    for i in 0..10 {
        app.start_email(&app.sandbox, &format!("u{i}@example.com"))
            .await
            .assert_status(202);
    }
    app.start_email(&app.sandbox, "u10@example.com")
        .await
        .assert_problem(429, "rate_limited");
    // The limit is per environment: the other one is unaffected.
    app.start_email(&app.live, "u10@example.com")
        .await
        .assert_status(202);
}

#[tokio::test]
async fn verify_attempts_are_limited_per_client_ip() {
    let app = spawn_app_with(|c| c.rate_limits.enabled = true).await;
    for _ in 0..30 {
        app.verify_email(&app.sandbox, "vrf_guess", "123456")
            .await
            .assert_problem(400, "invalid_code");
    }
    app.verify_email(&app.sandbox, "vrf_guess", "123456")
        .await
        .assert_problem(429, "rate_limited");
}

#[tokio::test]
async fn limits_can_be_turned_off() {
    let app = spawn_app_with(|c| c.rate_limits.enabled = false).await;
    for _ in 0..20 {
        app.start_email(&app.sandbox, "ada@example.com")
            .await
            .assert_status(202);
    }
}

#[tokio::test]
async fn code_attempts_are_limited_per_address_across_codes() {
    let app = spawn_app_with(|c| c.rate_limits.enabled = true).await;
    // Even the right code of a fresh verification is refused now.
    refused_right_code(&app, "target@example.com").await;
    app.advance(time::Duration::minutes(10));
    let (vid, code) = app
        .start_and_read_code(&app.sandbox, "target@example.com")
        .await;
    app.verify_email(&app.sandbox, &vid, &code)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_right_code_refused_by_the_address_limit_works_after_the_wait() {
    let app = spawn_app_with(|c| c.rate_limits.enabled = true).await;
    let (vid, code, refused) = refused_right_code(&app, "wait@example.com").await;
    let retry = refused.retry_after();
    assert!((1..600).contains(&retry), "Retry-After {retry}");
    // Just before the wait is over, still refused (and one more attempt
    // of the code spent); then the same code signs in: it was not used up.
    app.advance(time::Duration::seconds(retry - 1));
    app.verify_email(&app.sandbox, &vid, &code)
        .await
        .assert_problem(429, "rate_limited");
    app.advance(time::Duration::seconds(1));
    app.verify_email(&app.sandbox, &vid, &code)
        .await
        .assert_status(200);
    // And it is used up now.
    app.verify_email(&app.sandbox, &vid, &code)
        .await
        .assert_problem(400, "invalid_code");
}

/// Spends the address's attempts of the hour, then tries the right code of
/// a fresh verification: refused with 429. The verification, its code and
/// the refusal.
async fn refused_right_code(app: &TestApp, email: &str) -> (String, String, Reply) {
    app.exhaust_address_attempts(&app.sandbox, email).await;
    let (vid, code) = app.start_and_read_code(&app.sandbox, email).await;
    let refused = app.verify_email(&app.sandbox, &vid, &code).await;
    refused.assert_problem(429, "rate_limited");
    (vid, code, refused)
}
