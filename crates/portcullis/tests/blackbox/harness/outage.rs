//! Faults on the line between a client and a server:
//! - `Outage`, a TCP forwarder the test can cut: while it is down, new
//!   connections are closed at once and open ones are cut, as if the
//!   server were gone, and it comes back on the same address (the address
//!   stays bound all along, so nothing else can take it);
//! - `NoStream`, an HTTP proxy that passes everything but the revocation
//!   stream, which it answers 404, as a proxy that cannot carry
//!   Server-Sent Events would.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State as Shared};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct Outage {
    /// `http://127.0.0.1:PORT`: the server, through the forwarder.
    pub base: String,
    state: Arc<Mutex<State>>,
    accept: JoinHandle<()>,
}

#[derive(Default)]
struct State {
    down: bool,
    open: Vec<JoinHandle<()>>,
}

impl Outage {
    /// A forwarder to the server at `base` (`http://host:port`).
    pub async fn start(base: &str) -> Outage {
        let target: SocketAddr = base
            .trim_start_matches("http://")
            .parse()
            .expect("a server address");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("its address");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut state = shared.lock().unwrap_or_else(|e| e.into_inner());
                if state.down {
                    continue; // dropped: closed at once
                }
                state.open.push(tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        Outage {
            base: format!("http://{address}"),
            state,
            accept,
        }
    }

    /// Cuts every connection, and refuses new ones until `restore`.
    pub fn cut(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.down = true;
        for task in state.open.drain(..) {
            task.abort();
        }
    }

    pub fn restore(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).down = false;
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// An HTTP proxy to a server that refuses `…/revocations/stream` (404)
/// and forwards every other request.
pub struct NoStream {
    /// `http://127.0.0.1:PORT`: the server, through the proxy.
    pub base: String,
    state: Arc<Forward>,
    serve: JoinHandle<()>,
}

struct Forward {
    target: String,
    client: reqwest::Client,
    refused: AtomicUsize,
}

impl NoStream {
    pub async fn start(target: &str) -> NoStream {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("its address");
        let state = Arc::new(Forward {
            target: target.trim_end_matches('/').to_string(),
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("an HTTP client"),
            refused: AtomicUsize::new(0),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(state.clone());
        let serve = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        NoStream {
            base: format!("http://{address}"),
            state,
            serve,
        }
    }

    /// How many requests for the stream it has refused.
    pub fn streams_refused(&self) -> usize {
        self.state.refused.load(Ordering::SeqCst)
    }
}

impl Drop for NoStream {
    fn drop(&mut self) {
        self.serve.abort();
    }
}

async fn forward(Shared(state): Shared<Arc<Forward>>, request: Request) -> Response {
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    if request.uri().path().ends_with("/revocations/stream") {
        state.refused.fetch_add(1, Ordering::SeqCst);
        return StatusCode::NOT_FOUND.into_response();
    }
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let mut outgoing = state
        .client
        .request(parts.method, format!("{}{path}", state.target))
        .body(body);
    for (name, value) in &parts.headers {
        if name != axum::http::header::HOST {
            outgoing = outgoing.header(name, value);
        }
    }
    let Ok(answer) = outgoing.send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let mut reply = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        // The body is passed whole: its framing is the proxy's own.
        if !matches!(
            name.as_str(),
            "transfer-encoding" | "connection" | "content-length"
        ) {
            reply = reply.header(name, value);
        }
    }
    let body = answer.bytes().await.unwrap_or_default();
    reply
        .body(Body::from(body))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}
