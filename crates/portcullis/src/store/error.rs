//! What can go wrong in the store, and the one place ([`db`]) that
//! sorts a driver's errors into those kinds, for both backends.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A write broke a unique rule of the schema (which one, as far as it
    /// is one the services name; see [`Constraint`]).
    #[error("conflict with {0:?}")]
    Conflict(Constraint),
    #[error("database error: {0}")]
    Database(String),
    /// The database cannot serve this node right now: unreachable
    /// (connection refused or lost, I/O error, TLS failure, pool timed out
    /// or closed), refusing the node's login (PostgreSQL class 28), shutting
    /// down or not yet accepting connections, out of connections, a
    /// deadlock victim, or SQLite still busy after its busy timeout (another
    /// process holding the write lock). Worth a retry, not a bug: the HTTP
    /// layer answers 503 `unavailable` with `Retry-After`. [`db`] is the one
    /// place that decides what belongs here.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database refused a value given to it (PostgreSQL SQLSTATE class
    /// 22, e.g. a NUL character in text): the caller's input, not a fault.
    #[error("the database refused a value")]
    InvalidValue,
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("unsupported database URL: {0}")]
    UnsupportedUrl(String),
}

impl StoreError {
    /// This error passed on to another caller (the jobs of a SQLite batch
    /// whose transaction could not begin or commit): still `Unavailable`
    /// if it was, so that every one of them is a 503; otherwise a database
    /// error.
    pub(crate) fn passed_on(&self, context: &str) -> StoreError {
        match self {
            StoreError::Unavailable(why) => StoreError::Unavailable(format!("{context}: {why}")),
            other => StoreError::Database(format!("{context}: {other}")),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The unique rules of the schema that a client's request can break, by
/// what they guard; the services say what each means to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// `members (organization_id, email)`
    MemberEmail,
    /// `members_one_owner`: one owner per organization.
    OneOwner,
    /// `origins (environment_id, origin)`
    Origin,
    /// `one_confirmed_totp_per_user`
    OneTotpPerUser,
    /// `passkey_credential_ids (environment_id, credential_id)`
    PasskeyCredential,
    /// `verified_credentials_value (environment_id, kind, value)`: a
    /// credential another user holds.
    Credential,
    /// Any other unique rule (a primary key, a token hash).
    Other,
}

impl Constraint {
    /// The rule a unique violation names: PostgreSQL gives the
    /// constraint's name; SQLite only its columns, in its message
    /// ("UNIQUE constraint failed: members.organization_id, members.email").
    fn of(database: &dyn sqlx::error::DatabaseError) -> Constraint {
        let by_name = match database.constraint() {
            Some("members_organization_id_email_key") => Some(Constraint::MemberEmail),
            Some("members_one_owner") => Some(Constraint::OneOwner),
            Some("origins_environment_id_origin_key") => Some(Constraint::Origin),
            Some("one_confirmed_totp_per_user") => Some(Constraint::OneTotpPerUser),
            Some("passkey_credential_ids") => Some(Constraint::PasskeyCredential),
            Some("verified_credentials_value") => Some(Constraint::Credential),
            Some(_) => Some(Constraint::Other),
            None => None,
        };
        by_name.unwrap_or_else(|| {
            let message = database.message();
            let columns = message
                .strip_prefix("UNIQUE constraint failed: ")
                .unwrap_or_default();
            match columns {
                "members.organization_id, members.email" => Constraint::MemberEmail,
                "members.organization_id" => Constraint::OneOwner,
                "origins.environment_id, origins.origin" => Constraint::Origin,
                "mfa_devices.user_id" => Constraint::OneTotpPerUser,
                "mfa_devices.environment_id, mfa_devices.credential_id" => {
                    Constraint::PasskeyCredential
                }
                "verified_credentials.environment_id, verified_credentials.kind, verified_credentials.value" => {
                    Constraint::Credential
                }
                _ => Constraint::Other,
            }
        })
    }
}

/// Maps a driver error: unique violations become conflicts, refused
/// values the caller's mistake, and the database being out of reach
/// `Unavailable` (see there); anything else is a fault of ours.
pub(crate) fn db(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(Constraint::of(d.as_ref()))
        }
        sqlx::Error::Database(d) => {
            let code = d.code().unwrap_or_default();
            let sqlite = d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some();
            if sqlite && sqlite_busy(&code) || !sqlite && unavailable_sqlstate(&code) {
                StoreError::Unavailable(e.to_string())
            } else if !sqlite && code.starts_with("22") {
                StoreError::InvalidValue
            } else {
                StoreError::Database(e.to_string())
            }
        }
        sqlx::Error::RowNotFound => StoreError::NotFound,
        // `Protocol`: bytes from the server that make no sense, as when a
        // connection is cut mid-message; sqlx drops that connection, and a
        // retry gets a fresh one.
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Database(e.to_string()),
    }
}

/// PostgreSQL SQLSTATEs that say "not now" rather than "wrong": class 08
/// (connection exception), class 28 (invalid authorization: the role may
/// not log in, a changed password, `pg_hba.conf` refusing), admin and crash
/// shutdown, cannot connect now (starting up), too many connections, and a
/// deadlock or serialization failure (the transaction was the victim).
fn unavailable_sqlstate(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("28")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "53300" | "40P01" | "40001"
        )
}

/// SQLite's `SQLITE_BUSY` and `SQLITE_LOCKED` (with their extended codes):
/// the lock was still held by someone else when the busy timeout (10 s)
/// ran out, which only another process on the same file causes (the
/// server's own writes go through one connection).
fn sqlite_busy(code: &str) -> bool {
    const SQLITE_BUSY: i32 = 5;
    const SQLITE_LOCKED: i32 = 6;
    code.parse::<i32>()
        .is_ok_and(|c| matches!(c & 0xff, SQLITE_BUSY | SQLITE_LOCKED))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;
    use std::time::Duration;

    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
    use sqlx::{ConnectOptions, Connection};

    use super::*;

    #[test]
    fn connection_and_authorization_sqlstates_are_unavailable() {
        for code in [
            "08000", "08001", "08003", "08006", "08P01", "28000", "28P01", "57P01", "57P02",
            "57P03", "53300", "40P01", "40001",
        ] {
            assert!(unavailable_sqlstate(code), "{code}");
        }
        // A constraint, a syntax error, a missing table, a refused value,
        // a full disk: not a matter of retrying.
        for code in ["23505", "42601", "42P01", "22021", "53100", ""] {
            assert!(!unavailable_sqlstate(code), "{code}");
        }
    }

    #[test]
    fn sqlite_busy_and_locked_with_their_extended_codes_are_busy() {
        // SQLITE_BUSY, _RECOVERY, _SNAPSHOT, _TIMEOUT; SQLITE_LOCKED, _SHAREDCACHE.
        for code in ["5", "261", "517", "773", "6", "262"] {
            assert!(sqlite_busy(code), "{code}");
        }
        // SQLITE_ERROR, SQLITE_IOERR, SQLITE_FULL, SQLITE_CONSTRAINT_UNIQUE.
        for code in ["1", "10", "13", "2067", "", "08006"] {
            assert!(!sqlite_busy(code), "{code}");
        }
    }

    #[test]
    fn pool_and_io_failures_are_unavailable() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for e in [
            sqlx::Error::Io(refused),
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Protocol("unexpected end of message".into()),
        ] {
            assert!(matches!(db(e), StoreError::Unavailable(_)));
        }
        assert!(matches!(db(sqlx::Error::RowNotFound), StoreError::NotFound));
    }

    /// Another process holds SQLite's write lock past the busy timeout.
    #[tokio::test]
    async fn a_sqlite_write_lock_held_elsewhere_is_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/busy.db", dir.path().display());
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::ZERO);
        let mut holder = options.connect().await.unwrap();
        sqlx::query("CREATE TABLE t (k TEXT)")
            .execute(&mut holder)
            .await
            .unwrap();
        let mut held = holder.begin().await.unwrap();
        sqlx::query("INSERT INTO t VALUES ('a')")
            .execute(&mut *held)
            .await
            .unwrap();
        let mut other = options.connect().await.unwrap();
        let e = sqlx::query("INSERT INTO t VALUES ('b')")
            .execute(&mut other)
            .await
            .unwrap_err();
        assert!(matches!(db(e), StoreError::Unavailable(_)));
        // A batch's jobs are told the same.
        let passed = StoreError::Unavailable("busy".into()).passed_on("commit failed");
        assert!(matches!(passed, StoreError::Unavailable(_)));
        let passed = StoreError::NotFound.passed_on("commit failed");
        assert!(matches!(passed, StoreError::Database(_)));
    }
}
