//! The local revocation index a [`RevocationFollower`](crate::RevocationFollower)
//! keeps from the server's feed, and the server's rule on it: a token is
//! revoked if its `sid` is a revoked session, or its `user_epoch` is below
//! its user's epoch, or its `env_epoch` below the environment's.

use std::collections::HashMap;

use serde::Deserialize;

use crate::claims::Claims;

/// Tells whether a verified session has been revoked. The server's rule:
/// revoked if `sid` is in the revoked-session set, or `user_epoch` is below
/// the user's epoch, or `env_epoch` below the environment's.
pub trait RevocationCheck: Send + Sync {
    /// `Err(Stale)` when the revocation state is too old to answer: the
    /// verification then fails with [`VerifyError::Unavailable`](crate::VerifyError::Unavailable).
    fn is_revoked(&self, claims: &Claims) -> Result<bool, Stale>;
}

/// The revocation state is too old to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the revocation state is too old to answer")]
pub struct Stale;

/// One page of `GET …/revocations` (or one `revocations` event of the
/// stream), as the server sends it.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct FeedPage {
    pub sessions: Vec<FeedSession>,
    pub users: Vec<FeedUser>,
    pub environment_epoch: i64,
    pub next_cursor: String,
    pub has_more: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct FeedSession {
    pub session_id: String,
    /// RFC 3339.
    pub expires_at: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct FeedUser {
    pub user_id: String,
    pub epoch: i64,
}

/// What the feed has said so far.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct LocalIndex {
    /// Revoked sessions and their expiry (Unix seconds; `i64::MAX` when the
    /// server's time could not be read: kept until the next start over).
    sessions: HashMap<String, i64>,
    users: HashMap<String, i64>,
    environment_epoch: i64,
}

impl LocalIndex {
    /// Takes in one page; epochs only ever rise.
    pub fn apply(&mut self, page: &FeedPage) {
        for s in &page.sessions {
            let exp = parse_rfc3339_seconds(&s.expires_at).unwrap_or(i64::MAX);
            self.sessions.insert(s.session_id.clone(), exp);
        }
        for u in &page.users {
            let epoch = self.users.entry(u.user_id.clone()).or_insert(u.epoch);
            *epoch = (*epoch).max(u.epoch);
        }
        self.environment_epoch = self.environment_epoch.max(page.environment_epoch);
    }

    /// Forgets the sessions that expired before `now_s`: their tokens are
    /// refused by their `exp` anyway.
    pub fn forget_expired(&mut self, now_s: i64) {
        self.sessions.retain(|_, exp| *exp > now_s);
    }

    pub fn is_revoked(&self, claims: &Claims) -> bool {
        self.sessions.contains_key(&claims.sid)
            || self
                .users
                .get(&claims.sub)
                .is_some_and(|epoch| claims.user_epoch < *epoch)
            || claims.env_epoch < self.environment_epoch
    }

    #[cfg(test)]
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }
}

/// Seconds since the Unix epoch of an RFC 3339 UTC time as the server
/// writes it (`2026-12-03T17:20:48Z`, optional fraction); `None` otherwise.
pub(crate) fn parse_rfc3339_seconds(text: &str) -> Option<i64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    let time = time.split('.').next()?;
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (hour, minute, second) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(sid: &str, sub: &str, user_epoch: i64, env_epoch: i64) -> Claims {
        Claims {
            sid: sid.into(),
            sub: sub.into(),
            environment_id: "env_1".into(),
            iss: "https://auth.example.com/sdk/v1/env_1".into(),
            aud: "env_1".into(),
            iat: 0,
            nbf: 0,
            exp: 0,
            jti: "jti_1".into(),
            scope: "user:basic".into(),
            amr: vec![],
            email: None,
            phone_number: None,
            wallet: None,
            user_epoch,
            env_epoch,
        }
    }

    fn page(sessions: &[(&str, &str)], users: &[(&str, i64)], env: i64) -> FeedPage {
        FeedPage {
            sessions: sessions
                .iter()
                .map(|(id, exp)| FeedSession {
                    session_id: id.to_string(),
                    expires_at: exp.to_string(),
                })
                .collect(),
            users: users
                .iter()
                .map(|(id, epoch)| FeedUser {
                    user_id: id.to_string(),
                    epoch: *epoch,
                })
                .collect(),
            environment_epoch: env,
            next_cursor: "1".into(),
            has_more: false,
        }
    }

    #[test]
    fn the_servers_rule_in_each_scope() {
        let mut index = LocalIndex::default();
        assert!(!index.is_revoked(&claims("ses_1", "usr_1", 0, 0)));
        index.apply(&page(&[("ses_1", "2026-12-03T17:20:48Z")], &[], 0));
        assert!(index.is_revoked(&claims("ses_1", "usr_1", 0, 0)));
        assert!(!index.is_revoked(&claims("ses_2", "usr_1", 0, 0)));
        index.apply(&page(&[], &[("usr_2", 2)], 0));
        assert!(index.is_revoked(&claims("ses_3", "usr_2", 1, 0)));
        assert!(
            !index.is_revoked(&claims("ses_4", "usr_2", 2, 0)),
            "issued after"
        );
        index.apply(&page(&[], &[("usr_2", 1)], 3));
        assert!(
            index.is_revoked(&claims("ses_3", "usr_2", 1, 5)),
            "epochs never fall"
        );
        assert!(index.is_revoked(&claims("ses_5", "usr_9", 0, 2)));
        assert!(!index.is_revoked(&claims("ses_5", "usr_9", 0, 3)));
    }

    #[test]
    fn expired_sessions_are_forgotten() {
        let mut index = LocalIndex::default();
        index.apply(&page(
            &[
                ("ses_1", "1970-01-01T00:01:40Z"),
                ("ses_2", "1970-01-01T00:03:20Z"),
            ],
            &[],
            0,
        ));
        index.forget_expired(100);
        assert_eq!(index.session_count(), 1);
        assert!(index.is_revoked(&claims("ses_2", "u", 0, 0)));
    }

    #[test]
    fn rfc3339_times_as_the_server_writes_them() {
        assert_eq!(parse_rfc3339_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_seconds("2000-03-01T00:00:00Z"),
            Some(951_868_800)
        );
        assert_eq!(
            parse_rfc3339_seconds("2026-12-03T17:20:48Z"),
            Some(1_796_318_448)
        );
        assert_eq!(
            parse_rfc3339_seconds("2026-12-03T17:20:48.5Z"),
            Some(1_796_318_448)
        );
        for bad in [
            "",
            "2026-12-03",
            "2026-13-03T00:00:00Z",
            "2026-12-03T17:20:48+01:00",
        ] {
            assert_eq!(parse_rfc3339_seconds(bad), None, "{bad}");
        }
    }
}
