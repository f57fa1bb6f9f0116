//! The security advisor's findings (API.md, `…/security/advisor`).

use serde::Serialize;

use crate::domain::advisor;

/// Advice about one of the environment's security settings.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Finding {
    /// The rule's stable id, e.g. `mfa_not_enforced` (docs/security-advisor.md).
    #[schema(example = "mfa_not_enforced")]
    pub rule: String,
    /// `critical`, `high`, `medium` or `low`.
    #[schema(example = "medium")]
    pub severity: String,
    /// Why, in one sentence.
    pub message: String,
    /// Where to fix it: an anchor of the dashboard's Settings > Security page
    /// (`mfa`, `origins`, `jwt-expiration`, `notifications`, `sessions`,
    /// `lock`) or a page of its own (`tokens`, `webhooks`, `members`).
    #[schema(example = "mfa")]
    pub setting: String,
}

impl From<advisor::Finding> for Finding {
    fn from(f: advisor::Finding) -> Self {
        Finding {
            rule: f.rule.to_string(),
            severity: f.severity.as_str().to_string(),
            message: f.message,
            setting: f.setting.as_str().to_string(),
        }
    }
}
