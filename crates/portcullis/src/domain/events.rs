//! Event types, and the retry schedule of webhook deliveries (API.md,
//! "Webhooks"; docs/events.md).

use super::settings::NotificationSettings;

/// Every event type Portcullis emits; a webhook's `events` filter may name
/// only these.
pub const EVENT_TYPES: &[&str] = &[
    USER_CREATED,
    USER_DELETED,
    USER_SESSION_CREATED,
    USER_SESSION_REVOKED,
    ADMIN_USER_SESSION_REVOKED,
    USER_SESSIONS_REVOKED,
    USER_MFA_DEVICE_ADDED,
    USER_MFA_DEVICE_REMOVED,
    ENVIRONMENT_LOCKED,
    ENVIRONMENT_UNLOCKED,
    ENVIRONMENT_SETTINGS_UPDATED,
    ENVIRONMENT_SESSIONS_REVOKED,
    ENVIRONMENT_ORIGIN_ADDED,
    ENVIRONMENT_ORIGIN_REMOVED,
    ENVIRONMENT_WEBHOOK_DISABLED,
    ENVIRONMENT_WEBHOOK_CREATED,
    ENVIRONMENT_WEBHOOK_UPDATED,
    ENVIRONMENT_WEBHOOK_SECRET_ROTATED,
    ENVIRONMENT_WEBHOOK_DELETED,
    USER_MFA_RESET,
    API_TOKEN_CREATED,
    API_TOKEN_ROTATED,
    API_TOKEN_DELETED,
    MEMBER_ADDED,
    MEMBER_UPDATED,
    MEMBER_REMOVED,
    ORGANIZATION_OWNERSHIP_TRANSFERRED,
    PING,
];

/// The security events that e-mail notifications can be sent for. With
/// recipients set, each is on unless `notifications.events` turns it off.
pub const NOTIFIABLE: &[&str] = &[
    ENVIRONMENT_LOCKED,
    ENVIRONMENT_UNLOCKED,
    ENVIRONMENT_SESSIONS_REVOKED,
    ENVIRONMENT_SETTINGS_UPDATED,
    ENVIRONMENT_ORIGIN_ADDED,
    ENVIRONMENT_ORIGIN_REMOVED,
    ENVIRONMENT_WEBHOOK_DISABLED,
    ENVIRONMENT_WEBHOOK_CREATED,
    ENVIRONMENT_WEBHOOK_UPDATED,
    ENVIRONMENT_WEBHOOK_SECRET_ROTATED,
    ENVIRONMENT_WEBHOOK_DELETED,
    USER_MFA_RESET,
    API_TOKEN_CREATED,
    API_TOKEN_ROTATED,
    API_TOKEN_DELETED,
    MEMBER_ADDED,
    MEMBER_UPDATED,
    MEMBER_REMOVED,
    ORGANIZATION_OWNERSHIP_TRANSFERRED,
];

pub const USER_CREATED: &str = "user.created";
pub const USER_DELETED: &str = "user.deleted";
pub const USER_SESSION_CREATED: &str = "user.session.created";
/// The user logged out or revoked their own session.
pub const USER_SESSION_REVOKED: &str = "user.session.revoked";
/// A member or API token revoked the session: one by one, or as part of a
/// user- or environment-wide revocation (one event per session).
pub const ADMIN_USER_SESSION_REVOKED: &str = "admin.user.session.revoked";
/// Every session of one user was revoked at once (besides one
/// `admin.user.session.revoked` per session).
pub const USER_SESSIONS_REVOKED: &str = "user.sessions.revoked";
pub const USER_MFA_DEVICE_ADDED: &str = "user.mfa.device.added";
pub const USER_MFA_DEVICE_REMOVED: &str = "user.mfa.device.removed";
pub const ENVIRONMENT_LOCKED: &str = "environment.locked";
pub const ENVIRONMENT_UNLOCKED: &str = "environment.unlocked";
pub const ENVIRONMENT_SETTINGS_UPDATED: &str = "environment.settings.updated";
pub const ENVIRONMENT_SESSIONS_REVOKED: &str = "environment.sessions.revoked";
pub const ENVIRONMENT_ORIGIN_ADDED: &str = "environment.origin.added";
pub const ENVIRONMENT_ORIGIN_REMOVED: &str = "environment.origin.removed";
/// Portcullis disabled a webhook endpoint whose deliveries kept failing.
pub const ENVIRONMENT_WEBHOOK_DISABLED: &str = "environment.webhook.disabled";
/// Webhook endpoints registered, changed, re-keyed or removed: who
/// receives the environment's session data is itself audited.
pub const ENVIRONMENT_WEBHOOK_CREATED: &str = "environment.webhook.created";
pub const ENVIRONMENT_WEBHOOK_UPDATED: &str = "environment.webhook.updated";
pub const ENVIRONMENT_WEBHOOK_SECRET_ROTATED: &str = "environment.webhook.secret_rotated";
pub const ENVIRONMENT_WEBHOOK_DELETED: &str = "environment.webhook.deleted";
/// An operator deleted all of a user's MFA devices.
pub const USER_MFA_RESET: &str = "user.mfa.reset";
/// API token events are recorded in every environment the token reaches
/// (one, or all of the organization's).
pub const API_TOKEN_CREATED: &str = "api_token.created";
pub const API_TOKEN_ROTATED: &str = "api_token.rotated";
pub const API_TOKEN_DELETED: &str = "api_token.deleted";
/// Organization members: like organization-wide tokens, recorded in every
/// environment of the organization.
pub const MEMBER_ADDED: &str = "member.added";
pub const MEMBER_UPDATED: &str = "member.updated";
pub const MEMBER_REMOVED: &str = "member.removed";
pub const ORGANIZATION_OWNERSHIP_TRANSFERRED: &str = "organization.ownership_transferred";
/// Sent on demand to test an endpoint (`…/webhooks/{id}/test`).
pub const PING: &str = "ping";

/// Fan-out kinds: an event that expands into one event per session.
pub const FANOUT_USER_SESSIONS: &str = "user_sessions";
pub const FANOUT_ENVIRONMENT_SESSIONS: &str = "environment_sessions";

pub fn is_event_type(kind: &str) -> bool {
    EVENT_TYPES.contains(&kind)
}

/// Whether an endpoint subscribed to `filter` (empty: every type but
/// `ping`, which goes only where it is sent) gets `kind`.
pub fn subscribed(filter: &[String], kind: &str) -> bool {
    match filter.is_empty() {
        true => kind != PING,
        false => filter.iter().any(|f| f == kind),
    }
}

/// Delays before the 2nd, 3rd … attempt, in seconds: 5 s, 5 min, 30 min,
/// 2 h, 5 h, 10 h, 10 h; about 27.6 hours from the first attempt to the
/// last (the Standard Webhooks reference schedule).
pub const RETRY_DELAYS_SECS: &[i64] = &[5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];

/// The wait before the next attempt after `attempts_made` failed ones, in
/// ms, with `jitter` (in [0, 1)) spreading it by up to +20 %; `None` when
/// no attempt is left.
pub fn retry_delay_ms(attempts_made: i64, jitter: f64) -> Option<i64> {
    let index = usize::try_from(attempts_made.checked_sub(1)?).ok()?;
    let base = RETRY_DELAYS_SECS.get(index)? * 1000;
    let jitter = jitter.clamp(0.0, 1.0);
    Some(base + (base as f64 * 0.2 * jitter) as i64)
}

/// Attempts a delivery gets in all.
pub fn max_attempts() -> i64 {
    RETRY_DELAYS_SECS.len() as i64 + 1
}

/// Whether an event of `kind` is mailed to the recipients, given the
/// settings' toggles (absent: on).
pub fn notifies(toggles: &std::collections::BTreeMap<String, bool>, kind: &str) -> bool {
    NOTIFIABLE.contains(&kind) && toggles.get(kind).copied().unwrap_or(true)
}

/// Stands, among an event's recipients, for the organization's owner and
/// admins, looked up when the mails are made: whom security e-mails go to
/// while the settings name no recipients. Never an e-mail address.
pub const ADMIN_MEMBERS: &str = "@admins";

/// Whom to mail about an event of `kind` under these settings.
pub fn recipients(settings: &NotificationSettings, kind: &str) -> Vec<String> {
    match notifies(&settings.events, kind) {
        true if settings.recipients.is_empty() => vec![ADMIN_MEMBERS.to_string()],
        true => settings.recipients.clone(),
        false => vec![],
    }
}

/// The recipients as stored with the event (`None`: nobody).
pub fn recipients_json(settings: &NotificationSettings, kind: &str) -> Option<String> {
    let recipients = recipients(settings, kind);
    (!recipients.is_empty()).then(|| serde_json::to_string(&recipients).unwrap_or_default())
}

/// A webhook's `events` filter as stored (a JSON array of types; empty:
/// every type but `ping`).
pub fn filter_of(stored: &str) -> Vec<String> {
    serde_json::from_str(stored).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_spread_over_about_a_day_then_stop() {
        assert_eq!(retry_delay_ms(0, 0.0), None);
        assert_eq!(retry_delay_ms(1, 0.0), Some(5_000));
        assert_eq!(retry_delay_ms(1, 0.999), Some(5_999));
        assert_eq!(retry_delay_ms(2, 0.5), Some(330_000));
        let total: i64 = (1..max_attempts())
            .map(|n| retry_delay_ms(n, 0.0).unwrap())
            .sum();
        assert!((86_400_000..2 * 86_400_000).contains(&total), "{total}");
        assert_eq!(retry_delay_ms(max_attempts(), 0.0), None);
        assert_eq!(max_attempts(), 8);
    }

    #[test]
    fn filters_name_types_and_empty_means_all_but_ping() {
        let all: Vec<String> = vec![];
        assert!(subscribed(&all, USER_SESSION_REVOKED));
        assert!(!subscribed(&all, PING));
        let some = vec![USER_SESSION_REVOKED.to_string(), PING.to_string()];
        assert!(subscribed(&some, USER_SESSION_REVOKED));
        assert!(subscribed(&some, PING));
        assert!(!subscribed(&some, ADMIN_USER_SESSION_REVOKED));
        assert!(EVENT_TYPES.iter().all(|t| is_event_type(t)));
        assert!(!is_event_type("user.*"));
    }

    #[test]
    fn notifications_are_on_for_security_events_unless_turned_off() {
        let mut toggles = std::collections::BTreeMap::new();
        assert!(notifies(&toggles, ENVIRONMENT_SETTINGS_UPDATED));
        assert!(!notifies(&toggles, USER_SESSION_REVOKED));
        toggles.insert(ENVIRONMENT_SETTINGS_UPDATED.to_string(), false);
        assert!(!notifies(&toggles, ENVIRONMENT_SETTINGS_UPDATED));
        assert!(NOTIFIABLE.iter().all(|k| is_event_type(k)));
    }
}
