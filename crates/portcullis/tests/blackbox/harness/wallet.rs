//! Wallets for the Sign-In with Ethereum tests: messages signed by Python's
//! eth-account (`tests/blackbox/wallet/sign.py`; the interpreter is
//! `PORTCULLIS_TEST_PYTHON`, default `python3`, which `scripts/test` points
//! at a virtual environment with eth-account 0.14.0), and a real JSON-RPC
//! server standing in for a chain's node, answering `eth_call` of
//! EIP-1271's `isValidSignature` for the calls a test declares valid.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

/// What eth-account made of a message.
#[derive(Debug, Clone)]
pub struct Signed {
    /// EIP-55.
    pub address: String,
    pub signature: String,
    /// The same signature with `s` mirrored (`n - s`) and `v` flipped.
    pub high_s: String,
    /// `isValidSignature(hash, signature)` call data, encoded by eth_abi.
    pub eip1271_call: String,
}

/// Signs `message` with the private key `key` (`0x` and 64 hex digits).
pub async fn eth_sign(key: &str, message: &str) -> Signed {
    let python = std::env::var("PORTCULLIS_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/blackbox/wallet/sign.py");
    let mut child = tokio::process::Command::new(&python)
        .arg(&script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{python} runs (PORTCULLIS_TEST_PYTHON): {e}"));
    let request = json!({ "key": key, "message": message }).to_string();
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(request.as_bytes())
        .await
        .expect("the request is written");
    drop(stdin);
    let output = child.wait_with_output().await.expect("sign.py ends");
    assert!(
        output.status.success(),
        "sign.py failed (is eth-account 0.14 installed for {python}?): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let v: Value = serde_json::from_slice(&output.stdout).expect("sign.py writes JSON");
    let field = |name: &str| v[name].as_str().expect(name).to_string();
    Signed {
        address: field("address"),
        signature: field("signature"),
        high_s: field("high_s"),
        eip1271_call: field("eip1271_call"),
    }
}

#[derive(Clone, Default)]
struct NodeState {
    /// `(to, data)` pairs `isValidSignature` answers the magic value for.
    valid: Arc<Mutex<HashSet<(String, String)>>>,
    calls: Arc<Mutex<Vec<Value>>>,
    down: Arc<AtomicBool>,
}

/// A chain's JSON-RPC node, on 127.0.0.1.
pub struct RpcNode {
    pub url: String,
    state: NodeState,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RpcNode {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn answer(
    State(state): State<NodeState>,
    Json(call): Json<Value>,
) -> (StatusCode, Json<Value>) {
    state
        .calls
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(call.clone());
    if state.down.load(Ordering::SeqCst) {
        return (StatusCode::BAD_GATEWAY, Json(json!({})));
    }
    let params = &call["params"][0];
    let key = (
        params["to"].as_str().unwrap_or_default().to_lowercase(),
        params["data"].as_str().unwrap_or_default().to_lowercase(),
    );
    let valid = state
        .valid
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains(&key);
    let result = if valid {
        format!("0x1626ba7e{}", "0".repeat(56))
    } else {
        format!("0x{}", "0".repeat(64))
    };
    (
        StatusCode::OK,
        Json(json!({"jsonrpc": "2.0", "id": call["id"], "result": result})),
    )
}

impl RpcNode {
    pub async fn start() -> RpcNode {
        let state = NodeState::default();
        let app = axum::Router::new()
            .route("/rpc", axum::routing::post(answer))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("the node listens");
        let url = format!("http://{}/rpc", listener.local_addr().expect("address"));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        RpcNode { url, state, server }
    }

    /// The contract at `to` will say the call `data` holds its signature.
    pub fn accept(&self, to: &str, data: &str) {
        self.state
            .valid
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((to.to_lowercase(), data.to_lowercase()));
    }

    /// Answers 502 from now on.
    pub fn go_down(&self) {
        self.state.down.store(true, Ordering::SeqCst);
    }

    pub fn calls(&self) -> Vec<Value> {
        self.state
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
