//! The backend of the run and a test's storage: its data directory and,
//! with PostgreSQL, its database.

use std::path::PathBuf;
use std::sync::Arc;

use portcullis::config::Config;
use tempfile::TempDir;

use crate::postgres::PgDatabase;

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

/// A fresh database for one test: `None` means SQLite in the data dir;
/// with PostgreSQL, a new database on the run's shared server, if it has
/// one, else on a server of the test's own (`postgres.rs`).
pub fn fresh_database() -> Option<Arc<PgDatabase>> {
    match backend() {
        Backend::Sqlite => None,
        Backend::Postgres => Some(Arc::new(PgDatabase::fresh())),
    }
}

/// Where a test's data lives, and what a node needs to open it.
pub struct Storage {
    pub data_dir: PathBuf,
    pub pg: Option<Arc<PgDatabase>>,
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
    /// The database is on a server of the test's own: the cluster tests
    /// stop it, lock its role out and cut its connections.
    pub fn cluster() -> Storage {
        let key = portcullis::crypto::MasterKey::generate()
            .expect("a key")
            .to_base64();
        Storage {
            pg: Some(Arc::new(PgDatabase::on_own_server())),
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
            config.master_key = Some(master_key.clone().into());
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
