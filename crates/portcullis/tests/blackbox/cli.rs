//! The `portcullis` binary as an operator runs it (points 1–3), and the
//! rule that no secret reaches the log.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::harness::{Storage, eventually};

/// The binary with a cleared environment: only what the test sets reaches
/// it, so that a developer's `PORTCULLIS_*` settings or `RUST_LOG` cannot
/// change an outcome (`a_developers_environment_does_not_reach_the_binary`).
fn portcullis() -> Command {
    cleared(env!("CARGO_BIN_EXE_portcullis"))
}

/// A command with a cleared environment, for a program that runs the
/// binary (a shell setting a limit first).
pub(crate) fn cleared(program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear();
    cmd
}

/// The binary, pointed at the test's storage through the environment
/// (`PORTCULLIS_DATA_DIR`, and `PORTCULLIS_DATABASE_URL` with PostgreSQL).
pub(crate) fn portcullis_on(storage: &Storage) -> Command {
    let mut cmd = portcullis();
    cmd.env("PORTCULLIS_DATA_DIR", &storage.data_dir);
    if let Some(pg) = &storage.pg {
        cmd.env("PORTCULLIS_DATABASE_URL", pg.url());
    }
    cmd
}

pub(crate) fn init_json(storage: &Storage) -> Value {
    let out = portcullis_on(storage)
        .args(["init", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// A running `portcullis serve` whose log lines are collected.
pub(crate) struct Server {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    /// `http://` or, serving HTTPS, `https://` and its address.
    pub(crate) base: String,
    pub(crate) address: SocketAddr,
}

impl Server {
    pub(crate) async fn start(cmd: &mut Command) -> Server {
        let mut child = cmd
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let seen = log.clone();
        let field = |line: &str, name: &str| {
            let value = line.split(&format!(" {name}=")).nth(1)?;
            value.split_whitespace().next().map(String::from)
        };
        let (address, base) = eventually("the server logs its address", || {
            seen.lock().unwrap().iter().find_map(|l| {
                l.contains("portcullis is listening")
                    .then(|| Some((field(l, "address")?, field(l, "url")?)))
                    .flatten()
            })
        })
        .await;
        Server {
            child,
            log,
            base,
            address: address.parse().expect("a socket address"),
        }
    }

    pub(crate) fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Sends the process SIGHUP (as `kill -HUP` does).
    pub(crate) fn hang_up(&self) {
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -HUP failed");
    }
}

impl Server {
    /// Kills the process at once (SIGKILL): no graceful shutdown.
    pub(crate) fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn post_json(client: &reqwest::Client, url: &str, body: Value) -> Value {
    let response = client.post(url).json(&body).send().await.expect("sent");
    response.json().await.expect("a JSON answer")
}

#[test]
fn init_creates_once_then_adds_owner_tokens_with_the_same_ids() {
    let storage = Storage::new();
    let first = init_json(&storage);
    for key in ["organization_id", "project_id", "api_token"] {
        assert!(first[key].is_string(), "{key}");
    }
    assert!(
        first["environments"]["sandbox"]
            .as_str()
            .unwrap()
            .starts_with("env_")
    );
    assert!(
        first["environments"]["live"]
            .as_str()
            .unwrap()
            .starts_with("env_")
    );
    assert!(first["api_token"].as_str().unwrap().starts_with("pcl_"));
    let second = init_json(&storage);
    for key in ["organization_id", "project_id", "environments"] {
        assert_eq!(first[key], second[key], "{key}");
    }
    assert_ne!(first["api_token"], second["api_token"]);
    // Stored only as a hash.
    let bytes = storage.stored_bytes();
    let token = first["api_token"].as_str().unwrap().as_bytes();
    assert!(
        !bytes.windows(token.len()).any(|w| w == token),
        "the token is in the database"
    );
    let text = portcullis_on(&storage).arg("init").output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains(first["organization_id"].as_str().unwrap()));
    assert!(text.contains("pcl_"));
}

#[test]
fn bad_configuration_exits_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("portcullis.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\nlisten_port = 9\n").unwrap();
    type Case<'a> = (Vec<String>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["--config".into(), config.display().to_string()],
            vec![],
            "listen_port",
        ),
        (
            vec!["--listen".into(), "not-an-address".into()],
            vec![],
            "listen",
        ),
        (vec![], vec![("PORTCULLIS_LISTEN", "nowhere")], "listen"),
        (
            vec!["--public-url".into(), "ftp://x".into()],
            vec![],
            "public_url",
        ),
        (
            vec!["--database-url".into(), "mysql://x".into()],
            vec![],
            "database_url",
        ),
        (
            vec!["--config".into(), "/no/such/file.toml".into()],
            vec![],
            "/no/such/file.toml",
        ),
    ];
    for (args, env, expected) in cases {
        let out = portcullis()
            .arg("serve")
            .arg("--data-dir")
            .arg(dir.path())
            .args(&args)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_wrong_master_key_stops_the_server_with_a_message() {
    let storage = Storage::new();
    init_json(&storage);
    let other = portcullis::crypto::MasterKey::generate()
        .unwrap()
        .to_base64();
    let out = portcullis_on(&storage)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("PORTCULLIS_MASTER_KEY", &other)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("master key does not match"), "{stderr}");
    assert!(!stderr.contains(&other));
}

#[tokio::test]
async fn serve_on_an_empty_dir_initializes_once_and_logs_no_secret() {
    let storage = Storage::new();
    let dir = &storage.data_dir;
    let mut cmd = portcullis_on(&storage);
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "debug");
    let server = Server::start(&mut cmd).await;
    let log = server.log_text();
    assert!(log.contains("initialized a new data directory"), "{log}");
    let token_file = dir.join("owner-token");
    let api_token = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_string();
    assert!(api_token.starts_with("pcl_"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(dir.join("master.key"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    let ids = init_json(&storage);
    let env = ids["environments"]["sandbox"].as_str().unwrap().to_string();
    assert!(log.contains(&env) && log.contains(ids["organization_id"].as_str().unwrap()));

    // A whole sign-in against the real binary.
    let client = reqwest::Client::new();
    let started = post_json(
        &client,
        &format!("{}/sdk/v1/{env}/auth/email/start", server.base),
        json!({"email": "ada@example.com"}),
    )
    .await;
    let mail_dir = dir.join("mail");
    let code = eventually("the code is mailed", || {
        let entry = std::fs::read_dir(&mail_dir)
            .ok()?
            .flatten()
            .find(|e| e.path().extension().is_some_and(|x| x == "eml"))?;
        let text = std::fs::read_to_string(entry.path()).ok()?;
        crate::harness::code_in(&text)
    })
    .await;
    let verified = post_json(
        &client,
        &format!("{}/sdk/v1/{env}/auth/email/verify", server.base),
        json!({"verification_id": started["verification_id"], "code": code}),
    )
    .await;
    let jwt = verified["token"].as_str().expect("signed in").to_string();
    let status = client
        .get(format!("{}/api/v1/environments/{env}", server.base))
        .bearer_auth(&api_token)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);

    // A TOTP device and its recovery codes, on the real clock.
    let sdk = format!("{}/sdk/v1/{env}", server.base);
    let call = |path: &str, body: Value| {
        client
            .post(format!("{sdk}{path}"))
            .bearer_auth(&jwt)
            .json(&body)
    };
    let begun: Value = call("/mfa/totp", json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = begun["secret"].as_str().expect("a TOTP secret").to_string();
    // The binary runs on the wall clock.
    let now = portcullis::clock::Clock::now(&portcullis::clock::SystemClock).unix_timestamp();
    let totp = crate::mfa::totp_code(&secret, now);
    let confirmed: Value = call(
        &format!("/mfa/totp/{}/confirm", begun["device_id"].as_str().unwrap()),
        json!({ "code": totp }),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let recovery = confirmed["recovery_codes"][0]
        .as_str()
        .expect("recovery codes")
        .to_string();

    let log = server.log_text();
    let master_key = std::fs::read_to_string(dir.join("master.key")).unwrap();
    for (what, secret) in [
        ("code", code.as_str()),
        ("JWT", jwt.as_str()),
        ("API token", api_token.as_str()),
        ("master key", master_key.trim()),
        ("TOTP secret", secret.as_str()),
        ("TOTP code", totp.as_str()),
        ("recovery code", recovery.as_str()),
    ] {
        assert!(!log.contains(secret), "the {what} reached the log");
    }
    // The signature part alone must not leak either.
    assert!(!log.contains(jwt.rsplit('.').next().unwrap()));

    // A second start on the same directory does not initialize again.
    drop(server);
    let mut cmd = portcullis_on(&storage);
    cmd.args(["serve", "--listen", "127.0.0.1:0"]);
    let again = Server::start(&mut cmd).await;
    assert!(
        !again
            .log_text()
            .contains("initialized a new data directory")
    );
}

/// `portcullis <args> --json` on the storage: its answer, or its refusal.
pub(crate) fn operate(storage: &Storage, args: &[&str]) -> Result<Value, String> {
    let out = portcullis_on(storage)
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    match out.status.success() {
        true => Ok(serde_json::from_slice(&out.stdout).expect("JSON on stdout")),
        false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
    }
}

/// Issue 7, point 5: the operator's commands on a running server's
/// database take effect on the server.
#[tokio::test]
async fn the_operators_commands_work_on_a_running_servers_database() {
    let storage = Storage::new();
    let ids = init_json(&storage);
    let owner = ids["api_token"].as_str().unwrap().to_string();
    let sandbox = ids["environments"]["sandbox"].as_str().unwrap().to_string();
    let live = ids["environments"]["live"].as_str().unwrap().to_string();
    let mut cmd = portcullis_on(&storage);
    cmd.args(["serve", "--listen", "127.0.0.1:0"]);
    let server = Server::start(&mut cmd).await;
    let client = reqwest::Client::new();
    let status = |path: String, token: String| {
        let (client, base) = (client.clone(), server.base.clone());
        async move {
            client
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };

    // A token made at the command line works on the server at once.
    let created = operate(
        &storage,
        &[
            "token",
            "create",
            "--role",
            "viewer",
            "--environment",
            &sandbox,
        ],
    )
    .unwrap();
    let (id, secret) = (
        created["id"].as_str().unwrap().to_string(),
        created["secret"].as_str().unwrap().to_string(),
    );
    assert!(secret.starts_with("pcl_"));
    assert_eq!(
        status(format!("/api/v1/environments/{sandbox}"), secret.clone()).await,
        200
    );
    assert_eq!(
        status(format!("/api/v1/environments/{live}"), secret.clone()).await,
        403
    );
    let list = operate(&storage, &["token", "list"]).unwrap();
    let tokens = list["tokens"].as_array().unwrap();
    assert!(tokens.iter().any(|t| t["id"] == id.as_str()));
    assert!(!list.to_string().contains(&secret));
    operate(&storage, &["token", "revoke", &id]).unwrap();
    assert_eq!(
        status(format!("/api/v1/environments/{sandbox}"), secret.clone()).await,
        401
    );

    // A lock made at the command line reaches the running server.
    let jwks = format!("/sdk/v1/{sandbox}/.well-known/jwks.json");
    assert_eq!(status(jwks.clone(), String::new()).await, 200);
    let locked = operate(&storage, &["env", "lock", &sandbox]).unwrap();
    assert_eq!(locked["locked"], true);
    crate::harness::eventually_async("the server refuses the locked environment", || async {
        (status(jwks.clone(), String::new()).await == 423).then_some(())
    })
    .await;
    operate(&storage, &["env", "unlock", &sandbox]).unwrap();
    crate::harness::eventually_async("the server serves it again", || async {
        (status(jwks.clone(), String::new()).await == 200).then_some(())
    })
    .await;
    let events: Value = client
        .get(format!(
            "{}/api/v1/environments/{sandbox}/events?type=environment.locked",
            server.base
        ))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(events["events"][0]["actor"]["kind"], "cli");

    // Members.
    let members = operate(&storage, &["members", "list"]).unwrap();
    let owner_id = members["members"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(members["members"][0]["role"], "owner");
    let ada = operate(
        &storage,
        &["members", "add", "ada@example.com", "--role", "admin"],
    )
    .unwrap();
    assert_eq!(ada["role"], "admin");
    let refused = operate(
        &storage,
        &["members", "update", &owner_id, "--role", "viewer"],
    )
    .unwrap_err();
    assert!(refused.contains("transferring ownership"), "{refused}");
    let moved = operate(
        &storage,
        &[
            "members",
            "update",
            ada["id"].as_str().unwrap(),
            "--role",
            "owner",
        ],
    )
    .unwrap();
    assert_eq!(moved["role"], "owner");

    // Bad input: a clear refusal, a non-zero exit, nothing changed.
    let refused = operate(&storage, &["token", "create", "--role", "root"]).unwrap_err();
    assert!(
        refused.contains("role: must be owner, admin, developer or viewer"),
        "{refused}"
    );
    let refused = operate(&storage, &["env", "lock", "env_nope"]).unwrap_err();
    assert!(refused.contains("not found"), "{refused}");
    assert_eq!(status(jwks.clone(), String::new()).await, 200);
    assert_eq!(
        operate(&storage, &["token", "list"]).unwrap()["tokens"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(!server.log_text().contains(&secret));
}

/// What a developer's shell may hold, set to values that would change what
/// the binary does if they reached it (another database, a missing
/// configuration file, a master key that is not one, an owner address that
/// is not one, logs in another format or none at all):
/// `a_developers_environment_does_not_reach_the_binary` would fail.
const A_DEVELOPERS_ENVIRONMENT: [(&str, &str); 6] = [
    (
        "PORTCULLIS_DATABASE_URL",
        "postgres://nobody@127.0.0.1:9/nowhere",
    ),
    ("PORTCULLIS_CONFIG", "/nonexistent/portcullis.toml"),
    ("PORTCULLIS_MASTER_KEY", "not a master key"),
    ("PORTCULLIS_LOG_FORMAT", "json"),
    ("PORTCULLIS_OWNER_EMAIL", "not an address"),
    ("RUST_LOG", "off"),
];

/// The CLI tests start the binary with a cleared environment. This runs
/// one of them (`a_developers_environment_does_not_reach_the_binary`) in a
/// child process of the test binary whose environment holds
/// `A_DEVELOPERS_ENVIRONMENT`: without the clearing, the binary would see
/// those values and that test would fail (checked by removing it).
#[test]
fn the_binary_runs_with_a_cleared_environment() {
    let test = "cli::a_developers_environment_does_not_reach_the_binary";
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([test, "--exact", "--ignored", "--test-threads=1"])
        .envs(A_DEVELOPERS_ENVIRONMENT)
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{test} failed in a developer's environment:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 passed"), "{test} did not run:\n{stdout}");
}

/// `init` and `serve` through the tests' command (`portcullis_on`), as the
/// other CLI tests use it: run by `the_binary_runs_with_a_cleared_environment`
/// with `A_DEVELOPERS_ENVIRONMENT` set.
#[tokio::test]
#[ignore = "run by the_binary_runs_with_a_cleared_environment, in a developer's environment"]
async fn a_developers_environment_does_not_reach_the_binary() {
    let storage = Storage::new();
    let init = init_json(&storage);
    assert!(init["api_token"].is_string(), "{init}");
    // Waits for the plain-text "portcullis is listening" log line.
    let server =
        Server::start(portcullis_on(&storage).args(["serve", "--listen", "127.0.0.1:0"])).await;
    let health = reqwest::get(format!("{}/healthz", server.base))
        .await
        .expect("the server answers");
    assert_eq!(health.status().as_u16(), 200);
}
