//! Each rule firing and not firing, and the order of the whole answer.

use super::*;
use crate::domain::origin::AllowedOrigin;
use crate::domain::origin_list;
use crate::domain::settings::MfaMethod;

const NOW: i64 = 1_800_000_000_000;

/// An environment that earns no finding: a `sandbox` whose settings and
/// surroundings follow every rule.
fn clean() -> AdvisorInput {
    let mut settings = SecuritySettings {
        token_storage: TokenStorage::Cookie,
        ..SecuritySettings::default()
    };
    settings.mfa.session_enforcement = true;
    settings.notifications.recipients = vec!["security@example.com".into()];
    AdvisorInput {
        live: false,
        settings,
        allows_every_origin: false,
        origin_warnings: vec![],
        subscribed_revocation_events: vec![ADMIN_USER_SESSION_REVOKED],
        tokens: vec![TokenFacts {
            id: "tok_1".into(),
            note: "ci".into(),
            created_at: NOW - DAY_MS,
            rotated_at: None,
        }],
        members: vec![
            MemberFacts {
                email: "owner@example.com".into(),
                role: Role::Owner,
                has_totp: true,
            },
            MemberFacts {
                email: "dev@example.com".into(),
                role: Role::Developer,
                has_totp: false,
            },
        ],
        now: NOW,
    }
}

fn rules_of(found: &[Finding]) -> Vec<&'static str> {
    found.iter().map(|f| f.rule).collect()
}

#[test]
fn a_clean_environment_earns_nothing() {
    assert_eq!(findings(&clean()), vec![]);
}

#[test]
fn a_token_over_a_day_is_flagged() {
    let mut input = clean();
    input.settings.jwt_expiration_seconds = DAY_SECONDS;
    assert!(jwt_lifetime(&input).is_empty(), "a day exactly is fine");
    input.settings.jwt_expiration_seconds = DAY_SECONDS + 1;
    let found = jwt_lifetime(&input);
    assert_eq!(rules_of(&found), ["jwt_lifetime_over_a_day"]);
    assert_eq!(found[0].severity, Severity::High);
    assert_eq!(found[0].setting, Setting::JwtExpiration);
    assert!(
        found[0].message.contains("24 hours"),
        "{}",
        found[0].message
    );
}

#[test]
fn over_two_hours_is_flagged_only_without_mfa() {
    let mut input = clean();
    input.settings.jwt_expiration_seconds = 3 * HOUR_SECONDS;
    assert!(jwt_lifetime(&input).is_empty(), "MFA is on");
    input.settings.mfa.enrollment = MfaEnrollment::Off;
    assert_eq!(
        rules_of(&jwt_lifetime(&input)),
        ["jwt_lifetime_long_without_mfa"]
    );
    input.settings.mfa.enrollment = MfaEnrollment::Optional;
    input.settings.mfa.methods = vec![];
    assert_eq!(
        rules_of(&jwt_lifetime(&input)),
        ["jwt_lifetime_long_without_mfa"]
    );
    input.settings.jwt_expiration_seconds = 2 * HOUR_SECONDS;
    assert!(jwt_lifetime(&input).is_empty(), "two hours exactly is fine");
    // Over a day without MFA: both.
    input.settings.jwt_expiration_seconds = 2 * DAY_SECONDS;
    assert_eq!(
        rules_of(&jwt_lifetime(&input)),
        ["jwt_lifetime_over_a_day", "jwt_lifetime_long_without_mfa"]
    );
}

#[test]
fn mfa_offered_but_never_required_is_flagged() {
    let mut input = clean();
    input.settings.mfa.session_enforcement = false;
    input.settings.mfa.action_enforcement.enabled = false;
    let found = mfa_not_enforced(&input);
    assert_eq!(rules_of(&found), ["mfa_not_enforced"]);
    assert_eq!(found[0].setting, Setting::Mfa);
    input.settings.mfa.action_enforcement.enabled = true;
    assert!(mfa_not_enforced(&input).is_empty(), "actions need it");
    input.settings.mfa.action_enforcement.enabled = false;
    input.settings.mfa.session_enforcement = true;
    assert!(mfa_not_enforced(&input).is_empty(), "sessions need it");
    // MFA off altogether is not this rule's business.
    input.settings.mfa.session_enforcement = false;
    input.settings.mfa.enrollment = MfaEnrollment::Off;
    assert!(mfa_not_enforced(&input).is_empty());
    input.settings.mfa.enrollment = MfaEnrollment::Required;
    input.settings.mfa.methods = vec![MfaMethod::Passkey];
    assert_eq!(rules_of(&mfa_not_enforced(&input)), ["mfa_not_enforced"]);
}

#[test]
fn only_a_live_environment_with_an_empty_list_is_flagged() {
    let mut input = clean();
    input.allows_every_origin = true;
    assert!(live_allows_every_origin(&input).is_empty(), "sandbox");
    input.live = true;
    let found = live_allows_every_origin(&input);
    assert_eq!(rules_of(&found), ["live_allows_every_origin"]);
    assert_eq!(found[0].severity, Severity::Critical);
    input.allows_every_origin = false;
    assert!(live_allows_every_origin(&input).is_empty(), "a list");
}

#[test]
fn each_origin_warning_is_a_finding() {
    let listed = [
        "https://my-app-*.vercel.app",
        "http://localhost:3200",
        "https://app.example.com",
    ];
    let parsed: Vec<AllowedOrigin> = listed
        .iter()
        .map(|o| AllowedOrigin::parse(o).unwrap())
        .collect();
    let warnings =
        |live| origin_list::warnings(live, listed.iter().copied().zip(parsed.iter().map(Some)));
    let mut input = clean();
    input.origin_warnings = warnings(false);
    assert!(risky_origins(&input).is_empty(), "sandbox");
    input.origin_warnings = warnings(true);
    let found = risky_origins(&input);
    assert_eq!(
        rules_of(&found),
        ["wildcard_origin", "local_origin", "insecure_origin"]
    );
    assert_eq!(
        found.iter().map(|f| f.severity).collect::<Vec<_>>(),
        [Severity::High, Severity::Medium, Severity::High]
    );
    assert!(found.iter().all(|f| f.setting == Setting::Origins));
    assert!(
        found[1]
            .message
            .starts_with("Allowed origin http://localhost:3200: "),
        "{}",
        found[1].message
    );
}

#[test]
fn cookie_storage_without_an_origin_list_is_a_high_finding() {
    let mut input = clean();
    assert!(cookie_storage_without_origins(&input).is_empty(), "listed");
    input.allows_every_origin = true;
    let found = cookie_storage_without_origins(&input);
    assert_eq!(rules_of(&found), ["cookie_storage_without_origins"]);
    assert_eq!(found[0].severity, Severity::High);
    assert_eq!(found[0].setting, Setting::Origins);
    input.settings.token_storage = TokenStorage::InApp;
    assert!(cookie_storage_without_origins(&input).is_empty(), "in app");
}

#[test]
fn in_app_storage_is_a_low_finding() {
    let mut input = clean();
    assert!(token_storage_in_app(&input).is_empty(), "cookie");
    input.settings.token_storage = TokenStorage::InApp;
    let found = token_storage_in_app(&input);
    assert_eq!(rules_of(&found), ["token_storage_in_app"]);
    assert_eq!(found[0].severity, Severity::Low);
    assert_eq!(found[0].setting, Setting::TokenStorage);
}

#[test]
fn a_token_never_rotated_in_90_days_is_flagged() {
    let mut input = clean();
    let old = NOW - TOKEN_ROTATION_DAYS * DAY_MS - 1;
    input.tokens = vec![
        TokenFacts {
            id: "tok_old".into(),
            note: "deploy".into(),
            created_at: old,
            rotated_at: None,
        },
        TokenFacts {
            id: "tok_rotated".into(),
            note: "ci".into(),
            created_at: old,
            rotated_at: Some(NOW - DAY_MS),
        },
        TokenFacts {
            id: "tok_90_days".into(),
            note: "exactly".into(),
            created_at: NOW - TOKEN_ROTATION_DAYS * DAY_MS,
            rotated_at: None,
        },
    ];
    let found = stale_api_tokens(&input);
    assert_eq!(rules_of(&found), ["api_token_not_rotated"]);
    assert_eq!(found[0].setting, Setting::Tokens);
    assert!(
        found[0].message.contains("tok_old") && found[0].message.contains("90 days"),
        "{}",
        found[0].message
    );
}

#[test]
fn no_webhook_for_revocations_is_flagged() {
    let mut input = clean();
    assert!(no_revocation_webhook(&input).is_empty());
    input.subscribed_revocation_events = vec![USER_SESSION_REVOKED];
    assert!(no_revocation_webhook(&input).is_empty());
    input.subscribed_revocation_events = vec![];
    let found = no_revocation_webhook(&input);
    assert_eq!(rules_of(&found), ["no_revocation_webhook"]);
    assert_eq!(found[0].setting, Setting::Webhooks);
}

#[test]
fn notifications_off_or_without_recipients_are_flagged() {
    let mut input = clean();
    assert!(notifications(&input).is_empty());
    let toggles = &mut input.settings.notifications.events;
    toggles.insert(events::ENVIRONMENT_LOCKED.into(), false);
    toggles.insert(events::ENVIRONMENT_UNLOCKED.into(), false);
    assert_eq!(rules_of(&notifications(&input)), ["lock_notification_off"]);
    let toggles = &mut input.settings.notifications.events;
    toggles.insert(events::ENVIRONMENT_SETTINGS_UPDATED.into(), false);
    toggles.insert(events::ENVIRONMENT_LOCKED.into(), true);
    assert_eq!(
        rules_of(&notifications(&input)),
        ["settings_notification_off"]
    );
    input.settings.notifications.events.clear();
    input.settings.notifications.recipients.clear();
    let found = notifications(&input);
    assert_eq!(rules_of(&found), ["no_notification_recipients"]);
    assert_eq!(found[0].severity, Severity::Low);
    assert!(found.iter().all(|f| f.setting == Setting::Notifications));
}

#[test]
fn owners_and_admins_without_totp_are_flagged_one_by_one() {
    let mut input = clean();
    let member = |email: &str, role, has_totp| MemberFacts {
        email: email.into(),
        role,
        has_totp,
    };
    input.members = vec![
        member("owner@example.com", Role::Owner, false),
        member("ada@example.com", Role::Admin, false),
        member("bob@example.com", Role::Admin, true),
        member("dev@example.com", Role::Developer, false),
        member("view@example.com", Role::Viewer, false),
    ];
    let found = members_without_totp(&input);
    assert_eq!(
        rules_of(&found),
        ["member_without_totp", "member_without_totp"]
    );
    assert!(found[0].message.starts_with("owner@example.com (owner)"));
    assert!(found[1].message.starts_with("ada@example.com (admin)"));
    assert!(found.iter().all(|f| f.setting == Setting::Members));
}

#[test]
fn findings_come_most_severe_first_then_by_rule() {
    let mut input = clean();
    input.live = true;
    input.allows_every_origin = true;
    input.settings = SecuritySettings::default();
    input.subscribed_revocation_events = vec![];
    input.members[0].has_totp = false;
    let found = findings(&input);
    assert_eq!(
        rules_of(&found),
        [
            "live_allows_every_origin",
            "member_without_totp",
            "mfa_not_enforced",
            "no_revocation_webhook",
            "no_notification_recipients",
            "token_storage_in_app",
        ]
    );
    let severities: Vec<Severity> = found.iter().map(|f| f.severity).collect();
    assert!(severities.is_sorted(), "{severities:?}");
    assert_eq!(Severity::Critical.as_str(), "critical");
    assert_eq!(Setting::JwtExpiration.as_str(), "jwt-expiration");
}

#[test]
fn a_caller_who_may_not_list_members_and_tokens_sees_them_counted_not_named() {
    let named = vec![
        finding(
            "member_without_totp",
            Severity::High,
            Setting::Members,
            "ada@example.com (owner) …".into(),
        ),
        finding(
            "member_without_totp",
            Severity::High,
            Setting::Members,
            "bob@example.com (admin) …".into(),
        ),
        finding(
            "api_token_not_rotated",
            Severity::Medium,
            Setting::Tokens,
            "API token tok_1 (\"ci\") …".into(),
        ),
        finding(
            "token_storage_in_app",
            Severity::Low,
            Setting::Sessions,
            "kept".into(),
        ),
    ];
    let seen = redacted(named);
    let rules: Vec<&str> = seen.iter().map(|f| f.rule).collect();
    assert_eq!(
        rules,
        [
            "member_without_totp",
            "api_token_not_rotated",
            "token_storage_in_app"
        ]
    );
    let text: String = seen.iter().map(|f| f.message.as_str()).collect();
    assert!(
        !text.contains("ada@") && !text.contains("bob@") && !text.contains("tok_1"),
        "{text}"
    );
    assert!(
        seen[0]
            .message
            .starts_with("2 of the organization's owners and admins")
    );
    assert!(seen[1].message.starts_with("1 API tokens"));
    assert!(redacted(vec![]).is_empty());
}
