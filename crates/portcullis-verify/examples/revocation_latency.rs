//! How long a revocation takes to reach a verifier that follows the feed:
//! for each session, revoke it on one node (`--revoke-at`) and time from
//! that node's answer to the first `SessionRevoked` of a local
//! `Verifier` whose `RevocationFollower` keeps the stream of another node
//! (`--follow`) open. `scripts/bench-nodes --verifier` runs it on two
//! nodes of one PostgreSQL (docs/benchmarks.md, "Issue 18").
//!
//! ```sh
//! revocation_latency --revoke-at URL --follow URL --environment ENV \
//!   --issuer ISSUER --api-token-file FILE --sessions FILE
//! ```
//!
//! `--sessions`: one `SESSION_ID TOKEN` a line. The API token and the
//! tokens are read from files and never printed. After the answer the
//! token is verified once, then again each time the follower has heard
//! from the feed (`RevocationFollower::heard`), so a delay is the moment
//! the follower applied the news plus one verification (tens of µs).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use portcullis_verify::{
    FollowOptions, RevocationFollower, Verifier, VerifierOptions, VerifyError,
};

const GIVE_UP: Duration = Duration::from_secs(10);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = arguments()?;
    let arg = |name: &str| -> Result<&str, String> {
        args.get(name)
            .map(String::as_str)
            .ok_or_else(|| format!("--{name} is required"))
    };
    let (revoke_at, follow) = (arg("revoke-at")?, arg("follow")?);
    let (environment, issuer) = (arg("environment")?, arg("issuer")?);
    let api_token = std::fs::read_to_string(arg("api-token-file")?)?
        .trim()
        .to_string();
    let sessions: Vec<(String, String)> = std::fs::read_to_string(arg("sessions")?)?
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(sid, token)| (sid.to_string(), token.trim().to_string()))
        .collect();
    if sessions.is_empty() {
        return Err("--sessions names no session".into());
    }

    let follower =
        RevocationFollower::start(follow, environment, &api_token, FollowOptions::default())?;
    tokio::time::timeout(GIVE_UP, follower.synced())
        .await
        .map_err(|_| "the follower did not read the feed within 10 s")?;
    let verifier = Verifier::new(
        &format!("{follow}/sdk/v1/{environment}/.well-known/jwks.json"),
        issuer,
        environment,
        VerifierOptions::default().revocation(follower.clone()),
    )?;
    verifier.refresh_keys().await?;
    for (_, token) in &sessions {
        verifier.verify_session(token).await?;
    }

    let client = reqwest::Client::new();
    let mut news = follower.heard();
    let (mut delays, mut from_request, mut tries) = (vec![], vec![], vec![]);
    for (sid, token) in &sessions {
        let sent = Instant::now();
        let answer = client
            .post(format!(
                "{revoke_at}/api/v1/environments/{environment}/sessions/{sid}/revoke"
            ))
            .bearer_auth(&api_token)
            .send()
            .await?;
        let status = answer.status();
        answer.bytes().await?;
        let answered = Instant::now();
        if !status.is_success() {
            return Err(format!("the revocation answered {status}").into());
        }
        let mut count = 0u32;
        loop {
            count += 1;
            match verifier.verify_session(token).await {
                Err(VerifyError::SessionRevoked) => break,
                Ok(_) => {
                    // Until the follower hears something new.
                    let left = GIVE_UP.saturating_sub(answered.elapsed());
                    if tokio::time::timeout(left, news.changed()).await.is_err() {
                        return Err(format!("still accepted 10 s after revocation {sid}").into());
                    }
                }
                Err(other) => return Err(format!("verification failed: {other}").into()),
            }
        }
        let now = Instant::now();
        delays.push(now - answered);
        from_request.push(now - sent);
        tries.push(count);
    }

    delays.sort();
    from_request.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let n = delays.len();
    let at_once = tries.iter().filter(|&&c| c == 1).count();
    println!(
        "Revocation, node A's answer -> first refusal by a verifier following node B's stream"
    );
    println!("  revocations        {n}");
    for p in [50.0, 90.0, 99.0] {
        println!("  p{p:<17} {:.2} ms", ms(percentile(&delays, p)));
    }
    println!("  max                {:.2} ms", ms(delays[n - 1]));
    println!("  refused at the first try  {at_once} of {n}");
    println!(
        "From sending the revoke request: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(percentile(&from_request, 50.0)),
        ms(percentile(&from_request, 99.0)),
        ms(from_request[n - 1]),
    );
    Ok(())
}

/// Nearest rank.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let k = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[k.clamp(1, sorted.len()) - 1]
}

/// `--name value` pairs.
fn arguments() -> Result<HashMap<String, String>, String> {
    let mut found = HashMap::new();
    let mut given = std::env::args().skip(1);
    while let Some(name) = given.next() {
        let name = name
            .strip_prefix("--")
            .ok_or_else(|| format!("unexpected argument {name}"))?;
        let value = given
            .next()
            .ok_or_else(|| format!("--{name} needs a value"))?;
        found.insert(name.to_string(), value);
    }
    Ok(found)
}
