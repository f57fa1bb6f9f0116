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
    // Past the address's limit, a fresh code's tries after the first are
    // refused, even with the right code.
    refused_right_code(&app, "target@example.com").await;
    // The first try of the next code is answered: it signs in.
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

/// Spends the address's attempts of the hour, and 5 minutes later (so
/// that the wait ends within the next code's ten minutes) tries a fresh
/// code: a wrong first try, refused with 429 (though answered: a right
/// one would have signed in), then the right code, refused with 429. The
/// verification, its code and the refusal of the right code.
async fn refused_right_code(app: &TestApp, email: &str) -> (String, String, Reply) {
    app.exhaust_address_attempts(&app.sandbox, email).await;
    app.advance(time::Duration::minutes(5));
    let (vid, code) = app.start_and_read_code(&app.sandbox, email).await;
    app.verify_email(&app.sandbox, &vid, wrong_code(&code))
        .await
        .assert_problem(429, "rate_limited");
    let refused = app.verify_email(&app.sandbox, &vid, &code).await;
    refused.assert_problem(429, "rate_limited");
    (vid, code, refused)
}

#[tokio::test]
async fn mails_to_one_address_are_capped_per_client_and_per_day() {
    let mut app = spawn_app_with(|c| c.rate_limits.enabled = true).await;
    let email = "inbox@example.com";
    // One client gets five codes a day for an address.
    for _ in 0..5 {
        start_when_allowed(&app, email).await;
    }
    let r = app.start_email(&app.sandbox, email).await;
    r.assert_problem(429, "rate_limited");
    assert!(
        r.retry_after() > 4 * 3600,
        "Retry-After {}",
        r.retry_after()
    );
    // Another gets the address's other five; then nobody gets one, for
    // about 2.4 hours (ten a day).
    app.client = client_at([127, 0, 0, 2]);
    for _ in 0..5 {
        start_when_allowed(&app, email).await;
    }
    app.client = client_at([127, 0, 0, 3]);
    app.advance(time::Duration::minutes(1));
    let r = app.start_email(&app.sandbox, email).await;
    r.assert_problem(429, "rate_limited");
    let retry = r.retry_after();
    assert!((7200..=8640).contains(&retry), "Retry-After {retry}");
    // Other addresses are not affected.
    app.start_email(&app.sandbox, "other@example.com")
        .await
        .assert_status(202);
    app.advance(time::Duration::seconds(retry));
    start_when_allowed(&app, email).await;
    app.start_email(&app.sandbox, email)
        .await
        .assert_problem(429, "rate_limited");
}

/// README, "Rate limits": whatever the clients, guesses at an address's
/// codes get at most 20 answers that depend on the code in any hour: 5 + 5
/// from the address's attempt limit, and one first try for each of at
/// most 10 codes. The attacker here takes a new client each minute (so
/// only the address's limits apply), asks for a code each minute and
/// guesses wrong on the newest until refused.
#[tokio::test]
async fn guesses_at_one_address_stay_within_the_documented_bound() {
    let mut app = spawn_app_with(|c| c.rate_limits.enabled = true).await;
    let email = "guessed@example.com";
    let (mut answered, mut codes) = (0, 0);
    // The newest code: verification, code, minute mailed, tries spent.
    let mut newest: Option<(String, String, u8, i64)> = None;
    for minute in 0..=60u8 {
        app.client = client_at([127, 0, 1, minute + 1]);
        let started = app.start_email(&app.sandbox, email).await;
        if started.status.as_u16() == 202 {
            let vid = started.body["verification_id"].as_str().unwrap();
            newest = Some((vid.to_string(), app.take_code(email).await, minute, 0));
            codes += 1;
        }
        if let Some((vid, right, mailed, tries)) = &mut newest {
            while *tries < 5 && minute - *mailed < 10 {
                *tries += 1;
                let guess = app.verify_email(&app.sandbox, vid, wrong_code(right)).await;
                match guess.status.as_u16() {
                    400 => answered += 1,
                    429 => {
                        answered += usize::from(*tries == 1);
                        break;
                    }
                    other => panic!("a wrong guess answered {other}: {}", guess.text),
                }
            }
        }
        app.advance(time::Duration::minutes(1));
    }
    assert_eq!(codes, 10, "the address's mails of the day");
    assert!(answered <= 20, "{answered} answered guesses in an hour");
}

/// Issue 14, item 4: a client that spends every limit it can reach on an
/// address, codes and wrong guesses, does not keep the address's owner, at
/// another client address, out of e-mail sign-in.
#[tokio::test]
async fn an_attacker_at_every_limit_does_not_keep_the_owner_out() {
    let mut app = spawn_app_with(|c| c.rate_limits.enabled = true).await;
    let email = "owner@example.com";
    app.client = client_at([127, 0, 0, 2]);
    let (answered, codes) = attack(&app, email).await;
    assert!(
        answered >= 5,
        "the attacker's guesses were answered: {answered}"
    );
    assert!(codes >= 2, "the attacker got codes: {codes}");
    // Asking on (refused) does not take the owner's turns.
    for _ in 0..5 {
        app.start_email(&app.sandbox, email).await;
    }

    app.client = client_at([127, 0, 0, 3]);
    let (vid, code) = start_when_allowed(&app, email).await;
    app.verify_email(&app.sandbox, &vid, &code)
        .await
        .assert_status(200);
}

/// Asks for codes for `email` and guesses wrong on each until refused,
/// waiting out refusals of a minute or less, until a longer refusal (or
/// more codes than any day allows). Returns the guesses whose answer
/// depended on the code (answered `invalid_code`, or a code's first try:
/// a right first try would have signed in) and the codes mailed.
async fn attack(app: &TestApp, email: &str) -> (usize, usize) {
    let (mut answered, mut codes) = (0, 0);
    while codes < 30 {
        let started = app.start_email(&app.sandbox, email).await;
        if started.status.as_u16() == 429 {
            let retry = started.retry_after();
            if retry > 60 {
                break;
            }
            app.advance(time::Duration::seconds(retry));
            continue;
        }
        let vid = started.assert_status(202)["verification_id"]
            .as_str()
            .expect("verification id")
            .to_string();
        let right = app.take_code(email).await;
        codes += 1;
        for try_number in 0..5 {
            let guess = app
                .verify_email(&app.sandbox, &vid, wrong_code(&right))
                .await;
            match guess.status.as_u16() {
                400 => answered += 1,
                429 => {
                    answered += usize::from(try_number == 0);
                    break;
                }
                other => panic!("a wrong guess answered {other}: {}", guess.text),
            }
        }
    }
    (answered, codes)
}

/// Starts a sign-in for `email`, waiting out a refusal of a minute or less
/// (a wait, not a lock-out), and reads the code.
async fn start_when_allowed(app: &TestApp, email: &str) -> (String, String) {
    for _ in 0..3 {
        let started = app.start_email(&app.sandbox, email).await;
        if started.status.as_u16() == 429 && started.retry_after() <= 60 {
            app.advance(time::Duration::seconds(started.retry_after()));
            continue;
        }
        let vid = started.assert_status(202)["verification_id"]
            .as_str()
            .expect("verification id")
            .to_string();
        return (vid, app.take_code(email).await);
    }
    panic!("{email} could not get a code");
}
