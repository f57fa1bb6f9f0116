//! The store's storage rules, tested directly against `portcullis::store`
//! on the run's backend: SQLite (a file of the test's own) by default, and
//! PostgreSQL (a fresh database per test) with
//! `PORTCULLIS_TEST_BACKEND=postgres`, which `scripts/test` runs through
//! `scripts/with-test-postgres`. Every test body is the same on both; the
//! few that exercise a PostgreSQL-only path (`FOR UPDATE SKIP LOCKED`
//! against another transaction's row lock) return at once on SQLite, whose
//! single writer has no such path.

// The black-box tests' throw-away PostgreSQL; this suite uses only its
// fresh databases, not the stopping and locking out.
#[allow(dead_code)]
#[path = "../blackbox/postgres.rs"]
mod postgres;

mod fixtures;

mod constraints;
mod credentials;
mod leases;
mod member_access;
mod members;
mod outbox;
mod retention;
mod revocation;
mod sign_in;
mod single_use;
