//! Members' access to the dashboard: the codes mailed to them, their
//! sessions (the cookie's id stored only as a hash) and their TOTP.

use crate::domain::roles::Role;
use crate::store::StoreResult;
use async_trait::async_trait;

/// A code mailed to a member's address. `member_id` is `None` when no
/// member has the address: such a sign-in refuses every code.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberSignInRecord {
    pub id: String,
    pub organization_id: String,
    pub email: String,
    pub member_id: Option<String>,
    pub code_mac: Vec<u8>,
    pub attempts: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
}

/// The outcome of one attempt at a member's code.
#[derive(Debug, Clone)]
pub enum SignInAttempt {
    /// Unknown, expired, used, superseded or out of attempts.
    Refused,
    /// An attempt was spent and the code did not match (or the address
    /// is no member's).
    Wrong(MemberSignInRecord),
    /// The code matched (the sign-in is used by `begin_session`).
    Matched(MemberSignInRecord),
}

/// Where a member's session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStage {
    /// The e-mailed code was right; the member's TOTP code is due.
    Totp,
    SignedIn,
}

impl SessionStage {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStage::Totp => "totp",
            SessionStage::SignedIn => "signed_in",
        }
    }
}

impl TryFrom<String> for SessionStage {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "totp" => Ok(SessionStage::Totp),
            "signed_in" => Ok(SessionStage::SignedIn),
            _ => Err(format!("unknown member session stage {s:?}")),
        }
    }
}

/// A new member session.
#[derive(Debug, Clone)]
pub struct NewMemberSession {
    pub id_hash: Vec<u8>,
    pub member_id: String,
    pub role: Role,
    pub stage: SessionStage,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A member session with what each request needs of its member.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberSessionView {
    pub member_id: String,
    pub organization_id: String,
    pub email: String,
    /// The role the session began with.
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// The member's role now.
    #[sqlx(try_from = "String")]
    pub member_role: Role,
    #[sqlx(try_from = "String")]
    pub stage: SessionStage,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub require_member_mfa: bool,
    pub has_totp: bool,
}

/// A member's TOTP authenticator.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberTotpRecord {
    pub member_id: String,
    pub secret_sealed: Vec<u8>,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub last_used_step: Option<i64>,
}

#[async_trait]
pub trait MemberAccessStore: Send + Sync {
    /// Saves a sign-in; earlier ones for the same address and organization
    /// refuse every attempt from then on.
    async fn insert_sign_in(&self, sign_in: &MemberSignInRecord) -> StoreResult<()>;
    /// Spends an attempt if the sign-in is live, the newest for its
    /// address and under `max_attempts`, then compares the MAC in constant
    /// time.
    async fn attempt_sign_in(
        &self,
        organization_id: &str,
        sign_in_id: &str,
        max_attempts: i64,
        now: i64,
        code_mac: &[u8],
    ) -> StoreResult<SignInAttempt>;
    /// In one transaction: uses the sign-in up and stores the session.
    /// `false` (nothing stored) when the sign-in was used meanwhile.
    async fn begin_session(
        &self,
        sign_in_id: &str,
        session: &NewMemberSession,
        now: i64,
    ) -> StoreResult<bool>;
    /// The session, with its member, if both still exist.
    async fn session(&self, id_hash: &[u8]) -> StoreResult<Option<MemberSessionView>>;
    /// Records activity (for the idle timeout).
    async fn touch_session(&self, id_hash: &[u8], now: i64) -> StoreResult<()>;
    /// In one transaction: the session waiting for its TOTP code is
    /// replaced by a `SignedIn` one under a new id (`new_hash`), with the
    /// same member, role and ends; `false` if it was not waiting.
    async fn complete_session(
        &self,
        id_hash: &[u8],
        new_hash: &[u8],
        now: i64,
    ) -> StoreResult<bool>;
    async fn end_session(&self, id_hash: &[u8]) -> StoreResult<()>;
    /// The member's TOTP, confirmed or pending.
    async fn totp(&self, member_id: &str) -> StoreResult<Option<MemberTotpRecord>>;
    /// Starts (or restarts) an unconfirmed enrolment; `false` when the
    /// member has a confirmed TOTP already.
    async fn begin_totp(&self, record: &MemberTotpRecord) -> StoreResult<bool>;
    /// Confirms the pending TOTP begun at `begun_at` (the one whose code
    /// was checked, not one a second enrolment put in its place) with its
    /// first step; `false` if that one is not pending.
    async fn confirm_totp(
        &self,
        member_id: &str,
        begun_at: i64,
        at: i64,
        step: i64,
    ) -> StoreResult<bool>;
    /// Uses a TOTP step once: `false` when `step` is not after the last
    /// one used.
    async fn use_totp_step(&self, member_id: &str, step: i64) -> StoreResult<bool>;
    /// Removes the member's TOTP; whether there was one.
    async fn delete_totp(&self, member_id: &str) -> StoreResult<bool>;
    async fn set_require_member_mfa(&self, organization_id: &str, on: bool) -> StoreResult<()>;
    /// Deletes sign-ins and sessions that ended before `now`.
    async fn prune_member_access(&self, now: i64, idle_ms: i64) -> StoreResult<()>;
}
