//! A crash between a change and its delivery loses nothing (issue 6,
//! point 6): the real binary is killed with SIGKILL while deliveries are
//! under way, restarted on the same data, and every event still arrives,
//! at least once, a repeat always with the same `webhook-id` and body.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::{Server, init_json, portcullis_on};
use crate::harness::Receiver;
use crate::harness::{Storage, eventually_within};

async fn serve(storage: &Storage) -> Server {
    Server::start(portcullis_on(storage).args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--allow-private-webhook-urls",
    ]))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_delivers_every_event_after_a_restart() {
    let storage = Storage::new();
    let init = init_json(&storage);
    let env = init["environments"]["sandbox"]
        .as_str()
        .unwrap()
        .to_string();
    let token = init["api_token"].as_str().unwrap().to_string();
    let receiver = Receiver::start().await;
    receiver.answer(503);
    let client = reqwest::Client::new();
    let mut server = serve(&storage).await;
    let api = |base: &str, path: &str| format!("{base}/api/v1/environments/{env}{path}");

    let r = client
        .post(api(&server.base, "/webhooks"))
        .bearer_auth(&token)
        .json(&json!({"url": receiver.url, "events": ["environment.origin.added"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    const ORIGINS: usize = 20;
    const BURST: usize = 10;
    let add_origins = |base: String, prefix: &'static str, n: usize| {
        let (client, url, token) = (client.clone(), api(&base, "/origins"), token.clone());
        async move {
            for i in 0..n {
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"origin": format!("https://{prefix}{i}.example.com")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 201);
            }
        }
    };
    add_origins(server.base.clone(), "app", ORIGINS).await;
    // A change that fails is rolled back and never delivered.
    let r = client
        .post(api(&server.base, "/origins"))
        .bearer_auth(&token)
        .json(&json!({"origin": "https://app0.example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);

    // Every first attempt fails (the endpoint is down), so every delivery
    // is pending, due again in seconds, when the server is killed.
    let first_round =
        eventually_within(Duration::from_secs(30), "every event is attempted", || {
            let received = receiver.received();
            async move {
                let ids: HashSet<String> = received.iter().map(|r| r.id().to_string()).collect();
                (ids.len() >= ORIGINS).then_some(received.len())
            }
        })
        .await;
    server.kill_hard();
    receiver.answer(200);
    let server = serve(&storage).await;

    // The restarted server delivers each one: at least once, a repeat with
    // the same webhook-id and body.
    let received = eventually_within(Duration::from_secs(90), "every event is delivered", || {
        let received = receiver.received();
        async move {
            let delivered: HashSet<String> = received[first_round..]
                .iter()
                .filter(|r| r.answered == 200)
                .map(|r| r.id().to_string())
                .collect();
            (delivered.len() >= ORIGINS).then_some(received)
        }
    })
    .await;
    let distinct: HashMap<String, Vec<Value>> =
        received.iter().fold(HashMap::new(), |mut by_id, r| {
            by_id
                .entry(r.id().to_string())
                .or_default()
                .push(r.body.clone());
            by_id
        });
    assert_eq!(
        distinct.len(),
        ORIGINS,
        "no event beyond the committed ones"
    );
    for (id, bodies) in &distinct {
        assert!(
            bodies.len() >= 2,
            "{id}: attempted before and after the crash"
        );
        assert!(
            bodies.iter().all(|b| b == &bodies[0]),
            "{id}: a repeat differs"
        );
        assert_eq!(bodies[0]["id"], id.as_str());
    }

    // Killed again right after a burst of changes, before their events
    // are dispatched or delivered: they arrive all the same.
    let mut server = server;
    add_origins(server.base.clone(), "burst", BURST).await;
    server.kill_hard();
    let server = serve(&storage).await;
    let received = eventually_within(Duration::from_secs(90), "the burst is delivered", || {
        let received = receiver.received();
        async move {
            let delivered: HashSet<String> = received
                .iter()
                .filter(|r| r.answered == 200)
                .map(|r| r.id().to_string())
                .collect();
            (delivered.len() >= ORIGINS + BURST).then_some(received)
        }
    })
    .await;
    let distinct: HashMap<String, Vec<Value>> =
        received.iter().fold(HashMap::new(), |mut by_id, r| {
            by_id
                .entry(r.id().to_string())
                .or_default()
                .push(r.body.clone());
            by_id
        });
    for (id, bodies) in &distinct {
        assert!(
            bodies.iter().all(|b| b == &bodies[0]),
            "{id}: a repeat differs"
        );
    }

    // The ids are exactly the audit log's.
    let log: Value = client
        .get(api(
            &server.base,
            "/events?type=environment.origin.added&limit=100",
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut logged: Vec<&str> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    logged.sort();
    let mut delivered: Vec<&str> = distinct.keys().map(String::as_str).collect();
    delivered.sort();
    assert_eq!(logged, delivered);
}

/// `PORTCULLIS_ALLOW_PRIVATE_WEBHOOK_URLS` as an operator sets it.
#[tokio::test]
async fn private_webhook_destinations_are_allowed_only_when_configured() {
    let storage = Storage::new();
    let init = init_json(&storage);
    let env = init["environments"]["sandbox"]
        .as_str()
        .unwrap()
        .to_string();
    let token = init["api_token"].as_str().unwrap().to_string();
    let client = reqwest::Client::new();
    for (value, status) in [(None, 400), (Some("false"), 400), (Some("true"), 201)] {
        let mut cmd = portcullis_on(&storage);
        cmd.args(["serve", "--listen", "127.0.0.1:0"]);
        if let Some(value) = value {
            cmd.env("PORTCULLIS_ALLOW_PRIVATE_WEBHOOK_URLS", value);
        }
        let server = Server::start(&mut cmd).await;
        let r = client
            .post(format!(
                "{}/api/v1/environments/{env}/webhooks",
                server.base
            ))
            .bearer_auth(&token)
            .json(&json!({"url": "http://127.0.0.1:9/hook"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{value:?}");
    }
}
