//! The rules of a member's dashboard session: how long it lasts, when it
//! is over, and what the member must do before anything else.

use crate::domain::roles::Role;

/// A session ends after this long without a request.
pub const IDLE_TIMEOUT_MS: i64 = 30 * 60 * 1000;
/// And this long after the sign-in, whatever the activity.
pub const ABSOLUTE_TIMEOUT_MS: i64 = 12 * 60 * 60 * 1000;
/// A sign-in waits this long for its TOTP code, at most.
pub const TOTP_STEP_TIMEOUT_MS: i64 = 10 * 60 * 1000;
/// Activity is written at most this often (a request within it counts,
/// but is not written again).
pub const TOUCH_INTERVAL_MS: i64 = 60 * 1000;

/// A stored session as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct SessionFacts {
    pub role_at_sign_in: Role,
    pub role_now: Role,
    /// The e-mailed code was right but the member's TOTP code is due.
    pub awaiting_totp: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub require_member_mfa: bool,
    pub has_totp: bool,
}

/// What a request with this session may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Over: idle, past its end, or the member's role changed.
    Ended,
    /// Only the TOTP step of the sign-in.
    AwaitingTotp,
    /// Only TOTP enrolment: the organization requires it.
    MustEnrol,
    Active,
}

pub fn state(f: &SessionFacts, now: i64) -> SessionState {
    if now >= f.expires_at
        || now >= f.last_seen_at.saturating_add(IDLE_TIMEOUT_MS)
        || f.role_now != f.role_at_sign_in
        || (f.awaiting_totp && now >= f.created_at.saturating_add(TOTP_STEP_TIMEOUT_MS))
    {
        SessionState::Ended
    } else if f.awaiting_totp {
        SessionState::AwaitingTotp
    } else if f.require_member_mfa && !f.has_totp {
        SessionState::MustEnrol
    } else {
        SessionState::Active
    }
}

/// Is the stored activity old enough to be written again?
pub fn needs_touch(last_seen_at: i64, now: i64) -> bool {
    now - last_seen_at >= TOUCH_INTERVAL_MS
}

/// The cookie's name: `__Host-` (which browsers accept only with
/// `Secure`, `Path=/` and no `Domain`) whenever the public URL is https.
pub fn cookie_name(https: bool) -> &'static str {
    match https {
        true => "__Host-portcullis_member",
        false => "portcullis_member",
    }
}

/// The `Set-Cookie` value for a session id (`None`: clear it).
pub fn set_cookie(https: bool, value: Option<&str>) -> String {
    let secure = if https { "; Secure" } else { "" };
    match value {
        Some(v) => format!(
            "{}={v}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            cookie_name(https),
            ABSOLUTE_TIMEOUT_MS / 1000
        ),
        None => format!(
            "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}",
            cookie_name(https)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> SessionFacts {
        SessionFacts {
            role_at_sign_in: Role::Developer,
            role_now: Role::Developer,
            awaiting_totp: false,
            created_at: 1_000_000,
            last_seen_at: 1_000_000,
            expires_at: 1_000_000 + ABSOLUTE_TIMEOUT_MS,
            require_member_mfa: false,
            has_totp: false,
        }
    }

    #[test]
    fn a_session_ends_when_idle_past_its_end_or_when_the_role_changes() {
        let f = facts();
        assert_eq!(state(&f, f.last_seen_at), SessionState::Active);
        assert_eq!(
            state(&f, f.last_seen_at + IDLE_TIMEOUT_MS - 1),
            SessionState::Active
        );
        assert_eq!(
            state(&f, f.last_seen_at + IDLE_TIMEOUT_MS),
            SessionState::Ended
        );
        let busy = SessionFacts {
            last_seen_at: f.expires_at - 1,
            ..f
        };
        assert_eq!(state(&busy, f.expires_at - 1), SessionState::Active);
        assert_eq!(state(&busy, f.expires_at), SessionState::Ended);
        for role_now in [Role::Viewer, Role::Admin, Role::Owner] {
            let changed = SessionFacts { role_now, ..f };
            assert_eq!(state(&changed, f.last_seen_at), SessionState::Ended);
        }
    }

    #[test]
    fn totp_comes_first_then_enrolment_when_the_organization_requires_it() {
        let f = facts();
        let waiting = SessionFacts {
            awaiting_totp: true,
            has_totp: true,
            ..f
        };
        assert_eq!(state(&waiting, f.last_seen_at), SessionState::AwaitingTotp);
        let busy_waiting = SessionFacts {
            last_seen_at: f.created_at + TOTP_STEP_TIMEOUT_MS - 1,
            ..waiting
        };
        assert_eq!(
            state(&busy_waiting, f.created_at + TOTP_STEP_TIMEOUT_MS),
            SessionState::Ended,
            "the TOTP step waits 10 minutes at most, whatever the activity"
        );
        let required = SessionFacts {
            require_member_mfa: true,
            ..f
        };
        assert_eq!(state(&required, f.last_seen_at), SessionState::MustEnrol);
        let enrolled = SessionFacts {
            has_totp: true,
            ..required
        };
        assert_eq!(state(&enrolled, f.last_seen_at), SessionState::Active);
    }

    #[test]
    fn activity_is_written_once_a_minute() {
        assert!(!needs_touch(0, TOUCH_INTERVAL_MS - 1));
        assert!(needs_touch(0, TOUCH_INTERVAL_MS));
    }

    #[test]
    fn the_cookie_is_host_only_and_secure_on_https() {
        let c = set_cookie(true, Some("abc"));
        assert!(c.starts_with("__Host-portcullis_member=abc; Path=/; HttpOnly; SameSite=Strict"));
        assert!(c.ends_with("; Secure"));
        let c = set_cookie(false, Some("abc"));
        assert!(c.starts_with("portcullis_member=abc;") && !c.contains("Secure"));
        assert!(set_cookie(false, None).contains("Max-Age=0"));
    }
}
