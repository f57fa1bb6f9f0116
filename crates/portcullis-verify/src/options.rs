//! How a [`Verifier`](crate::Verifier) behaves: leeway, JWKS refresh
//! limits, the clock, the HTTP client and the revocation check.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::revocations::RevocationCheck;

/// Where a verifier reads the time: the wall clock unless a test sets one.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The wall clock: the only place this crate reads it.
#[allow(clippy::disallowed_methods)]
pub fn system_clock() -> Clock {
    Arc::new(SystemTime::now)
}

/// Options of a [`Verifier`](crate::Verifier); `Default` is what most
/// backends want.
#[derive(Clone)]
pub struct VerifierOptions {
    /// Clock skew tolerated on `exp` and `nbf`. Default 60 s.
    pub leeway: Duration,
    /// The least time between two JWKS fetches caused by unknown `kid`s
    /// (or by an old key set): a flood of made-up `kid`s is at most one
    /// request per interval. Default 30 s.
    pub min_refresh_interval: Duration,
    /// How long a fetched key set is used before the next verification
    /// fetches it again (so a key the server stopped publishing stops
    /// verifying). If that fetch fails, the old set stays in use.
    /// Default 10 minutes.
    pub max_key_age: Duration,
    /// Timeout of one discovery or JWKS request. Default 5 s. Ignored when
    /// `http_client` is set (configure the client's own).
    pub http_timeout: Duration,
    /// The HTTP client for discovery and JWKS; one is built if unset.
    pub http_client: Option<reqwest::Client>,
    /// The time; the wall clock by default.
    pub clock: Clock,
    /// Consulted after the signature and the claims hold, if set.
    pub revocation: Option<Arc<dyn RevocationCheck>>,
}

impl Default for VerifierOptions {
    fn default() -> Self {
        Self {
            leeway: Duration::from_secs(60),
            min_refresh_interval: Duration::from_secs(30),
            max_key_age: Duration::from_secs(600),
            http_timeout: Duration::from_secs(5),
            http_client: None,
            clock: system_clock(),
            revocation: None,
        }
    }
}

impl VerifierOptions {
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    pub fn min_refresh_interval(mut self, interval: Duration) -> Self {
        self.min_refresh_interval = interval;
        self
    }

    pub fn max_key_age(mut self, age: Duration) -> Self {
        self.max_key_age = age;
        self
    }

    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.http_timeout = timeout;
        self
    }

    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Reads the time from `clock` instead of the wall clock (tests).
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub fn revocation(mut self, check: Arc<dyn RevocationCheck>) -> Self {
        self.revocation = Some(check);
        self
    }
}

impl fmt::Debug for VerifierOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierOptions")
            .field("leeway", &self.leeway)
            .field("min_refresh_interval", &self.min_refresh_interval)
            .field("max_key_age", &self.max_key_age)
            .field("http_timeout", &self.http_timeout)
            .field("http_client", &self.http_client.is_some())
            .field("revocation", &self.revocation.is_some())
            .finish_non_exhaustive()
    }
}
