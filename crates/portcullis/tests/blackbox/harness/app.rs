//! A server under test: start, stop, restart, several nodes on one
//! database, and the tests' HTTP client.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use portcullis::Application;
use portcullis::clock::ManualClock;
use portcullis::config::Config;
use secrecy::ExposeSecret;

use super::storage::Storage;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub data_dir: PathBuf,
    pub organization_id: String,
    pub sandbox: String,
    pub live: String,
    pub api_token: String,
    pub storage: Arc<Storage>,
    /// The server's public URL (the issuer is derived from it), which a
    /// restart keeps.
    public_url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// `n` nodes on one PostgreSQL database, sharing one clock. The first
/// creates the tenant; every node knows its ids and owner token.
pub async fn spawn_nodes(n: usize) -> Vec<TestApp> {
    spawn_nodes_with(n, |_| {}).await
}

/// `spawn_nodes`, each node's configuration adjusted by `configure`.
pub async fn spawn_nodes_with(n: usize, configure: impl Fn(&mut Config)) -> Vec<TestApp> {
    let storage = Arc::new(Storage::cluster());
    let clock = Arc::new(ManualClock::starting_now());
    let mut nodes = vec![start(storage.clone(), clock.clone(), &configure).await];
    for _ in 1..n {
        let mut node = start(storage.clone(), clock.clone(), &configure).await;
        node.organization_id = nodes[0].organization_id.clone();
        node.sandbox = nodes[0].sandbox.clone();
        node.live = nodes[0].live.clone();
        node.api_token = nodes[0].api_token.clone();
        nodes.push(node);
    }
    nodes
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Rate limits are off unless the test turns them on.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let clock = Arc::new(ManualClock::starting_now());
    start(Arc::new(Storage::new()), clock, configure).await
}

/// Starts a node on existing storage (a restart, or a second node).
pub async fn start(
    storage: Arc<Storage>,
    clock: Arc<ManualClock>,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config = storage.config();
    configure(&mut config);
    let app = Application::build(config, clock.clone())
        .await
        .expect("the application starts");
    let base = app.url();
    let public_url = app.public_url().to_string();
    let created = app.created.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    let client = http_client(None);
    let (organization_id, sandbox, live, api_token) = match created {
        Some(c) => (
            c.organization_id,
            c.environments.sandbox,
            c.environments.live,
            c.api_token.expose_secret().to_owned(),
        ),
        None => Default::default(),
    };
    TestApp {
        base,
        client,
        clock,
        data_dir: storage.data_dir.clone(),
        organization_id,
        sandbox,
        live,
        api_token,
        storage,
        public_url,
        shutdown: Some(tx),
        server: Some(server),
    }
}

/// The tests' HTTP client; with `local`, its requests come from that
/// address (any of 127.0.0.0/8 reaches the server), so the server sees
/// another client IP: `app.client = client_at([127, 0, 0, 2])`.
pub fn client_at(local: [u8; 4]) -> reqwest::Client {
    http_client(Some(std::net::IpAddr::from(local)))
}

fn http_client(local: Option<std::net::IpAddr>) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .user_agent("portcullis-tests")
        .local_address(local)
        .build()
        .expect("client")
}

/// A server whose webhooks may reach the tests' receivers on 127.0.0.1
/// (`--allow-private-webhook-urls`).
pub async fn spawn_app_for_webhooks() -> TestApp {
    spawn_app_with(|c| c.allow_private_webhook_urls = true).await
}

impl TestApp {
    /// Stops the server gracefully (pending activity is written) and keeps
    /// its storage for a restart.
    /// The issuer of `env`'s tokens (`{public_url}/sdk/v1/{env}`).
    pub fn issuer(&self, env: &str) -> String {
        format!("{}/sdk/v1/{env}", self.public_url.trim_end_matches('/'))
    }

    pub async fn stop(mut self) -> Arc<Storage> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.storage.clone()
    }

    /// Stops the server and starts a new one on the same storage and clock,
    /// keeping the ids and token the test knows. The new server listens on
    /// a port of its own (port 0: rebinding the old one would race every
    /// other test for it between the stop and the start) under the old
    /// public URL, so the issuer (derived from it) stays the same, as it
    /// does for a deployment with a fixed public URL. `base` is its new
    /// address.
    pub async fn restart(self) -> TestApp {
        let (organization_id, sandbox, live, api_token, clock, public_url) = (
            self.organization_id.clone(),
            self.sandbox.clone(),
            self.live.clone(),
            self.api_token.clone(),
            self.clock.clone(),
            self.public_url.clone(),
        );
        let storage = self.stop().await;
        let mut again = start(storage, clock, |c| c.public_url = Some(public_url)).await;
        again.organization_id = organization_id;
        again.sandbox = sandbox;
        again.live = live;
        again.api_token = api_token;
        again
    }
}
