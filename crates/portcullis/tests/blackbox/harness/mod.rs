//! The one test harness: a real server (the same `Application` the binary
//! runs) on port 0, a temporary data directory, a fresh database, a clock
//! the test moves, and an HTTP client.
//!
//! The database is a SQLite file in the data directory, or, with
//! `PORTCULLIS_TEST_BACKEND=postgres`, a fresh PostgreSQL database for the
//! test (`postgres.rs`). `scripts/test` runs every test both ways.
//!
//! One file per concern; everything is re-exported here, so a test writes
//! `use crate::harness::*;`:
//! - `storage`: the run's backend, a test's data directory and database;
//! - `app`: `TestApp`, a server under test: start, stop, restart, nodes;
//! - `http`: requests and `Reply`;
//! - `sign_in`: e-mail sign-in and the mailed codes;
//! - `management`: the owner's management calls the tests repeat;
//! - `clock`, `jwt`: the test clock, and tokens read in assertions;
//! - `wait`: polling with a deadline;
//! - `mail_sink`, `webhook_sink`: a real SMTP server and a real webhook
//!   receiver that record what they get;
//! - `outage`: a forwarder in front of a server that the test cuts and
//!   restores, as if the server were gone and back, and a proxy that
//!   refuses the revocation stream;
//! - `wallet`: messages signed by Python's eth-account, and a chain's
//!   JSON-RPC node for contract wallets (EIP-1271);
//! - `tls`: a throw-away certificate authority, certificate files for a
//!   server's `--tls-cert`/`--tls-key`, and clients that trust only it.

mod app;
mod clock;
mod http;
mod jwt;
mod mail_sink;
mod management;
mod outage;
mod sign_in;
mod storage;
mod tls;
mod wait;
mod wallet;
mod webhook_sink;

pub use app::*;
pub use http::*;
pub use jwt::*;
pub use mail_sink::*;
pub use outage::*;
pub use sign_in::*;
pub use storage::*;
pub use tls::*;
pub use wait::*;
pub use wallet::*;
pub use webhook_sink::*;
