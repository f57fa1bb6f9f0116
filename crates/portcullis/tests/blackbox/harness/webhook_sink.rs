//! A real HTTP receiver for webhook deliveries: it records every request,
//! answers with the status the test sets (or holds its answers until the
//! test releases them), and checks signatures with the `standardwebhooks`
//! crate (an implementation Portcullis did not write).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

use super::app::TestApp;
use super::wait::eventually;

#[derive(Debug, Clone)]
pub struct Received {
    /// The status the receiver answered with.
    pub answered: u16,
    pub headers: HeaderMap,
    pub raw: Vec<u8>,
    pub body: Value,
}

impl Received {
    pub fn id(&self) -> &str {
        self.header("webhook-id")
    }

    pub fn timestamp(&self) -> i64 {
        self.header("webhook-timestamp")
            .parse()
            .expect("a numeric timestamp")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub fn kind(&self) -> &str {
        self.body["type"].as_str().unwrap_or_default()
    }

    /// Whether one of the `webhook-signature` values is the signature under
    /// `secret` (`whsec_…`), computed by `standardwebhooks`. The timestamp
    /// is the test clock's, so the crate's check against the wall clock is
    /// left out: the tests compare it with their clock themselves.
    pub fn signed_with(&self, secret: &str) -> bool {
        let hook = standardwebhooks::Webhook::new(secret).expect("a whsec_ secret");
        let expected = hook
            .sign(self.id(), self.timestamp(), &self.raw)
            .expect("a UTF-8 body");
        self.header("webhook-signature")
            .split(' ')
            .any(|s| s == expected)
    }
}

#[derive(Clone)]
struct Shared {
    received: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    /// Statuses to answer first, one a request, before `status`.
    in_turn: Arc<Mutex<std::collections::VecDeque<u16>>>,
    /// While true, requests are recorded but not answered.
    held: Arc<tokio::sync::watch::Sender<bool>>,
}

pub struct Receiver {
    pub url: String,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let parsed = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let next = shared
        .in_turn
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .pop_front();
    let answered = next.unwrap_or_else(|| shared.status.load(Ordering::SeqCst));
    let mut held = shared.held.subscribe();
    shared
        .received
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Received {
            answered,
            headers,
            raw: body.to_vec(),
            body: parsed,
        });
    let _ = held.wait_for(|held| !held).await;
    StatusCode::from_u16(answered).unwrap_or(StatusCode::OK)
}

impl Receiver {
    /// Listens on 127.0.0.1, port 0; answers 204 until told otherwise.
    pub async fn start() -> Receiver {
        Self::start_at("/hook").await
    }

    /// `start`, receiving POSTs at `path` (`url` is the server's and the
    /// path's).
    pub async fn start_at(path: &str) -> Receiver {
        let shared = Shared {
            received: Arc::default(),
            status: Arc::new(AtomicU16::new(204)),
            in_turn: Arc::default(),
            held: Arc::new(tokio::sync::watch::Sender::new(false)),
        };
        let app = axum::Router::new()
            .route(path, axum::routing::post(receive))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("the receiver listens");
        let url = format!("http://{}{path}", listener.local_addr().expect("address"));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url,
            shared,
            server,
        }
    }

    /// Answers the next requests with `statuses`, one each, then as
    /// before.
    pub fn answer_in_turn(&self, statuses: &[u16]) {
        self.shared
            .in_turn
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(statuses);
    }

    /// Answers every later delivery with `status`.
    pub fn answer(&self, status: u16) {
        self.shared.status.store(status, Ordering::SeqCst);
    }

    /// Records later deliveries but answers none of them (each waits,
    /// its status already chosen) until `release`.
    pub fn hold(&self) {
        self.shared.held.send_replace(true);
    }

    /// Sends the held answers, and answers at once from now on.
    pub fn release(&self) {
        self.shared.held.send_replace(false);
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared
            .received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Lets the delivery of one `kind` event go through all its 8 attempts
    /// (about 28 hours of the test clock), waiting for each.
    pub async fn wait_through_every_retry(&self, app: &TestApp, kind: &str) {
        for attempt in 1..=8 {
            self.wait_for(kind, attempt).await;
            app.advance(time::Duration::hours(13));
        }
    }

    /// Waits until `n` deliveries of `kind` have arrived; returns them.
    pub async fn wait_for(&self, kind: &str, n: usize) -> Vec<Received> {
        eventually(&format!("{n} deliveries of {kind}"), || {
            let of_kind: Vec<Received> = self
                .received()
                .into_iter()
                .filter(|r| r.kind() == kind)
                .collect();
            (of_kind.len() >= n).then_some(of_kind)
        })
        .await
    }
}
