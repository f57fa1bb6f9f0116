//! Configuration: flags, each also an environment variable, over an
//! optional TOML file (`--config`, unknown keys refused), over defaults.
//! Precedence: flag or variable > file > default. One struct,
//! [`ConfigArgs`], is both the flags (clap, which also reads the
//! variables) and the file's keys (serde); figment lays the flags' layer
//! over the file's key by key, and [`Config::resolve`] checks the values.

use crate::store::Backend;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::Serialized;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::domain::email::EmailAddress;
use crate::services::rate_limit::RateLimitConfig;

/// The owner's address when none is configured: a reserved domain that
/// never receives mail, until the operator sets a real one.
pub const DEFAULT_OWNER_EMAIL: &str = "owner@portcullis.invalid";

/// How long the audit log keeps events, by default: a year.
pub const DEFAULT_EVENT_RETENTION_DAYS: i64 = 365;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./portcullis-data";
pub const DEFAULT_MAIL_FROM: &str = "Portcullis <no-reply@portcullis.localhost>";

/// Connection limits by default (README, "Configuration"; docs/deployment.md,
/// "Connections"): seconds, and connections.
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 60;
pub const DEFAULT_MAX_CONNECTIONS: u64 = 10_000;

/// The settings as given: flags and variables (clap), or a file's keys
/// (serde; a key that is not a setting is refused). What is not given is
/// `None`, and is skipped when the layers are merged.
#[derive(Clone, Default, clap::Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigArgs {
    /// A TOML configuration file.
    #[arg(long, env = "PORTCULLIS_CONFIG", value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Where the SQLite database, the master key and development mail live.
    #[arg(long, env = "PORTCULLIS_DATA_DIR", value_name = "DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "PORTCULLIS_LISTEN", value_name = "ADDR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// The URL clients reach this server at; token issuers derive from it
    /// [default: http://<listen address>].
    #[arg(long, env = "PORTCULLIS_PUBLIC_URL", value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// [default: sqlite://<data-dir>/portcullis.db]
    #[arg(
        long,
        env = "PORTCULLIS_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// smtp://host:port or smtps://user:password@host; without it mail is
    /// written as .eml files under <data-dir>/mail/.
    #[arg(
        long,
        env = "PORTCULLIS_SMTP_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_url: Option<String>,
    /// The sender of mail, e.g. "Acme <no-reply@acme.com>".
    #[arg(long, env = "PORTCULLIS_SMTP_FROM", value_name = "MAILBOX")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_from: Option<String>,
    /// A file holding the 32-byte master key in base64
    /// [default: <data-dir>/master.key, generated on first start].
    #[arg(long, env = "PORTCULLIS_MASTER_KEY_FILE", value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_key_file: Option<PathBuf>,
    /// The master key itself, in base64 (environment variable only).
    #[arg(skip)]
    #[serde(skip)]
    pub master_key: Option<SecretString>,
    /// Turn the sign-in rate limits off (local load tests).
    #[arg(long)]
    #[serde(skip)]
    pub no_rate_limits: bool,
    /// `false` turns the sign-in rate limits off.
    #[arg(
        long,
        env = "PORTCULLIS_RATE_LIMITS_ENABLED",
        value_name = "BOOL",
        hide = true
    )]
    #[serde(skip)]
    pub rate_limits_enabled: Option<bool>,
    /// `text` or `json`.
    #[arg(long, env = "PORTCULLIS_LOG_FORMAT", value_name = "FORMAT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
    /// Let webhooks use http and private, loopback and link-local
    /// destinations (development only; off by default).
    #[arg(long, env = "PORTCULLIS_ALLOW_PRIVATE_WEBHOOK_URLS")]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_private_webhook_urls: bool,
    /// The e-mail address of the organization's owner, when the first
    /// start creates it (default `owner@portcullis.invalid`).
    #[arg(long, env = "PORTCULLIS_OWNER_EMAIL", value_name = "EMAIL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_email: Option<String>,
    /// Days the audit log keeps events (1 to 3650, default 365).
    #[arg(long, env = "PORTCULLIS_EVENT_RETENTION_DAYS", value_name = "DAYS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_retention_days: Option<i64>,
    /// Seconds a client has to send a request's whole header, from its
    /// first byte (1 to 300, default 10).
    #[arg(long, env = "PORTCULLIS_HEADER_TIMEOUT_SECS", value_name = "SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_timeout_secs: Option<u64>,
    /// Seconds a client has to send a request's whole body (1 to 3600,
    /// default 30).
    #[arg(long, env = "PORTCULLIS_BODY_TIMEOUT_SECS", value_name = "SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_timeout_secs: Option<u64>,
    /// Seconds a kept-alive connection may wait for its next request
    /// (1 to 3600, default 60).
    #[arg(long, env = "PORTCULLIS_IDLE_TIMEOUT_SECS", value_name = "SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout_secs: Option<u64>,
    /// Connections served at once; more wait to be accepted (1 to
    /// 1,000,000, default 10,000, lowered to fit the open-file limit).
    #[arg(long, env = "PORTCULLIS_MAX_CONNECTIONS", value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u64>,
    /// A PEM file holding the server's certificate chain, leaf first:
    /// Portcullis serves HTTPS itself (with --tls-key; both or neither).
    #[arg(long, env = "PORTCULLIS_TLS_CERT", value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// A PEM file holding the certificate's private key (PKCS#8, PKCS#1
    /// or SEC1). Both files are read again on SIGHUP.
    #[arg(long, env = "PORTCULLIS_TLS_KEY", value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// The sign-in rate limits (the file's `[rate_limits]` table).
    #[arg(skip)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<RateLimitConfig>,
    /// The SMS provider (the file's `[sms]` table).
    #[arg(skip)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms: Option<SmsArgs>,
}

/// What a client may hold of the server: how long it may take to send a
/// request, how long a kept-alive connection may wait, how many
/// connections are served at once (`http/server.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From a request's first byte (or the connection's opening, for its
    /// first request) to the end of its header.
    pub header_timeout: Duration,
    /// From the end of the header to the end of the body.
    pub body_timeout: Duration,
    /// From the end of an answer to the first byte of the next request.
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(DEFAULT_HEADER_TIMEOUT_SECS),
            body_timeout: Duration::from_secs(DEFAULT_BODY_TIMEOUT_SECS),
            idle_timeout: Duration::from_secs(DEFAULT_IDLE_TIMEOUT_SECS),
            max_connections: DEFAULT_MAX_CONNECTIONS as usize,
        }
    }
}

/// The certificate chain and private key files Portcullis serves HTTPS
/// with (`http/tls.rs`); read at start and again on SIGHUP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub public_url: Option<String>,
    pub database_url: String,
    pub smtp_url: Option<String>,
    pub smtp_from: lettre::message::Mailbox,
    pub master_key: Option<SecretString>,
    pub master_key_file: Option<PathBuf>,
    pub rate_limits: RateLimitConfig,
    /// Where SMS codes go.
    pub sms: SmsConfig,
    pub log_format: LogFormat,
    /// How often coalesced `last_active_at` updates are written.
    pub activity_flush_interval: Duration,
    /// How often the environments' lock is read back from the database
    /// (`workers/locks.rs`).
    pub lock_watch_interval: Duration,
    /// How often an idle revocation stream sends a heartbeat comment.
    pub stream_heartbeat_interval: Duration,
    /// Webhooks may reach http and private destinations (development).
    pub allow_private_webhook_urls: bool,
    /// The owner member a first start creates.
    pub owner_email: EmailAddress,
    /// Days events are kept (docs/events.md, "Retention").
    pub event_retention_days: i64,
    pub connections: ConnectionLimits,
    /// HTTPS (`None`: plain HTTP, the default).
    pub tls: Option<TlsFiles>,
}

/// The URLs that may carry a password (the database's, the SMTP
/// server's) and the master key are shown only as given or not.
impl std::fmt::Debug for ConfigArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let given = |v: bool| if v { "configured" } else { "not given" };
        f.debug_struct("ConfigArgs")
            .field("config", &self.config)
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("database_url", &given(self.database_url.is_some()))
            .field("smtp_url", &given(self.smtp_url.is_some()))
            .field("smtp_from", &self.smtp_from)
            .field("master_key_file", &self.master_key_file)
            .field("master_key", &given(self.master_key.is_some()))
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("tls", &self.tls)
            .field("smtp", &self.smtp_url.as_ref().map(|_| "configured"))
            .field("sms", &self.sms)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("invalid value for {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field,
        reason: reason.into(),
    }
}

impl Config {
    pub fn resolve(args: ConfigArgs) -> Result<Self, ConfigError> {
        let settings = layered(&args)?;
        let data_dir = settings
            .data_dir
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let listen_text = settings
            .listen
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            invalid(
                "listen",
                format!("{listen_text:?} is not an address such as 127.0.0.1:8080"),
            )
        })?;
        let public_url = settings
            .public_url
            .map(|u| parse_public_url(&u))
            .transpose()?;
        let database_url = settings
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("portcullis.db").display()));
        if Backend::of_url(&database_url).is_none() {
            return Err(invalid(
                "database_url",
                format!("must be one of {}", Backend::URL_FORMS),
            ));
        }
        let smtp_url = settings.smtp_url;
        if let Some(url) = &smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            return Err(invalid("smtp_url", "must start with smtp:// or smtps://"));
        }
        let from_text = settings
            .smtp_from
            .unwrap_or_else(|| DEFAULT_MAIL_FROM.to_string());
        let smtp_from = from_text.parse().map_err(|_| {
            invalid(
                "smtp_from",
                format!("{from_text:?} is not a mailbox such as \"Acme <no-reply@acme.com>\""),
            )
        })?;
        let mut rate_limits = settings.rate_limits.unwrap_or_default();
        if let Some(enabled) = args.rate_limits_enabled {
            rate_limits.enabled = enabled;
        }
        if args.no_rate_limits {
            rate_limits.enabled = false;
        }
        let log_format = match settings.log_format.as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "log_format",
                    format!("{other:?} is neither text nor json"),
                ));
            }
        };
        let event_retention_days = settings
            .event_retention_days
            .unwrap_or(DEFAULT_EVENT_RETENTION_DAYS);
        if !(1..=3650).contains(&event_retention_days) {
            return Err(invalid(
                "event_retention_days",
                format!("{event_retention_days} is not between 1 and 3650"),
            ));
        }
        let connections = ConnectionLimits {
            header_timeout: seconds(
                "header_timeout_secs",
                settings.header_timeout_secs,
                DEFAULT_HEADER_TIMEOUT_SECS,
                300,
            )?,
            body_timeout: seconds(
                "body_timeout_secs",
                settings.body_timeout_secs,
                DEFAULT_BODY_TIMEOUT_SECS,
                3600,
            )?,
            idle_timeout: seconds(
                "idle_timeout_secs",
                settings.idle_timeout_secs,
                DEFAULT_IDLE_TIMEOUT_SECS,
                3600,
            )?,
            max_connections: within(
                "max_connections",
                settings.max_connections,
                DEFAULT_MAX_CONNECTIONS,
                1_000_000,
            )? as usize,
        };
        let tls = match (settings.tls_cert, settings.tls_key) {
            (None, None) => None,
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (Some(_), None) => {
                return Err(invalid(
                    "tls_key",
                    "missing: --tls-cert needs --tls-key (give both or neither)",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "tls_cert",
                    "missing: --tls-key needs --tls-cert (give both or neither)",
                ));
            }
        };
        let owner_email = match settings.owner_email {
            None => EmailAddress::parse(DEFAULT_OWNER_EMAIL)
                .map_err(|e| invalid("owner_email", e.to_string()))?,
            Some(text) => {
                EmailAddress::parse(&text).map_err(|e| invalid("owner_email", e.to_string()))?
            }
        };
        Ok(Config {
            data_dir,
            listen,
            public_url,
            database_url,
            smtp_url,
            smtp_from,
            master_key: args.master_key.or_else(|| {
                std::env::var("PORTCULLIS_MASTER_KEY")
                    .ok()
                    .map(SecretString::from)
            }),
            master_key_file: settings.master_key_file,
            rate_limits,
            sms: SmsConfig::resolve(settings.sms)?,
            log_format,
            activity_flush_interval: Duration::from_secs(10),
            lock_watch_interval: Duration::from_secs(1),
            stream_heartbeat_interval: Duration::from_secs(15),
            allow_private_webhook_urls: settings.allow_private_webhook_urls,
            owner_email,
            event_retention_days,
            connections,
            tls,
        })
    }

    /// A configuration for a server on a fresh data directory, on port 0.
    pub fn for_data_dir(data_dir: &Path) -> Self {
        let mut config = Self::resolve(ConfigArgs {
            data_dir: Some(data_dir.to_path_buf()),
            listen: Some("127.0.0.1:0".into()),
            ..Default::default()
        })
        .unwrap_or_else(|e| unreachable!("built-in defaults are valid: {e}"));
        config.master_key = None;
        config
    }
}

/// `value` (or `default`) if it is between 1 and `max`; else the field is
/// refused.
fn within(
    field: &'static str,
    value: Option<u64>,
    default: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let value = value.unwrap_or(default);
    if (1..=max).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(
            field,
            format!("{value} is not between 1 and {max}"),
        ))
    }
}

fn seconds(
    field: &'static str,
    value: Option<u64>,
    default: u64,
    max: u64,
) -> Result<Duration, ConfigError> {
    within(field, value, default, max).map(Duration::from_secs)
}

/// The file's settings (if `--config` names one) under the flags' and
/// variables': figment merges the two layers key by key.
fn layered(args: &ConfigArgs) -> Result<ConfigArgs, ConfigError> {
    let mut figment = Figment::new();
    if let Some(path) = &args.config {
        figment = figment.merge(Serialized::defaults(read_file(path)?));
    }
    figment
        .merge(Serialized::defaults(args))
        .extract()
        // Both layers are `ConfigArgs`: a type can't differ between them.
        .map_err(|e| invalid("configuration", e.kind.to_string()))
}

fn read_file(path: &Path) -> Result<ConfigArgs, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    // toml's own message quotes the offending line, which may hold a
    // password (an SMTP URL): report its position and message only.
    toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        let position = line.map(|l| format!("line {l}: ")).unwrap_or_default();
        ConfigError::File {
            path: path.display().to_string(),
            reason: format!("{position}{}", e.message().trim()),
        }
    })
}

fn parse_public_url(url: &str) -> Result<String, ConfigError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| invalid("public_url", "must start with http:// or https://"))?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(invalid(
            "public_url",
            "must be a base URL such as https://auth.example.com",
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
}

mod sms;
pub use sms::{SmsArgs, SmsConfig, SmsProvider};

#[cfg(test)]
mod tests;
