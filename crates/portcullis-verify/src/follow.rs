//! Following the server's revocation feed (docs/verify.md, "Revocations"):
//! a background task reads `GET …/revocations` from its cursor, then keeps
//! the stream `…/revocations/stream` open and applies each event to a local
//! index, so that a revoked session is refused within moments with no
//! request per verification. When the stream fails it polls the feed every
//! `poll_interval` and tries the stream again; a `410`/`resync` starts over
//! from the whole current state.

use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use tokio::sync::watch;

use crate::claims::Claims;
use crate::options::{Clock, system_clock};
use crate::revocations::{FeedPage, LocalIndex, RevocationCheck, Stale};
use crate::verifier::SetupError;

/// What happens to verifications when the feed has not been heard from
/// for longer than `stale_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StalePolicy {
    /// Refuse them (503 `unavailable`): no revoked session gets through,
    /// but an outage of Portcullis stops the backend too. The default.
    FailClosed,
    /// Accept them on what is known: the backend keeps serving, and a
    /// session revoked meanwhile is accepted until the feed is back.
    FailOpen,
}

/// Options of a [`RevocationFollower`].
#[derive(Clone)]
pub struct FollowOptions {
    /// How often to poll the feed while the stream cannot be used.
    /// Default 5 s.
    pub poll_interval: Duration,
    /// How long the state may go without news (an event, a heartbeat, a
    /// page) before `policy` applies. Default 60 s.
    pub stale_after: Duration,
    pub policy: StalePolicy,
    /// A stream that sends nothing, not even a heartbeat (every 15 s), for
    /// this long is taken for dead. Default 45 s.
    pub stream_idle_timeout: Duration,
    /// Timeout of one feed request. Default 10 s.
    pub http_timeout: Duration,
    pub clock: Clock,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            poll_interval: Duration::from_secs(5),
            stale_after: Duration::from_secs(60),
            policy: StalePolicy::FailClosed,
            stream_idle_timeout: Duration::from_secs(45),
            http_timeout: Duration::from_secs(10),
            clock: system_clock(),
        }
    }
}

/// Follows one environment's revocations; give it to
/// [`VerifierOptions::revocation`](crate::VerifierOptions). Dropping it
/// stops the background task.
pub struct RevocationFollower {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

struct Shared {
    index: RwLock<LocalIndex>,
    /// When the feed was last heard from.
    heard: watch::Sender<Option<SystemTime>>,
    options: FollowOptions,
}

/// Why one round of following ended.
enum Interrupted {
    /// The cursor is older than what the server keeps: start over.
    Gone,
    /// Anything else: wait, then poll.
    Failed(String),
}

impl RevocationFollower {
    /// Starts following. `portcullis_url` is the server's public URL (the
    /// management API is under `{portcullis_url}/api/v1`); `api_token` an
    /// API token of role `viewer` or above, limited to the environment if
    /// you like. Needs a Tokio runtime.
    pub fn start(
        portcullis_url: &str,
        environment_id: &str,
        api_token: &str,
        options: FollowOptions,
    ) -> Result<Arc<Self>, SetupError> {
        let client = reqwest::Client::builder()
            .connect_timeout(options.http_timeout)
            .build()
            .map_err(|e| SetupError::HttpClient(e.to_string()))?;
        let base = format!(
            "{}/api/v1/environments/{environment_id}/revocations",
            portcullis_url.trim_end_matches('/')
        );
        let shared = Arc::new(Shared {
            index: RwLock::default(),
            heard: watch::Sender::new(None),
            options,
        });
        let follow = Follow {
            shared: shared.clone(),
            client,
            base,
            token: api_token.to_string(),
            cursor: None,
        };
        let task = tokio::spawn(follow.run());
        Ok(Arc::new(RevocationFollower { shared, task }))
    }

    /// When the feed was last heard from (`None`: not yet).
    pub fn last_heard(&self) -> Option<SystemTime> {
        *self.shared.heard.borrow()
    }

    /// Whether the state is recent enough to be trusted (`stale_after`).
    pub fn is_fresh(&self) -> bool {
        self.shared.is_fresh()
    }

    /// Changes each time the feed is heard from (a page, an event, a
    /// heartbeat), after what it said has been applied: to wait for news
    /// instead of polling [`last_heard`](Self::last_heard).
    pub fn heard(&self) -> watch::Receiver<Option<SystemTime>> {
        self.shared.heard.subscribe()
    }

    /// Waits until the whole current state has been read once.
    pub async fn synced(&self) {
        let mut heard = self.shared.heard.subscribe();
        let _ = heard.wait_for(Option::is_some).await;
    }
}

impl Drop for RevocationFollower {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Shared {
    fn now(&self) -> SystemTime {
        (self.options.clock)()
    }

    fn is_fresh(&self) -> bool {
        self.heard.borrow().is_some_and(|at| {
            self.now()
                .duration_since(at)
                .is_ok_and(|age| age <= self.options.stale_after)
                || at > self.now()
        })
    }

    fn mark_heard(&self) {
        let now = self.now();
        self.heard.send_replace(Some(now));
    }

    fn index(&self) -> std::sync::RwLockWriteGuard<'_, LocalIndex> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

    fn now_s(&self) -> i64 {
        self.now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }
}

impl RevocationCheck for RevocationFollower {
    fn is_revoked(&self, claims: &Claims) -> Result<bool, Stale> {
        let shared = &self.shared;
        if !shared.is_fresh() && shared.options.policy == StalePolicy::FailClosed {
            return Err(Stale);
        }
        let index = shared.index.read().unwrap_or_else(|e| e.into_inner());
        Ok(index.is_revoked(claims))
    }
}

/// Sends `request`; its answer if 200 (`what` names it in errors, which
/// never carry the token or the URL).
async fn answer(
    request: reqwest::RequestBuilder,
    what: &str,
) -> Result<reqwest::Response, Interrupted> {
    let response = request
        .send()
        .await
        .map_err(|e| Interrupted::Failed(e.without_url().to_string()))?;
    match response.status() {
        StatusCode::OK => Ok(response),
        StatusCode::GONE => Err(Interrupted::Gone),
        status => Err(Interrupted::Failed(format!("{what} answered {status}"))),
    }
}

/// The background task's state.
struct Follow {
    shared: Arc<Shared>,
    client: reqwest::Client,
    base: String,
    token: String,
    cursor: Option<String>,
}

impl Follow {
    async fn run(mut self) {
        loop {
            match self.catch_up().await {
                Ok(()) => {}
                Err(Interrupted::Gone) => {
                    self.cursor = None;
                    continue;
                }
                Err(Interrupted::Failed(why)) => {
                    tracing::warn!(reason = %why, "revocation feed: cannot read it; trying again");
                    tokio::time::sleep(self.shared.options.poll_interval).await;
                    continue;
                }
            }
            match self.stream().await {
                // The server closed it (shutting down): catch up, reconnect.
                Ok(()) => {}
                Err(Interrupted::Gone) => self.cursor = None,
                Err(Interrupted::Failed(why)) => {
                    tracing::warn!(reason = %why, "revocation stream failed; polling the feed");
                    tokio::time::sleep(self.shared.options.poll_interval).await;
                }
            }
        }
    }

    /// Reads pages from the cursor until none follows. Without a cursor the
    /// pages are the whole current state, which replaces the index only
    /// once it has been read to the end (a failure half way leaves the
    /// follower without a cursor: it starts over).
    async fn catch_up(&mut self) -> Result<(), Interrupted> {
        let fresh_start = self.cursor.is_none();
        let mut whole = LocalIndex::default();
        let mut cursor = self.cursor.clone();
        loop {
            let after = cursor.clone().unwrap_or_default();
            let url = reqwest::Url::parse_with_params(
                &self.base,
                [("after", after.as_str()), ("limit", "1000")],
            )
            .map_err(|e| Interrupted::Failed(format!("the feed's URL: {e}")))?;
            let request = self
                .client
                .get(url)
                .bearer_auth(&self.token)
                .timeout(self.shared.options.http_timeout);
            let response = answer(request, "the feed").await?;
            let page: FeedPage = response
                .json()
                .await
                .map_err(|e| Interrupted::Failed(e.without_url().to_string()))?;
            cursor = Some(page.next_cursor.clone());
            if fresh_start {
                whole.apply(&page);
            } else {
                self.shared.index().apply(&page);
                self.cursor = cursor.clone();
            }
            if !page.has_more {
                break;
            }
        }
        if fresh_start {
            *self.shared.index() = whole;
            self.cursor = cursor;
        }
        let now_s = self.shared.now_s();
        self.shared.index().forget_expired(now_s);
        self.shared.mark_heard();
        Ok(())
    }

    /// Keeps the stream open from the cursor, applying each event.
    async fn stream(&mut self) -> Result<(), Interrupted> {
        let mut request = self
            .client
            .get(format!("{}/stream", self.base))
            .bearer_auth(&self.token)
            .header("accept", "text/event-stream");
        if let Some(cursor) = &self.cursor {
            request = request.header("last-event-id", cursor);
        }
        let mut response = answer(request, "the stream").await?;
        let mut buffer = String::new();
        loop {
            let chunk =
                tokio::time::timeout(self.shared.options.stream_idle_timeout, response.chunk())
                    .await
                    .map_err(|_| Interrupted::Failed("the stream went silent".into()))?
                    .map_err(|e| Interrupted::Failed(e.without_url().to_string()))?;
            let Some(chunk) = chunk else {
                return Ok(());
            };
            buffer.push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n"));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                self.take(&block)?;
            }
        }
    }

    /// One event (or comment) of the stream.
    fn take(&mut self, block: &str) -> Result<(), Interrupted> {
        let (mut event, mut id, mut data) = ("message", None, String::new());
        for line in block.lines() {
            match line.split_once(':') {
                Some(("", _)) => {} // a comment: the heartbeat
                Some(("event", v)) => event = v.trim(),
                Some(("id", v)) => id = Some(v.trim().to_string()),
                Some(("data", v)) => data.push_str(v.strip_prefix(' ').unwrap_or(v)),
                _ => {}
            }
        }
        match event {
            "revocations" => {
                let page: FeedPage = serde_json::from_str(&data)
                    .map_err(|e| Interrupted::Failed(format!("an unreadable event: {e}")))?;
                self.shared.index().apply(&page);
                self.cursor = id.or(Some(page.next_cursor));
            }
            "resync" => return Err(Interrupted::Gone),
            _ => {}
        }
        self.shared.mark_heard();
        Ok(())
    }
}
