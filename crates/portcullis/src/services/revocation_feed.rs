//! The revocation feed (docs/verify.md): what a verifier outside the
//! server needs to refuse revoked sessions locally — revoked sessions that
//! have not expired, users' epochs and the environment's epoch — in the
//! order they were recorded, from a cursor. The rule a verifier applies is
//! the server's (`domain::revocation`): a token is revoked if its `sid` is
//! listed, or its `user_epoch` is below its user's epoch, or its
//! `env_epoch` below the environment's.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::revocations::Revocations;
use super::{ServiceError, ServiceResult};
use crate::clock::{Clock, to_millis};
use crate::domain::validation::ValidationErrors;
use crate::store::{FeedPage, SessionStore};

/// Entries a page holds unless the caller asks for fewer.
pub const DEFAULT_PAGE: u32 = 500;
/// The most entries one page holds.
pub const MAX_PAGE: u32 = 1000;

/// A revoked session that could still be presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedSession {
    pub session_id: String,
    pub user_id: Option<String>,
    /// ms
    pub expires_at: i64,
}

/// One page of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedAnswer {
    pub sessions: Vec<RevokedSession>,
    /// Each user's highest epoch in the page.
    pub users: BTreeMap<String, i64>,
    pub environment_epoch: i64,
    pub next_cursor: String,
    pub has_more: bool,
}

pub struct RevocationFeed {
    clock: Arc<dyn Clock>,
    sessions: Arc<dyn SessionStore>,
    revocations: Arc<Revocations>,
    closing: CancellationToken,
    heartbeat: Duration,
}

/// What a stream of the feed waits on: a revocation recorded here or heard
/// from another node, or the server closing.
pub struct FeedWatch {
    pub changed: watch::Receiver<u64>,
    pub closing: CancellationToken,
}

impl RevocationFeed {
    pub fn new(
        clock: Arc<dyn Clock>,
        sessions: Arc<dyn SessionStore>,
        revocations: Arc<Revocations>,
        heartbeat: Duration,
    ) -> Self {
        RevocationFeed {
            clock,
            sessions,
            revocations,
            closing: CancellationToken::new(),
            heartbeat,
        }
    }

    /// How often an idle stream sends a heartbeat comment.
    pub fn heartbeat(&self) -> Duration {
        self.heartbeat
    }

    /// For a stream: wakes it when there may be something new.
    pub fn watch(&self) -> FeedWatch {
        FeedWatch {
            changed: self.revocations.subscribe(),
            closing: self.closing.clone(),
        }
    }

    /// Ends every stream: the server is shutting down (open streams would
    /// otherwise hold the graceful shutdown for its whole grace).
    pub fn close(&self) {
        self.closing.cancel();
    }

    /// The entries after `after` (empty or absent: from the start of what
    /// is kept, which is the whole current state), at most `limit`.
    pub async fn page(
        &self,
        environment_id: &str,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> ServiceResult<FeedAnswer> {
        let cursor = parse_cursor(after)?;
        let after = cursor.unwrap_or(0);
        let limit = match limit.unwrap_or(DEFAULT_PAGE) {
            n @ 1..=MAX_PAGE => n,
            _ => {
                return Err(ValidationErrors::single(
                    "limit",
                    format!("must be between 1 and {MAX_PAGE}"),
                )
                .into());
            }
        };
        let page = self
            .sessions
            .revocation_feed(environment_id, after, i64::from(limit))
            .await?;
        if after > page.latest {
            return Err(ValidationErrors::single(
                "after",
                "is not a cursor of this environment's feed",
            )
            .into());
        }
        // Without a cursor the page starts at what is kept: never too old.
        if cursor.is_some_and(|c| c < page.floor) {
            return Err(ServiceError::CursorExpired);
        }
        Ok(answer_of(page, after, to_millis(self.clock.now())))
    }
}

/// The answer to a page read from `after`, at `now` (ms): sessions not yet
/// expired, each user's highest epoch, the environment's epoch.
fn answer_of(page: FeedPage, after: i64, now: i64) -> FeedAnswer {
    let next = page.entries.last().map_or(after, |e| e.seq);
    let mut answer = FeedAnswer {
        sessions: vec![],
        users: BTreeMap::new(),
        environment_epoch: page.environment_epoch,
        next_cursor: next.to_string(),
        has_more: next < page.latest,
    };
    for entry in page.entries {
        match (entry.kind.as_str(), entry.epoch, entry.expires_at) {
            ("session", _, Some(expires_at)) if expires_at > now => {
                answer.sessions.push(RevokedSession {
                    session_id: entry.subject_id,
                    user_id: entry.user_id,
                    expires_at,
                });
            }
            ("user", Some(epoch), _) => {
                let known = answer.users.entry(entry.subject_id).or_insert(epoch);
                *known = (*known).max(epoch);
            }
            // The head was read before the entries: a raise recorded
            // in between is in the entries but not in the head, and
            // the cursor moves past it, so its epoch must be here.
            ("environment", Some(epoch), _) => {
                answer.environment_epoch = answer.environment_epoch.max(epoch);
            }
            // Expired sessions only move the cursor.
            _ => {}
        }
    }
    answer
}

/// A cursor is the `seq` of the last entry seen, as decimal text; `None`:
/// no cursor (absent or empty), from the start of what is kept.
fn parse_cursor(after: Option<&str>) -> ServiceResult<Option<i64>> {
    match after.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| {
                ValidationErrors::single(
                    "after",
                    "must be a cursor this feed answered (next_cursor)",
                )
                .into()
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FeedEntry;

    #[test]
    fn a_cursor_is_a_non_negative_number_or_nothing() {
        assert_eq!(parse_cursor(None).unwrap(), None);
        assert_eq!(parse_cursor(Some("")).unwrap(), None);
        assert_eq!(parse_cursor(Some("42")).unwrap(), Some(42));
        for bad in ["-1", "abc", "1.5", "99999999999999999999"] {
            assert!(parse_cursor(Some(bad)).is_err(), "{bad}");
        }
    }

    fn entry(
        seq: i64,
        kind: &str,
        subject: &str,
        epoch: Option<i64>,
        expires_at: Option<i64>,
    ) -> FeedEntry {
        FeedEntry {
            seq,
            kind: kind.into(),
            subject_id: subject.into(),
            user_id: None,
            epoch,
            expires_at,
        }
    }

    #[test]
    fn a_page_keeps_live_sessions_the_highest_epochs_and_its_cursor() {
        let page = FeedPage {
            environment_epoch: 2,
            latest: 9,
            floor: 0,
            entries: vec![
                entry(4, "session", "ses_old", None, Some(1_000)),
                entry(5, "session", "ses_live", None, Some(5_000)),
                entry(6, "user", "usr_1", Some(3), None),
                entry(7, "user", "usr_1", Some(2), None),
            ],
        };
        let answer = answer_of(page, 3, 2_000);
        assert_eq!(answer.sessions.len(), 1);
        assert_eq!(answer.sessions[0].session_id, "ses_live");
        assert_eq!(answer.users.get("usr_1"), Some(&3));
        assert_eq!((answer.next_cursor.as_str(), answer.has_more), ("7", true));
        assert_eq!(answer.environment_epoch, 2);
    }

    #[test]
    fn an_environment_raise_read_after_the_head_is_not_lost() {
        // The head (epoch 2, latest 6) was read, then a raise to 3 was
        // recorded as entry 7 before the entries were read: the cursor
        // moves past 7, so the page must carry epoch 3.
        let page = FeedPage {
            environment_epoch: 2,
            latest: 6,
            floor: 0,
            entries: vec![entry(7, "environment", "env_1", Some(3), None)],
        };
        let answer = answer_of(page, 6, 0);
        assert_eq!(answer.environment_epoch, 3);
        assert_eq!((answer.next_cursor.as_str(), answer.has_more), ("7", false));
    }
}
