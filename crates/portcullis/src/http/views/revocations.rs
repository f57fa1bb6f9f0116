//! The revocation feed's answer (docs/verify.md).

use serde::Serialize;

use crate::clock::rfc3339;
use crate::services::revocation_feed::FeedAnswer;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RevokedSessionInfo {
    pub session_id: String,
    pub user_id: Option<String>,
    /// After this the token is refused anyway: forget the entry then.
    pub expires_at: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserEpoch {
    pub user_id: String,
    /// Tokens of this user whose `user_epoch` is below it are revoked.
    pub epoch: i64,
}

/// A page of an environment's revocations. A verifier refuses a token whose
/// `sid` is among `sessions`, whose `user_epoch` is below its user's
/// `epoch`, or whose `env_epoch` is below `environment_epoch`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RevocationPage {
    /// Revoked sessions not yet expired.
    pub sessions: Vec<RevokedSessionInfo>,
    pub users: Vec<UserEpoch>,
    /// The environment's epoch now.
    pub environment_epoch: i64,
    /// Pass it as `after` for what comes next.
    pub next_cursor: String,
    /// More entries follow now: ask again at once.
    pub has_more: bool,
}

impl From<FeedAnswer> for RevocationPage {
    fn from(a: FeedAnswer) -> Self {
        RevocationPage {
            sessions: a
                .sessions
                .into_iter()
                .map(|s| RevokedSessionInfo {
                    session_id: s.session_id,
                    user_id: s.user_id,
                    expires_at: rfc3339(s.expires_at),
                })
                .collect(),
            users: a
                .users
                .into_iter()
                .map(|(user_id, epoch)| UserEpoch { user_id, epoch })
                .collect(),
            environment_epoch: a.environment_epoch,
            next_cursor: a.next_cursor,
            has_more: a.has_more,
        }
    }
}
