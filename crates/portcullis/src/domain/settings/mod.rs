//! An environment's security settings (API.md, "Security settings"), their
//! defaults, and how a PATCH is applied: an RFC 7396 JSON merge patch on the
//! current settings, then the result is parsed (unknown keys refused) and
//! validated as a whole.

use serde::{Deserialize, Serialize};
use serde_json::Value;

mod sign_in;

pub use sign_in::{
    ChainSettings, EmailSignInSettings, MAX_CALLING_CODES, MAX_CHAIN_ID, MAX_CHAINS,
    MAX_SMS_MAX_PER_HOUR, SignInSettings, SmsSignInSettings, WalletSignInSettings,
    validate_rpc_urls,
};

use super::algorithm::TokenAlgorithm;
use super::validation::ValidationErrors;

/// Settings as stored (the store reads an environment's settings through
/// this): JSON that does not parse is an error, never a panic.
impl TryFrom<String> for SecuritySettings {
    type Error = serde_json::Error;

    fn try_from(json: String) -> Result<Self, serde_json::Error> {
        serde_json::from_str(&json)
    }
}

pub const DEFAULT_JWT_EXPIRATION_SECONDS: u32 = 7200;
pub const MIN_JWT_EXPIRATION_SECONDS: u32 = 300;
pub const MAX_JWT_EXPIRATION_SECONDS: u32 = 2_592_000;
pub const MAX_NOTIFICATION_RECIPIENTS: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    pub jwt_expiration_seconds: u32,
    pub token_algorithm: TokenAlgorithm,
    pub token_storage: TokenStorage,
    /// Cookie mode: the `Domain` of the session cookies, so that
    /// `auth.example.com` can serve `app.example.com` (`example.com`).
    /// Unset: the cookies are the server host's alone.
    #[serde(default)]
    pub cookie_domain: Option<String>,
    pub mfa: MfaSettings,
    /// Where passkeys are valid. Absent in settings stored before it
    /// existed: the defaults then.
    #[serde(default)]
    pub passkeys: PasskeySettings,
    pub notifications: NotificationSettings,
    /// The sign-in methods offered. Absent in settings stored before it
    /// existed: the defaults then.
    #[serde(default)]
    pub sign_in: SignInSettings,
    /// Chains whose contract wallets may sign in (EIP-1271).
    #[serde(default)]
    pub chains: Vec<ChainSettings>,
}

/// The WebAuthn relying party of an environment. `rp_id` unset: the host
/// of the server's public URL, with that URL as the one origin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeySettings {
    /// A domain name (not an IP address), e.g. `example.com`.
    pub rp_id: Option<String>,
    /// Shown by authenticators; default "Portcullis".
    pub rp_name: Option<String>,
    /// The web origins (`https://app.example.com`, or `http://localhost:PORT`)
    /// whose pages may use the passkeys: each on `rp_id` or a subdomain.
    pub origins: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenStorage {
    InApp,
    Cookie,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MfaMethod {
    Totp,
    Passkey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MfaEnrollment {
    Off,
    Optional,
    Required,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaSettings {
    pub methods: Vec<MfaMethod>,
    pub enrollment: MfaEnrollment,
    pub session_enforcement: bool,
    pub action_enforcement: ActionEnforcement,
    pub recovery_codes: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionEnforcement {
    pub enabled: bool,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettings {
    pub recipients: Vec<String>,
    #[schema(value_type = Object)]
    pub events: std::collections::BTreeMap<String, bool>,
}

/// Stands, among an event's recipients, for the organization's owner and
/// admins, looked up when the mails are made: whom security e-mails go to
/// while the settings name no recipients. Never an e-mail address.
pub const ADMIN_MEMBERS: &str = "@admins";

impl NotificationSettings {
    /// Whom to mail about an event of `kind` under these settings.
    pub fn recipients(&self, kind: &str) -> Vec<String> {
        match super::events::notifies(&self.events, kind) {
            true if self.recipients.is_empty() => vec![ADMIN_MEMBERS.to_string()],
            true => self.recipients.clone(),
            false => vec![],
        }
    }

    /// The recipients as stored with the event (`None`: nobody).
    pub fn recipients_json(&self, kind: &str) -> Option<String> {
        let recipients = self.recipients(kind);
        (!recipients.is_empty()).then(|| serde_json::to_string(&recipients).unwrap_or_default())
    }
}

/// A DNS name as WebAuthn takes it for an RP id: lower-case labels of
/// letters, digits and inner hyphens; not all digits (no IPv4).
pub fn is_domain_name(s: &str) -> bool {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    s.len() <= 253
        && s.split('.').all(label_ok)
        && !s.split('.').all(|l| l.bytes().all(|b| b.is_ascii_digit()))
}

impl PasskeySettings {
    fn validate(&self, errors: &mut ValidationErrors) {
        let Some(rp_id) = &self.rp_id else {
            if !self.origins.is_empty() {
                errors.push("passkeys.rp_id", "is needed when origins are listed");
            }
            return;
        };
        if !is_domain_name(rp_id) {
            errors.push(
                "passkeys.rp_id",
                "must be a lower-case domain name such as example.com (not an IP address)",
            );
            return;
        }
        if self.origins.is_empty() {
            errors.push("passkeys.origins", "must list at least one origin");
        }
        for (i, origin) in self.origins.iter().enumerate() {
            if let Err(why) = passkey_origin(origin, rp_id) {
                errors.push(format!("passkeys.origins[{i}]"), why);
            }
        }
    }
}

/// An origin pages may use passkeys from: `https://host[:port]` on the RP
/// id or a subdomain, or `http://localhost[:port]` for development.
fn passkey_origin(origin: &str, rp_id: &str) -> Result<(), &'static str> {
    let (scheme, rest) = origin
        .split_once("://")
        .ok_or("must be scheme://host[:port]")?;
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    if port.is_some_and(|p| p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit())) {
        return Err("has a bad port");
    }
    if !is_domain_name(host) {
        return Err("must have a lower-case domain name as host, and no path");
    }
    if host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
        return Err("must be on passkeys.rp_id or a subdomain of it");
    }
    match scheme {
        "https" => Ok(()),
        "http" if host == "localhost" => Ok(()),
        _ => Err("must be https (http only for localhost)"),
    }
}

/// The action scopes an elevated token can be asked for.
pub const ACTION_SCOPES: [&str; 4] = [
    "credential:link",
    "credential:unlink",
    "wallet:sign",
    "wallet:export",
];

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            jwt_expiration_seconds: DEFAULT_JWT_EXPIRATION_SECONDS,
            token_algorithm: TokenAlgorithm::Rs256,
            token_storage: TokenStorage::InApp,
            cookie_domain: None,
            mfa: MfaSettings {
                methods: vec![MfaMethod::Totp, MfaMethod::Passkey],
                enrollment: MfaEnrollment::Optional,
                session_enforcement: false,
                action_enforcement: ActionEnforcement {
                    enabled: false,
                    scopes: ACTION_SCOPES.iter().map(|s| s.to_string()).collect(),
                },
                recovery_codes: true,
            },
            passkeys: PasskeySettings::default(),
            notifications: NotificationSettings {
                recipients: vec![],
                events: Default::default(),
            },
            sign_in: SignInSettings::default(),
            chains: Vec::new(),
        }
    }
}

impl SecuritySettings {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let exp = self.jwt_expiration_seconds;
        if !(MIN_JWT_EXPIRATION_SECONDS..=MAX_JWT_EXPIRATION_SECONDS).contains(&exp) {
            errors.push(
                "jwt_expiration_seconds",
                format!(
                    "must be between {MIN_JWT_EXPIRATION_SECONDS} and {MAX_JWT_EXPIRATION_SECONDS}"
                ),
            );
        }
        for (i, scope) in self.mfa.action_enforcement.scopes.iter().enumerate() {
            if !ACTION_SCOPES.contains(&scope.as_str()) {
                errors.push(
                    format!("mfa.action_enforcement.scopes[{i}]"),
                    format!("must be one of {}", ACTION_SCOPES.join(", ")),
                );
            }
        }
        let scopes = &self.mfa.action_enforcement.scopes;
        if (1..scopes.len()).any(|i| scopes[..i].contains(&scopes[i])) {
            errors.push("mfa.action_enforcement.scopes", "must not repeat a scope");
        }
        let methods = &self.mfa.methods;
        if (1..methods.len()).any(|i| methods[..i].contains(&methods[i])) {
            errors.push("mfa.methods", "must not repeat a method");
        }
        if self.mfa.methods.is_empty() && self.mfa.enrollment != MfaEnrollment::Off {
            errors.push(
                "mfa.methods",
                "must name at least one method unless enrollment is off",
            );
        }
        if let Some(domain) = &self.cookie_domain
            && !is_domain_name(domain)
        {
            errors.push(
                "cookie_domain",
                "must be a lower-case domain name such as example.com (not an IP address)",
            );
        }
        self.passkeys.validate(&mut errors);
        self.sign_in.validate(&mut errors);
        sign_in::validate_chains(&self.chains, &mut errors);
        if self.notifications.recipients.len() > MAX_NOTIFICATION_RECIPIENTS {
            errors.push(
                "notifications.recipients",
                format!("at most {MAX_NOTIFICATION_RECIPIENTS} recipients"),
            );
        }
        for kind in self.notifications.events.keys() {
            if !super::events::NOTIFIABLE.contains(&kind.as_str()) {
                errors.push(
                    format!("notifications.events.{kind}"),
                    format!(
                        "is not an event notifications are sent for ({})",
                        super::events::NOTIFIABLE.join(", ")
                    ),
                );
            }
        }
        for (i, r) in self.notifications.recipients.iter().enumerate() {
            if super::email::EmailAddress::parse(r).is_err() {
                errors.push(
                    format!("notifications.recipients[{i}]"),
                    "must be an e-mail address",
                );
            }
        }
        errors.into_result()
    }

    /// The rules that need the environment around the settings:
    /// `public_host`, the host of the server's public URL, and whether the
    /// environment's origin list is empty (every origin allowed).
    pub fn validate_for(
        &self,
        public_host: Option<&str>,
        allows_every_origin: bool,
    ) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.token_storage == TokenStorage::Cookie && allows_every_origin {
            errors.push(
                "token_storage",
                "cookie storage needs at least one allowed origin: with an empty list any \
                 site could send requests that carry the user's cookie",
            );
        }
        if let (Some(domain), Some(host)) = (&self.cookie_domain, public_host)
            && host != domain
            && !host.ends_with(&format!(".{domain}"))
        {
            errors.push(
                "cookie_domain",
                format!(
                    "must be the server's host ({host}) or a parent domain of it, or browsers \
                     refuse the cookies"
                ),
            );
        }
        errors.into_result()
    }

    /// Applies a JSON merge patch and validates the result. The current
    /// settings are untouched on error.
    pub fn patched(&self, patch: &Value) -> Result<Self, ValidationErrors> {
        if !patch.is_object() {
            return Err(ValidationErrors::single(
                "",
                "the body must be a JSON object",
            ));
        }
        let mut doc = serde_json::to_value(self)
            .map_err(|_| ValidationErrors::single("", "unreadable settings"))?;
        merge_patch(&mut doc, patch);
        let next: Self = serde_path_to_error::deserialize(doc).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { String::new() } else { path };
            ValidationErrors::single(field, e.into_inner().to_string())
        })?;
        next.validate()?;
        Ok(next)
    }
}

/// RFC 7396: objects merge key by key, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(target_map) = target {
        for (key, value) in patch_map {
            if value.is_null() {
                target_map.remove(key);
            } else {
                merge_patch(target_map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests;
