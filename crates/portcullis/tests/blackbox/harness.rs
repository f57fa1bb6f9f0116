//! The one test harness: a real server (the same `Application` the binary
//! runs) on port 0, a temporary data directory, a fresh database, a clock
//! the test moves, and an HTTP client.
//!
//! The database is a SQLite file in the data directory, or, with
//! `PORTCULLIS_TEST_BACKEND=postgres`, a throw-away PostgreSQL server for
//! the test (`postgres.rs`). `scripts/test` runs every test both ways.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use portcullis::Application;
use portcullis::clock::ManualClock;
use portcullis::config::Config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::postgres::PgServer;

/// The backend this run of the tests uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn backend() -> Backend {
    match std::env::var("PORTCULLIS_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("PORTCULLIS_TEST_BACKEND: sqlite or postgres, not {other}"),
    }
}

/// A fresh database for one test: `None` means SQLite in the data dir.
pub fn fresh_database() -> Option<Arc<PgServer>> {
    match backend() {
        Backend::Sqlite => None,
        Backend::Postgres => Some(Arc::new(PgServer::start())),
    }
}

/// Where a test's data lives, and what a node needs to open it.
pub struct Storage {
    pub data_dir: PathBuf,
    pub pg: Option<Arc<PgServer>>,
    /// For several nodes: the one public URL behind the load balancer (the
    /// issuer) and the master key they share through configuration.
    pub shared: Option<(String, String)>,
    _dir: Option<TempDir>,
}

impl Storage {
    pub fn new() -> Storage {
        let dir = tempfile::tempdir().expect("temp dir");
        Storage {
            data_dir: dir.path().to_path_buf(),
            pg: fresh_database(),
            shared: None,
            _dir: Some(dir),
        }
    }

    /// Storage for several nodes: always PostgreSQL, whatever the run's
    /// backend, with a shared public URL and master key. The nodes share
    /// the data directory too, only so that the test reads one mail dir.
    pub fn cluster() -> Storage {
        let key = portcullis::crypto::MasterKey::generate()
            .expect("a key")
            .to_base64();
        Storage {
            pg: Some(Arc::new(PgServer::start())),
            shared: Some(("http://portcullis.test".into(), key)),
            ..Storage::new_sqlite()
        }
    }

    fn new_sqlite() -> Storage {
        let dir = tempfile::tempdir().expect("temp dir");
        Storage {
            data_dir: dir.path().to_path_buf(),
            pg: None,
            shared: None,
            _dir: Some(dir),
        }
    }

    /// A node's configuration for this data: the data dir and, with
    /// PostgreSQL, its URL. Rate limits are off unless the test turns them on.
    pub fn config(&self) -> Config {
        let mut config = Config::for_data_dir(&self.data_dir);
        if let Some(pg) = &self.pg {
            config.database_url = pg.url();
        }
        if let Some((public_url, master_key)) = &self.shared {
            config.public_url = Some(public_url.clone());
            config.master_key = Some(master_key.clone());
        }
        config.rate_limits.enabled = false;
        config
    }

    /// Everything the database holds, as bytes to search for secrets: the
    /// SQLite files, or a `pg_dump` (which writes bytea in hex).
    pub fn stored_bytes(&self) -> Vec<u8> {
        match &self.pg {
            Some(pg) => pg.dump(),
            None => ["portcullis.db", "portcullis.db-wal"]
                .iter()
                .filter_map(|name| std::fs::read(self.data_dir.join(name)).ok())
                .flatten()
                .collect(),
        }
    }
}

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
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// Asserts a problem+json error with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(self.body["code"], code, "body: {}", self.text);
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        assert_eq!(self.body["status"], status);
    }

    /// The `Retry-After` header, in seconds.
    #[track_caller]
    pub fn retry_after(&self) -> i64 {
        self.headers["retry-after"]
            .to_str()
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no Retry-After in seconds: {:?}", self.headers))
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        &self.body
    }
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
    let base = format!("http://{}", app.local_addr());
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
            c.api_token,
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

/// A code that is not `right`.
pub fn wrong_code(right: &str) -> &'static str {
    if right == "000000" {
        "111111"
    } else {
        "000000"
    }
}

impl TestApp {
    /// Stops the server gracefully (pending activity is written) and keeps
    /// its storage for a restart.
    pub async fn stop(mut self) -> Arc<Storage> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.storage.clone()
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        read(req.send().await.expect("request sent")).await
    }

    pub async fn raw(&self, req: reqwest::RequestBuilder) -> Reply {
        read(req.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> Reply {
        self.request(Method::GET, path, bearer, None).await
    }

    pub async fn post(&self, path: &str, bearer: Option<&str>, body: Value) -> Reply {
        self.request(Method::POST, path, bearer, Some(body)).await
    }

    /// A management API call with the owner token.
    pub async fn api(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.request(
            method,
            &format!("/api/v1{path}"),
            Some(&self.api_token),
            body,
        )
        .await
    }

    /// A management API call with another token.
    pub async fn api_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        self.request(method, &format!("/api/v1{path}"), Some(token), body)
            .await
    }

    /// A new API token (created with the owner token) with `role`, limited
    /// to `env` when given: `(id, secret)`.
    pub async fn create_token(&self, role: &str, env: Option<&str>) -> (String, String) {
        let mut body = json!({ "note": format!("a {role} token for a test"), "role": role });
        if let Some(env) = env {
            body["environment_id"] = json!(env);
        }
        let reply = self.api(Method::POST, "/tokens", Some(body)).await;
        let created = reply.assert_status(201);
        (
            created["id"].as_str().unwrap().to_string(),
            created["secret"].as_str().unwrap().to_string(),
        )
    }

    /// A new API token (created with the owner token) with `role` that
    /// expires at `expires_at` (RFC 3339): `(id, secret)`.
    pub async fn create_expiring_token(&self, role: &str, expires_at: &str) -> (String, String) {
        let body = json!({ "note": format!("an expiring {role} token"), "role": role,
                           "expires_at": expires_at });
        let reply = self.api(Method::POST, "/tokens", Some(body)).await;
        let created = reply.assert_status(201);
        (
            created["id"].as_str().unwrap().to_string(),
            created["secret"].as_str().unwrap().to_string(),
        )
    }

    /// Locks (`true`) or unlocks an environment with the owner token.
    pub async fn set_locked(&self, env: &str, locked: bool) -> Reply {
        let action = if locked { "lock" } else { "unlock" };
        self.api(Method::POST, &format!("/environments/{env}/{action}"), None)
            .await
    }

    pub async fn start_email(&self, env: &str, email: &str) -> Reply {
        self.post(
            &format!("/sdk/v1/{env}/auth/email/start"),
            None,
            json!({ "email": email }),
        )
        .await
    }

    pub async fn verify_email(&self, env: &str, verification_id: &str, code: &str) -> Reply {
        self.post(
            &format!("/sdk/v1/{env}/auth/email/verify"),
            None,
            json!({ "verification_id": verification_id, "code": code }),
        )
        .await
    }

    /// Starts a sign-in and reads the mailed code: `(verification_id, code)`.
    pub async fn start_and_read_code(&self, env: &str, email: &str) -> (String, String) {
        let started = self.start_email(env, email).await;
        let vid = started.assert_status(202)["verification_id"]
            .as_str()
            .expect("verification id")
            .to_string();
        (vid, self.take_code(email).await)
    }

    /// Spends `times` attempts with a code that is not `right`, asserting
    /// each is refused as `invalid_code`.
    pub async fn spend_wrong_attempts(
        &self,
        env: &str,
        verification_id: &str,
        right: &str,
        times: usize,
    ) {
        let wrong = wrong_code(right);
        for _ in 0..times {
            self.verify_email(env, verification_id, wrong)
                .await
                .assert_problem(400, "invalid_code");
        }
    }

    /// Spends the five code attempts an hour the address limit allows (the
    /// default), five wrong ones on one code (a code takes five).
    pub async fn exhaust_address_attempts(&self, env: &str, email: &str) {
        let (vid, code) = self.start_and_read_code(env, email).await;
        self.spend_wrong_attempts(env, &vid, &code, 5).await;
    }

    /// `POST …/sessions/{id}/revoke` with the owner token.
    pub async fn revoke_session(&self, env: &str, session_id: &str) -> Reply {
        self.api(
            Method::POST,
            &format!("/environments/{env}/sessions/{session_id}/revoke"),
            None,
        )
        .await
    }

    /// `POST …/users/{id}/sessions/revoke` with the owner token.
    pub async fn revoke_user(&self, env: &str, user_id: &str) -> Reply {
        self.api(
            Method::POST,
            &format!("/environments/{env}/users/{user_id}/sessions/revoke"),
            None,
        )
        .await
    }

    /// `POST …/sessions/revoke` (the whole environment) with the owner token.
    pub async fn revoke_environment(&self, env: &str) -> Reply {
        self.api(
            Method::POST,
            &format!("/environments/{env}/sessions/revoke"),
            None,
        )
        .await
    }

    /// The newest code mailed to `email`, read from the development mail
    /// transport's `.eml` files (and removed, so the next read is fresh).
    pub async fn take_code(&self, email: &str) -> String {
        let dir = self.data_dir.join("mail");
        let needle = format!("To: {email}");
        eventually("a code arrives by mail", || {
            let entries = std::fs::read_dir(&dir).ok()?;
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().and_then(|e| e.to_str()) != Some("eml") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).ok()?;
                if text.lines().any(|l| l.eq_ignore_ascii_case(&needle)) {
                    let code = code_in(&text)?;
                    let _ = std::fs::remove_file(&path);
                    let _ = std::fs::remove_file(path.with_extension("json"));
                    return Some(code);
                }
            }
            None
        })
        .await
    }

    /// Signs in by e-mail code; returns the JWT and the whole auth result.
    pub async fn sign_in(&self, env: &str, email: &str) -> (String, Value) {
        let started = self.start_email(env, email).await;
        let vid = started.assert_status(202)["verification_id"]
            .as_str()
            .expect("verification id")
            .to_string();
        let code = self.take_code(email).await;
        let verified = self.verify_email(env, &vid, &code).await;
        let body = verified.assert_status(200).clone();
        (body["token"].as_str().expect("token").to_string(), body)
    }

    pub async fn session(&self, env: &str, token: &str) -> Reply {
        self.get(&format!("/sdk/v1/{env}/session"), Some(token))
            .await
    }

    pub fn advance(&self, by: time::Duration) {
        self.clock.advance(by);
    }

    /// Adds an allowed origin to `env` with the owner token.
    pub async fn add_origin(&self, env: &str, origin: &str) -> Reply {
        self.api(
            Method::POST,
            &format!("/environments/{env}/origins"),
            Some(json!({ "origin": origin })),
        )
        .await
    }

    /// A browser's CORS preflight for `method` on `path`.
    pub async fn preflight(&self, path: &str, origin: &str, method: &str) -> Reply {
        self.raw(
            self.client
                .request(Method::OPTIONS, format!("{}{path}", self.base))
                .header("origin", origin)
                .header("access-control-request-method", method)
                .header(
                    "access-control-request-headers",
                    "authorization, content-type",
                ),
        )
        .await
    }

    /// A request as a browser page on `origin` sends it.
    pub async fn browser_request(
        &self,
        method: Method,
        path: &str,
        origin: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("origin", origin);
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        self.raw(req).await
    }
}

/// A server whose webhooks may reach the tests' receivers on 127.0.0.1
/// (`--allow-private-webhook-urls`).
pub async fn spawn_app_for_webhooks() -> TestApp {
    spawn_app_with(|c| c.allow_private_webhook_urls = true).await
}

impl TestApp {
    /// Registers a webhook to `url` for `events` (empty: all); returns its
    /// id and secret.
    pub async fn create_webhook(&self, env: &str, url: &str, events: &[&str]) -> (String, String) {
        let r = self
            .api(
                Method::POST,
                &format!("/environments/{env}/webhooks"),
                Some(json!({ "url": url, "events": events })),
            )
            .await;
        let body = r.assert_status(201);
        (
            body["id"].as_str().expect("id").to_string(),
            body["secret"].as_str().expect("secret").to_string(),
        )
    }
}

impl Reply {
    /// A response header as text, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn read(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}

/// The 6-digit code in a sign-in mail.
pub fn code_in(mail_text: &str) -> Option<String> {
    let code: String = mail_text
        .split("code is ")
        .nth(1)?
        .chars()
        .take(6)
        .collect();
    (code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// Polls `probe` until it yields, or fails the test after a deadline.
pub async fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls an async `probe` until it yields, or fails the test after a
/// deadline.
pub async fn eventually_async<T, F, Fut>(what: &str, probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually_within(Duration::from_secs(10), what, probe).await
}

/// `eventually_async` with its own deadline, for conditions that take
/// seconds by design.
pub async fn eventually_within<T, F, Fut>(limit: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The claims of a JWT, decoded without verification (for assertions).
pub fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

pub fn header_of(token: &str) -> Value {
    use base64::Engine;
    let part = token.split('.').next().expect("three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON header")
}

impl TestApp {
    /// The controlled clock's "now" as the API prints it.
    pub fn clock_rfc3339(&self) -> String {
        use portcullis::clock::Clock;
        portcullis::clock::rfc3339(portcullis::clock::to_millis(self.clock.now()))
    }

    /// The controlled clock's "now" moved by `by`, as RFC 3339 in whole
    /// seconds (how a caller writes an expiry).
    pub fn rfc3339_in(&self, by: time::Duration) -> String {
        time::OffsetDateTime::from_unix_timestamp(self.clock_now_s() + by.whole_seconds())
            .expect("a time")
            .format(&time::format_description::well_known::Rfc3339)
            .expect("formats")
    }

    /// The test clock, in Unix seconds.
    pub fn clock_now_s(&self) -> i64 {
        use portcullis::clock::Clock;
        self.clock.now().unix_timestamp()
    }
}

impl TestApp {
    /// Stops the server and starts a new one on the same data directory and
    /// clock, keeping the ids and token the test knows.
    pub async fn restart(self) -> TestApp {
        let (organization_id, sandbox, live, api_token, clock) = (
            self.organization_id.clone(),
            self.sandbox.clone(),
            self.live.clone(),
            self.api_token.clone(),
            self.clock.clone(),
        );
        // The same address, so the issuer (derived from it) stays the same,
        // as it does for a deployment with a fixed public URL.
        let listen: std::net::SocketAddr = self
            .base
            .trim_start_matches("http://")
            .parse()
            .expect("address");
        let storage = self.stop().await;
        let mut again = start(storage, clock, |c| c.listen = listen).await;
        again.organization_id = organization_id;
        again.sandbox = sandbox;
        again.live = live;
        again.api_token = api_token;
        again
    }
}

/// A real SMTP server (mailin-embedded) on a free loopback port that keeps
/// every message it receives.
#[derive(Clone, Default)]
pub struct SmtpSink {
    received: Arc<std::sync::Mutex<Vec<ReceivedMail>>>,
    current: Option<ReceivedMail>,
    /// While set, every message is refused with 451 (a temporary failure).
    refusing: Arc<std::sync::atomic::AtomicBool>,
    /// Messages refused so far.
    refused: Arc<std::sync::atomic::AtomicUsize>,
}

#[derive(Clone, Debug, Default)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl mailin_embedded::Handler for SmtpSink {
    fn data_start(
        &mut self,
        _domain: &str,
        from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        use std::sync::atomic::Ordering;
        if self.refusing.load(Ordering::SeqCst) {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return mailin_embedded::response::INTERNAL_ERROR;
        }
        self.current = Some(ReceivedMail {
            from: from.to_string(),
            to: to.to_vec(),
            data: String::new(),
        });
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(mail) = self.current.as_mut() {
            mail.data.push_str(&String::from_utf8_lossy(buf));
        }
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        if let Some(mail) = self.current.take() {
            self.received
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(mail);
        }
        mailin_embedded::response::OK
    }
}

impl SmtpSink {
    /// Starts the server; returns the sink and its `smtp://` URL.
    pub fn start() -> (SmtpSink, String) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind SMTP");
        let url = format!("smtp://{}", listener.local_addr().expect("address"));
        let sink = SmtpSink::default();
        let mut server = mailin_embedded::Server::new(sink.clone());
        server
            .with_name("sink.test")
            .with_num_threads(2)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        (sink, url)
    }

    /// Refuses (`true`) or accepts every message from now on.
    pub fn refuse(&self, refusing: bool) {
        self.refusing
            .store(refusing, std::sync::atomic::Ordering::SeqCst);
    }

    /// How many messages were refused so far.
    pub fn refused(&self) -> usize {
        self.refused.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The newest message to `address`, waiting for it with a deadline.
    pub async fn wait_for(&self, address: &str) -> ReceivedMail {
        eventually("a message arrives over SMTP", || {
            self.messages()
                .into_iter()
                .rev()
                .find(|m| m.to.iter().any(|t| t == address))
        })
        .await
    }
}
