//! The security advisor's rules (docs/security-advisor.md): each a plain
//! function over the facts of one environment (`AdvisorInput`), answering
//! the findings it earns. No I/O: the service gathers the facts.

use super::events::{self, ADMIN_USER_SESSION_REVOKED, USER_SESSION_REVOKED};
use super::origin_list::OriginWarning;
use super::roles::Role;
use super::settings::{MfaEnrollment, SecuritySettings, TokenStorage};

/// How urgent a finding is; ordered, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
        }
    }
}

/// Where a finding is fixed: an anchor of the dashboard's Settings >
/// Security page, or (tokens, webhooks, members) a page of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Mfa,
    Origins,
    JwtExpiration,
    TokenStorage,
    Notifications,
    Sessions,
    Lock,
    Tokens,
    Webhooks,
    Members,
}

impl Setting {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mfa => "mfa",
            Self::Origins => "origins",
            Self::JwtExpiration => "jwt-expiration",
            Self::TokenStorage => "token-storage",
            Self::Notifications => "notifications",
            Self::Sessions => "sessions",
            Self::Lock => "lock",
            Self::Tokens => "tokens",
            Self::Webhooks => "webhooks",
            Self::Members => "members",
        }
    }
}

/// One piece of advice: which rule, how urgent, why (one sentence), and
/// where to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// A stable snake_case id.
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub setting: Setting,
}

/// An API token that reaches the environment (organization-wide or
/// limited to it) and still works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFacts {
    pub id: String,
    pub note: String,
    /// Unix ms.
    pub created_at: i64,
    pub rotated_at: Option<i64>,
}

/// A member of the environment's organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFacts {
    pub email: String,
    pub role: Role,
    /// A confirmed TOTP authenticator.
    pub has_totp: bool,
}

/// What the rules look at, for one environment.
#[derive(Debug, Clone)]
pub struct AdvisorInput {
    /// The environment's kind is `live`.
    pub live: bool,
    pub settings: SecuritySettings,
    /// Nothing is on the allowed-origins list (so every origin is allowed).
    pub allows_every_origin: bool,
    /// The advice the origins list earns (`origin_list::warnings`).
    pub origin_warnings: Vec<OriginWarning>,
    /// Which of `REVOCATION_EVENTS` an enabled webhook takes.
    pub subscribed_revocation_events: Vec<&'static str>,
    pub tokens: Vec<TokenFacts>,
    pub members: Vec<MemberFacts>,
    /// Unix ms.
    pub now: i64,
}

/// The session revocations a backend should hear about by webhook.
pub const REVOCATION_EVENTS: [&str; 2] = [USER_SESSION_REVOKED, ADMIN_USER_SESSION_REVOKED];

const HOUR_SECONDS: u32 = 3600;
const DAY_SECONDS: u32 = 24 * HOUR_SECONDS;
/// Past this age an API token that was never rotated earns a finding.
pub const TOKEN_ROTATION_DAYS: i64 = 90;
const DAY_MS: i64 = 86_400_000;

/// Every rule's findings, most severe first, then by rule (stable within
/// one rule).
pub fn findings(input: &AdvisorInput) -> Vec<Finding> {
    let rules: [fn(&AdvisorInput) -> Vec<Finding>; 10] = [
        jwt_lifetime,
        mfa_not_enforced,
        live_allows_every_origin,
        risky_origins,
        token_storage_in_app,
        cookie_storage_without_origins,
        stale_api_tokens,
        no_revocation_webhook,
        notifications,
        members_without_totp,
    ];
    sorted(rules.iter().flat_map(|rule| rule(input)).collect())
}

/// Most severe first, then by rule (stable within one rule).
fn sorted(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by_key(|f| (f.severity, f.rule));
    findings
}

fn finding(rule: &'static str, severity: Severity, setting: Setting, message: String) -> Finding {
    Finding {
        rule,
        severity,
        message,
        setting,
    }
}

/// MFA is on when some method is offered and enrolment is not `off`.
fn mfa_on(settings: &SecuritySettings) -> bool {
    !settings.mfa.methods.is_empty() && settings.mfa.enrollment != MfaEnrollment::Off
}

/// Tokens that live over a day; over two hours when MFA is off.
pub fn jwt_lifetime(input: &AdvisorInput) -> Vec<Finding> {
    let seconds = input.settings.jwt_expiration_seconds;
    let hours = seconds / HOUR_SECONDS;
    let mut out = vec![];
    if seconds > DAY_SECONDS {
        out.push(finding(
            "jwt_lifetime_over_a_day",
            Severity::High,
            Setting::JwtExpiration,
            format!(
                "Session tokens live {hours} hours, so a stolen token stays usable for over a \
                 day; keep the lifetime at a day or less."
            ),
        ));
    }
    if seconds > 2 * HOUR_SECONDS && !mfa_on(&input.settings) {
        out.push(finding(
            "jwt_lifetime_long_without_mfa",
            Severity::Medium,
            Setting::JwtExpiration,
            format!(
                "Session tokens live {hours} hours while MFA is off, so one stolen factor gives \
                 long access; shorten the lifetime to two hours or turn MFA on."
            ),
        ));
    }
    out
}

/// MFA methods on offer, but nothing asks for them.
pub fn mfa_not_enforced(input: &AdvisorInput) -> Vec<Finding> {
    let mfa = &input.settings.mfa;
    if !mfa_on(&input.settings) || mfa.session_enforcement || mfa.action_enforcement.enabled {
        return vec![];
    }
    vec![finding(
        "mfa_not_enforced",
        Severity::Medium,
        Setting::Mfa,
        "MFA is offered but neither sessions nor sensitive actions require it, so a user's \
         second factor never stops an attacker holding the first."
            .into(),
    )]
}

/// A `live` environment whose empty list lets every origin call the SDK.
pub fn live_allows_every_origin(input: &AdvisorInput) -> Vec<Finding> {
    if !(input.live && input.allows_every_origin) {
        return vec![];
    }
    vec![finding(
        "live_allows_every_origin",
        Severity::Critical,
        Setting::Origins,
        "This live environment lists no allowed origins, so any website can call its SDK API; \
         list your application's origins."
            .into(),
    )]
}

/// One finding per warning of the origins list: wildcards, local and
/// `http:` origins on `live`, stored origins that no longer parse.
pub fn risky_origins(input: &AdvisorInput) -> Vec<Finding> {
    input
        .origin_warnings
        .iter()
        .map(|w| {
            let severity = match w.code {
                "wildcard_origin" | "insecure_origin" => Severity::High,
                "local_origin" => Severity::Medium,
                _ => Severity::Low,
            };
            finding(
                w.code,
                severity,
                Setting::Origins,
                format!("Allowed origin {}: {}.", w.origin, w.message),
            )
        })
        .collect()
}

/// Tokens kept where the page's scripts can read them.
pub fn token_storage_in_app(input: &AdvisorInput) -> Vec<Finding> {
    if input.settings.token_storage != TokenStorage::InApp {
        return vec![];
    }
    vec![finding(
        "token_storage_in_app",
        Severity::Low,
        Setting::TokenStorage,
        "Session tokens are stored by the application where its scripts can read them, so a \
         cross-site scripting flaw can steal them; use cookie storage where the application \
         and Portcullis share a site."
            .into(),
    )]
}

/// Cookie storage with nothing on the origin list: the server then sends
/// no credentialed CORS answers (any site could otherwise act with the
/// user's cookie), so the application's pages cannot sign in.
pub fn cookie_storage_without_origins(input: &AdvisorInput) -> Vec<Finding> {
    if input.settings.token_storage != TokenStorage::Cookie || !input.allows_every_origin {
        return vec![];
    }
    vec![finding(
        "cookie_storage_without_origins",
        Severity::High,
        Setting::Origins,
        "Session tokens are kept in cookies but no origin is allowed by name: cookies are \
         only sent for origins on the list (with an empty list any site could act with a \
         user's cookie), so sign-in from the application's pages fails; add its origins."
            .into(),
    )]
}

/// API tokens older than `TOKEN_ROTATION_DAYS` that were never rotated.
pub fn stale_api_tokens(input: &AdvisorInput) -> Vec<Finding> {
    input
        .tokens
        .iter()
        .filter(|t| t.rotated_at.is_none())
        .filter(|t| input.now - t.created_at > TOKEN_ROTATION_DAYS * DAY_MS)
        .map(|t| {
            let days = (input.now - t.created_at) / DAY_MS;
            finding(
                "api_token_not_rotated",
                Severity::Medium,
                Setting::Tokens,
                format!(
                    "API token {} ({:?}) is {days} days old and was never rotated, so a leak \
                     of its secret would still work; rotate it.",
                    t.id, t.note
                ),
            )
        })
        .collect()
}

/// No enabled webhook tells the application about revoked sessions.
pub fn no_revocation_webhook(input: &AdvisorInput) -> Vec<Finding> {
    if !input.subscribed_revocation_events.is_empty() {
        return vec![];
    }
    vec![finding(
        "no_revocation_webhook",
        Severity::Medium,
        Setting::Webhooks,
        format!(
            "No enabled webhook takes {} or {}, so your backend learns of revoked sessions only \
             when it checks them.",
            REVOCATION_EVENTS[0], REVOCATION_EVENTS[1]
        ),
    )]
}

/// Security e-mails off for the lock or for settings changes, or sent to
/// no one but the owner and admins.
pub fn notifications(input: &AdvisorInput) -> Vec<Finding> {
    let n = &input.settings.notifications;
    let mut out = vec![];
    for (kind, rule) in [
        (events::ENVIRONMENT_LOCKED, "lock_notification_off"),
        (
            events::ENVIRONMENT_SETTINGS_UPDATED,
            "settings_notification_off",
        ),
    ] {
        if !events::notifies(&n.events, kind) {
            out.push(finding(
                rule,
                Severity::Medium,
                Setting::Notifications,
                format!("No e-mail is sent for {kind}, so such a change can go unnoticed."),
            ));
        }
    }
    if n.recipients.is_empty() {
        out.push(finding(
            "no_notification_recipients",
            Severity::Low,
            Setting::Notifications,
            "Security e-mails have no recipients of their own and go only to the owner and \
             admins; add an address your security team reads."
                .into(),
        ));
    }
    out
}

/// Owners and admins who sign in to the dashboard without TOTP.
pub fn members_without_totp(input: &AdvisorInput) -> Vec<Finding> {
    input
        .members
        .iter()
        .filter(|m| m.role.allows(Role::Admin) && !m.has_totp)
        .map(|m| {
            finding(
                "member_without_totp",
                Severity::High,
                Setting::Members,
                format!(
                    "{} ({}) has no TOTP authenticator, so their e-mail alone gives {} access \
                     to the dashboard.",
                    m.email,
                    m.role.as_str(),
                    m.role.as_str()
                ),
            )
        })
        .collect()
}

/// The findings as a caller who may not list members and API tokens sees
/// them: the findings that name a member or a token become one finding per
/// rule that counts them, so a `viewer` learns that something needs fixing
/// but not which privileged addresses lack a second factor.
pub fn redacted(findings: Vec<Finding>) -> Vec<Finding> {
    let count = |rule: &str| findings.iter().filter(|f| f.rule == rule).count();
    let (members, tokens) = (count("member_without_totp"), count("api_token_not_rotated"));
    let mut out: Vec<Finding> = findings
        .into_iter()
        .filter(|f| f.rule != "member_without_totp" && f.rule != "api_token_not_rotated")
        .collect();
    if members > 0 {
        out.push(finding(
            "member_without_totp",
            Severity::High,
            Setting::Members,
            format!(
                "{members} of the organization's owners and admins have no TOTP authenticator, \
                 so an e-mail alone gives their access to the dashboard."
            ),
        ));
    }
    if tokens > 0 {
        out.push(finding(
            "api_token_not_rotated",
            Severity::Medium,
            Setting::Tokens,
            format!(
                "{tokens} API tokens that reach this environment are over \
                 {TOKEN_ROTATION_DAYS} days old and were never rotated; an admin can rotate them."
            ),
        ));
    }
    sorted(out)
}

#[cfg(test)]
mod tests;
