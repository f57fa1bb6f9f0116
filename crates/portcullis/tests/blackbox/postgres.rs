//! Throw-away PostgreSQL for the tests: the system's PostgreSQL (`initdb` +
//! `pg_ctl`), in a temporary directory, removed when the test ends. No
//! Docker, no root: as root, the server runs as the `postgres` user
//! (PostgreSQL refuses to run as root). A server listens only on a Unix
//! socket in its directory: a TCP port could be taken over by another
//! test's server after a restart here, and the nodes would then quietly
//! talk to the wrong database.
//!
//! A test gets a `PgDatabase`, a fresh database of its own. When the run
//! has one shared server (`PORTCULLIS_TEST_PG` names the directory of its
//! socket; `scripts/test` starts it for the PostgreSQL run and stops it at
//! the end), that is a new database on it (`CREATE DATABASE`), dropped when
//! the test ends: the same isolation for far less than a server start.
//! Without it, and for the tests that stop their server or lock its role
//! out (`PgDatabase::on_own_server`), it is the `postgres` database of a
//! `PgServer` of the test's own.
//!
//! `initdb` runs once per machine and PostgreSQL version into a template
//! directory under the system's temp dir; each own server starts from a
//! copy.
//!
//! This file stands alone (no use of the rest of the harness), so that
//! another test target can include it with `#[path]`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use tempfile::TempDir;

pub struct PgServer {
    dir: TempDir,
    bin: PathBuf,
    running: Mutex<bool>,
}

/// Where `initdb` and `pg_ctl` are: `PORTCULLIS_PG_BINDIR`, else the newest
/// `/usr/lib/postgresql/*/bin` (Debian), else `PATH`.
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PORTCULLIS_PG_BINDIR") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    let found = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match found {
        Some(path) => Path::new(&path)
            .parent()
            .expect("initdb has a directory")
            .to_path_buf(),
        None => panic!(
            "PostgreSQL is not installed: the PostgreSQL tests need initdb and pg_ctl \
             (Debian: apt-get install postgresql), or PORTCULLIS_PG_BINDIR"
        ),
    }
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Runs a PostgreSQL program, as `postgres` when we are root.
fn pg_command(bin: &Path, program: &str) -> Command {
    let path = bin.join(program);
    if running_as_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(path);
        cmd
    } else {
        Command::new(path)
    }
}

fn run(mut cmd: Command, what: &str) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Gives the directory to `postgres` when we are root.
fn hand_over(dir: &Path) {
    if running_as_root() {
        let mut cmd = Command::new("chown");
        cmd.args(["-R", "postgres:postgres"]).arg(dir);
        run(cmd, "chown");
    }
}

/// The initialized cluster every server copies, made once.
fn template(bin: &Path) -> PathBuf {
    let version = bin
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pg".into());
    let root = std::env::temp_dir().join(format!("portcullis-pg-template-{version}"));
    let ready = root.join("ready");
    if ready.exists() {
        return root.join("data");
    }
    // Several test processes may get here at once: each builds its own,
    // and the first to rename it into place wins.
    let building = std::env::temp_dir().join(format!(
        "portcullis-pg-template-{version}.{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&building);
    std::fs::create_dir_all(building.join("data")).expect("template dir");
    hand_over(&building);
    let mut initdb = pg_command(bin, "initdb");
    initdb.arg("-D").arg(building.join("data")).args([
        "-U",
        "postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
    ]);
    run(initdb, "initdb");
    std::fs::write(building.join("ready"), b"").expect("template marker");
    if std::fs::rename(&building, &root).is_err() {
        let _ = std::fs::remove_dir_all(&building);
    }
    assert!(ready.exists(), "the PostgreSQL template was not made");
    root.join("data")
}

/// The environment variable that names the run's shared server: the
/// directory of its Unix socket (trust authentication, user `postgres`).
pub const SHARED_SERVER: &str = "PORTCULLIS_TEST_PG";

impl PgServer {
    pub fn start() -> PgServer {
        let bin = bin_dir();
        let template = template(&bin);
        let dir = tempfile::Builder::new()
            .prefix("portcullis-pg-")
            .tempdir()
            .expect("temp dir");
        let mut copy = Command::new("cp");
        copy.arg("-a").arg(&template).arg(dir.path().join("data"));
        run(copy, "copying the PostgreSQL template");
        hand_over(dir.path());
        let server = PgServer {
            dir,
            bin,
            running: Mutex::new(false),
        };
        server.start_again();
        server
    }

    /// The URL of its `postgres` database, which the test's nodes share.
    pub fn url(&self) -> String {
        url(self.dir.path(), "postgres", "postgres")
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Starts the server (again), on the same port and data.
    pub fn start_again(&self) {
        let mut running = self.running.lock().expect("lock");
        if *running {
            return;
        }
        let mut pg_ctl = pg_command(&self.bin, "pg_ctl");
        pg_ctl
            .arg("start")
            .arg("-w")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .arg("-o")
            .arg(format!(
                "-c listen_addresses='' -c unix_socket_directories='{}' \
                 -c fsync=off -c full_page_writes=off \
                 -c shared_buffers=16MB -c max_connections=60",
                self.dir.path().display()
            ));
        let out = pg_ctl.output().expect("pg_ctl runs");
        assert!(
            out.status.success(),
            "PostgreSQL did not start: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
        );
        *running = true;
    }

    /// Stops it at once, as a crash would (`-m immediate`).
    pub fn stop(&self) {
        let mut running = self.running.lock().expect("lock");
        if !*running {
            return;
        }
        let mut pg_ctl = pg_command(&self.bin, "pg_ctl");
        pg_ctl
            .args(["stop", "-w", "-m", "immediate", "-D"])
            .arg(self.data());
        let _ = pg_ctl.output();
        *running = false;
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn url(socket_dir: &Path, user: &str, database: &str) -> String {
    format!(
        "postgres://{user}@localhost/{database}?host={}",
        socket_dir.display()
    )
}

/// A fresh database for one test: on the run's shared server, or the
/// `postgres` database of a server of its own.
pub struct PgDatabase {
    name: String,
    socket_dir: PathBuf,
    bin: PathBuf,
    /// `None` on the shared server, where the database is dropped at the end.
    own: Option<PgServer>,
}

impl PgDatabase {
    /// A new database on the run's shared server (`PORTCULLIS_TEST_PG`),
    /// or, without one, on a server of its own.
    pub fn fresh() -> PgDatabase {
        match std::env::var_os(SHARED_SERVER) {
            Some(dir) if !dir.is_empty() => PgDatabase::on_shared_server(PathBuf::from(dir)),
            _ => PgDatabase::on_own_server(),
        }
    }

    /// The `postgres` database of a new server of its own: for a test that
    /// stops its server, locks its role out or cuts every connection.
    pub fn on_own_server() -> PgDatabase {
        let server = PgServer::start();
        PgDatabase {
            name: "postgres".into(),
            socket_dir: server.dir.path().to_path_buf(),
            bin: server.bin.clone(),
            own: Some(server),
        }
    }

    fn on_shared_server(socket_dir: PathBuf) -> PgDatabase {
        let name = format!("t_{:016x}", getrandom::u64().expect("random bytes"));
        let bin = bin_dir();
        let mut createdb = pg_command(&bin, "createdb");
        createdb
            .arg("-h")
            .arg(&socket_dir)
            .args(["-U", "postgres", &name]);
        run(
            createdb,
            &format!(
                "createdb on the shared server ({SHARED_SERVER}={})",
                socket_dir.display()
            ),
        );
        PgDatabase {
            name,
            socket_dir,
            bin,
            own: None,
        }
    }

    /// The URL the test's nodes share.
    pub fn url(&self) -> String {
        url(&self.socket_dir, "postgres", &self.name)
    }

    /// The server of its own: what stopping or locking out needs, since on
    /// the shared server it would reach every other test.
    fn own_server(&self) -> &PgServer {
        self.own.as_ref().unwrap_or_else(|| {
            panic!(
                "this test stops or locks out its PostgreSQL server: it needs a server of \
                 its own (PgDatabase::on_own_server), not a database on the shared one"
            )
        })
    }

    /// Stops its server at once, as a crash would (`-m immediate`).
    pub fn stop(&self) {
        self.own_server().stop();
    }

    /// Starts its server again, on the same socket and data.
    pub fn start_again(&self) {
        self.own_server().start_again();
    }

    /// Runs one statement as the superuser, behind the nodes' backs.
    pub async fn execute(&self, statement: &str) -> u64 {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.url())
            .await
            .expect("connect to the test PostgreSQL");
        let done = sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
            .execute(&mut conn)
            .await
            .expect("statement runs");
        done.rows_affected()
    }

    /// Refuses the nodes' login (`ALTER ROLE postgres NOLOGIN`, as an
    /// operator locking the role out would) and cuts the connections they
    /// hold, so that their next ones are refused with SQLSTATE 28000; or,
    /// with `false`, lets them log in again. A second superuser does it,
    /// since the nodes' own role cannot log in to undo it. Roles belong to
    /// the server: only on a server of its own.
    pub async fn refuse_logins(&self, refuse: bool) {
        use sqlx::Connection;
        const WARDEN: &str = "portcullis_test_warden";
        self.own_server();
        if refuse {
            self.execute(&format!(
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{WARDEN}') \
                 THEN CREATE ROLE {WARDEN} SUPERUSER LOGIN; END IF; END $$"
            ))
            .await;
        }
        let mut conn = sqlx::PgConnection::connect(&url(&self.socket_dir, WARDEN, &self.name))
            .await
            .expect("connect to the test PostgreSQL as the warden");
        let login = if refuse { "NOLOGIN" } else { "LOGIN" };
        sqlx::query(sqlx::AssertSqlSafe(format!("ALTER ROLE postgres {login}")))
            .execute(&mut conn)
            .await
            .expect("ALTER ROLE runs");
        if refuse {
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE usename = 'postgres' AND pid <> pg_backend_pid()",
            )
            .execute(&mut conn)
            .await
            .expect("terminate the nodes' connections");
        }
    }

    /// Cuts every connection to this database that is waiting on `LISTEN`,
    /// as a network fault would; returns how many.
    pub async fn terminate_listeners(&self) -> u64 {
        let mut conn = {
            use sqlx::Connection;
            sqlx::PgConnection::connect(&self.url())
                .await
                .expect("connect to the test PostgreSQL")
        };
        let cut: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE query ILIKE 'LISTEN%' AND datname = current_database() \
             AND pid <> pg_backend_pid()) AS t",
        )
        .fetch_one(&mut conn)
        .await
        .expect("terminate listeners");
        cut as u64
    }

    /// Everything stored, as `pg_dump` writes it (bytea in hex).
    pub fn dump(&self) -> Vec<u8> {
        let mut pg_dump = pg_command(&self.bin, "pg_dump");
        pg_dump
            .arg("-h")
            .arg(&self.socket_dir)
            .args(["-U", "postgres", &self.name]);
        run(pg_dump, "pg_dump").stdout
    }
}

impl Drop for PgDatabase {
    /// On the shared server, drops the database (`--force` cuts the nodes'
    /// connections); a server of its own is stopped and removed.
    fn drop(&mut self) {
        if self.own.is_none() {
            let mut dropdb = pg_command(&self.bin, "dropdb");
            dropdb
                .arg("-h")
                .arg(&self.socket_dir)
                .args(["-U", "postgres", "--force", &self.name]);
            let _ = dropdb.output();
        }
    }
}
