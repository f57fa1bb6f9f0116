//! Verifications per second on one core, with a warm key cache:
//! `Verifier::verify_session` against `jsonwebtoken::decode` alone on the
//! same token, for each algorithm the server signs with
//! (docs/benchmarks.md, "Issue 18").
//!
//! ```sh
//! cargo bench -p portcullis-verify --bench verify                 # 20,000 calls a round, 5 rounds
//! cargo bench -p portcullis-verify --bench verify -- --calls 5000 --rounds 3
//! ```
//!
//! One thread (a current-thread Tokio runtime), so "per second" is per
//! core. Every call is timed on its own (`Instant`, about 20 ns); the
//! rounds alternate between the two so that a change in the machine's load
//! falls on both. The keys come from a local JWKS server (the tests'), read
//! once before the first timed call.

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use portcullis_verify::{Claims, Verifier};
use support::{ENV, TestClock, TestIssuer, TestKey};

struct Args {
    calls: usize,
    rounds: usize,
}

fn args() -> Args {
    let mut parsed = Args {
        calls: 20_000,
        rounds: 5,
    };
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        let mut number = || given.next().and_then(|v| v.parse().ok());
        match arg.as_str() {
            "--calls" => parsed.calls = number().unwrap_or(parsed.calls),
            "--rounds" => parsed.rounds = number().unwrap_or(parsed.rounds),
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    parsed
}

/// Per-call times of one way of verifying.
#[derive(Default)]
struct Sample {
    nanos: Vec<u64>,
    total: Duration,
}

impl Sample {
    fn record(&mut self, calls: usize, mut call: impl FnMut()) {
        let started = Instant::now();
        for _ in 0..calls {
            let one = Instant::now();
            call();
            self.nanos
                .push(u64::try_from(one.elapsed().as_nanos()).unwrap_or(u64::MAX));
        }
        self.total += started.elapsed();
    }

    async fn record_async(&mut self, calls: usize, verifier: &Verifier, token: &str) {
        let started = Instant::now();
        for _ in 0..calls {
            let one = Instant::now();
            black_box(verifier.verify_session(black_box(token)).await.is_ok());
            self.nanos
                .push(u64::try_from(one.elapsed().as_nanos()).unwrap_or(u64::MAX));
        }
        self.total += started.elapsed();
    }

    fn summary(&mut self) -> (f64, f64, f64) {
        self.nanos.sort_unstable();
        let at = |p: f64| {
            let k = ((p / 100.0) * self.nanos.len() as f64).ceil() as usize;
            self.nanos[k.clamp(1, self.nanos.len()) - 1] as f64 / 1000.0
        };
        let per_second = self.nanos.len() as f64 / self.total.as_secs_f64();
        (per_second, at(50.0), at(99.0))
    }
}

fn main() {
    let args = args();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    println!(
        "{:<7} {:<26} {:>12} {:>10} {:>10}",
        "alg", "verifier", "calls/s", "p50 µs", "p99 µs"
    );
    for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
        runtime.block_on(compare(alg, &args));
    }
}

async fn compare(alg: Algorithm, args: &Args) {
    let issuer = TestIssuer::start().await;
    let clock = TestClock::new();
    let key = TestKey::generate(alg, "key_1");
    issuer.publish(&key);
    let verifier = issuer.verifier(&clock);
    verifier.refresh_keys().await.expect("the keys");
    let token = key.session(&issuer.session_claims(clock.now_s()));

    // The same token, the same key from the same JWK, the same claims type;
    // jsonwebtoken checks the signature, `exp`, `iss` and `aud` (the
    // library also checks `typ`, `nbf`, `environment_id`, the scope).
    let decoding = DecodingKey::from_jwk(&key.jwk).expect("a decoding key");
    let mut validation = Validation::new(alg);
    validation.set_audience(&[ENV]);
    validation.set_issuer(&[issuer.issuer.as_str()]);
    validation.leeway = 60;
    let plain = |token: &str| jsonwebtoken::decode::<Claims>(token, &decoding, &validation);
    assert!(plain(&token).is_ok(), "jsonwebtoken accepts the token");
    assert!(verifier.verify_session(&token).await.is_ok());

    let mut alone = Sample::default();
    let mut library = Sample::default();
    // Warm-up, not counted.
    Sample::default().record(args.calls / 10, || {
        black_box(plain(black_box(&token)).is_ok());
    });
    Sample::default()
        .record_async(args.calls / 10, &verifier, &token)
        .await;
    for _ in 0..args.rounds {
        alone.record(args.calls, || {
            black_box(plain(black_box(&token)).is_ok());
        });
        library.record_async(args.calls, &verifier, &token).await;
    }
    for (name, sample) in [
        ("jsonwebtoken::decode alone", &mut alone),
        ("Verifier::verify_session", &mut library),
    ] {
        let (per_second, p50, p99) = sample.summary();
        println!(
            "{:<7} {name:<26} {per_second:>12.0} {p50:>10.1} {p99:>10.1}",
            format!("{alg:?}")
        );
    }
}
