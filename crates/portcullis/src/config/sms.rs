//! The SMS provider (`[sms]` in the configuration file; README,
//! "Configuration"; docs/sign-in.md, "SMS codes").

use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::{ConfigError, invalid, within};
use crate::sms::TwilioSender;

pub const DEFAULT_TWILIO_BASE_URL: &str = "https://api.twilio.com";
pub const DEFAULT_SEND_DEADLINE_MS: u64 = 5_000;

/// The `[sms]` table as written.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsArgs {
    /// `file` (the default: `<data-dir>/sms/`), `twilio` or `webhook`.
    pub provider: Option<String>,
    pub twilio_account_sid: Option<String>,
    pub twilio_auth_token: Option<String>,
    pub twilio_from: Option<String>,
    pub twilio_messaging_service_sid: Option<String>,
    pub twilio_base_url: Option<String>,
    pub webhook_url: Option<String>,
    /// `whsec_` and the base64 key.
    pub webhook_secret: Option<String>,
    pub send_deadline_ms: Option<u64>,
}

/// Where codes go.
#[derive(Clone)]
pub enum SmsProvider {
    /// A JSON file per message under `<data-dir>/sms/` (development).
    File,
    /// A Twilio-compatible Messages API.
    Twilio {
        base_url: String,
        account_sid: String,
        auth_token: SecretString,
        sender: TwilioSender,
    },
    /// The operator's endpoint, signed as webhooks are.
    Webhook { url: String, secret: SecretString },
}

#[derive(Clone)]
pub struct SmsConfig {
    pub provider: SmsProvider,
    /// A send gives up (500 `internal`) after this long, retries included.
    pub send_deadline: Duration,
}

impl Default for SmsConfig {
    fn default() -> Self {
        SmsConfig {
            provider: SmsProvider::File,
            send_deadline: Duration::from_millis(DEFAULT_SEND_DEADLINE_MS),
        }
    }
}

/// Names the provider only: its settings hold secrets.
impl std::fmt::Debug for SmsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let provider = match &self.provider {
            SmsProvider::File => "file",
            SmsProvider::Twilio { .. } => "twilio",
            SmsProvider::Webhook { .. } => "webhook",
        };
        f.debug_struct("SmsConfig")
            .field("provider", &provider)
            .field("send_deadline", &self.send_deadline)
            .finish()
    }
}

fn required(field: &'static str, value: Option<String>) -> Result<String, ConfigError> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| invalid(field, "missing: the SMS provider needs it"))
}

fn http_url(field: &'static str, url: String) -> Result<String, ConfigError> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(url.trim_end_matches('/').to_string())
    } else {
        Err(invalid(field, "must start with https:// (or http://)"))
    }
}

impl SmsConfig {
    pub fn resolve(args: Option<SmsArgs>) -> Result<SmsConfig, ConfigError> {
        let args = args.unwrap_or_default();
        let send_deadline = Duration::from_millis(within(
            "sms.send_deadline_ms",
            args.send_deadline_ms,
            DEFAULT_SEND_DEADLINE_MS,
            60_000,
        )?);
        let provider = match args.provider.as_deref().unwrap_or("file") {
            "file" => SmsProvider::File,
            "twilio" => {
                let sender = match (args.twilio_from, args.twilio_messaging_service_sid) {
                    (Some(from), None) => TwilioSender::From(from),
                    (None, Some(service)) => TwilioSender::MessagingService(service),
                    _ => {
                        return Err(invalid(
                            "sms.twilio_from",
                            "give one of twilio_from and twilio_messaging_service_sid",
                        ));
                    }
                };
                SmsProvider::Twilio {
                    base_url: http_url(
                        "sms.twilio_base_url",
                        args.twilio_base_url
                            .unwrap_or_else(|| DEFAULT_TWILIO_BASE_URL.to_string()),
                    )?,
                    account_sid: required("sms.twilio_account_sid", args.twilio_account_sid)?,
                    auth_token: required("sms.twilio_auth_token", args.twilio_auth_token)?.into(),
                    sender,
                }
            }
            "webhook" => {
                let secret = required("sms.webhook_secret", args.webhook_secret)?;
                if !secret.starts_with(crate::crypto::WEBHOOK_SECRET_PREFIX) {
                    return Err(invalid("sms.webhook_secret", "must start with whsec_"));
                }
                SmsProvider::Webhook {
                    url: http_url(
                        "sms.webhook_url",
                        required("sms.webhook_url", args.webhook_url)?,
                    )?,
                    secret: secret.into(),
                }
            }
            other => {
                return Err(invalid(
                    "sms.provider",
                    format!("{other:?} is not one of file, twilio, webhook"),
                ));
            }
        };
        Ok(SmsConfig {
            provider,
            send_deadline,
        })
    }
}
