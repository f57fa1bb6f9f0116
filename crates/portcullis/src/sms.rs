//! SMS transports for sign-in codes (docs/plans/issue-19.md, slice 2): a
//! Twilio-compatible provider (its Messages API), a generic provider that
//! receives a JSON body signed like Portcullis's webhooks, or, with none
//! configured, one JSON file per message under `<data-dir>/sms/` for
//! development. Sending is retried on a network error, a 429 or a 5xx,
//! and never takes longer than the deadline. No error ever carries the
//! message, the code, the request or the provider's answer (Twilio echoes
//! the body).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tokio::time::{Instant, timeout_at};

/// One attempt may take this long (within the deadline).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// The wait before the next attempt.
const RETRY_AFTER: Duration = Duration::from_millis(300);

/// A code on its way to a phone.
#[derive(Debug, Clone, Serialize)]
pub struct SmsMessage {
    pub environment_id: String,
    /// E.164.
    pub to: String,
    pub code: String,
    /// The text the user reads (it holds the code).
    pub body: String,
    /// RFC 3339.
    pub expires_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("the SMS provider did not take the message: {0}")]
    Delivery(String),
    #[error("cannot create the SMS directory {0}")]
    Directory(String),
}

#[async_trait]
pub trait SmsTransport: Send + Sync {
    async fn send(&self, message: &SmsMessage) -> Result<(), SmsError>;
}

/// What one attempt came to.
enum Attempt {
    Sent,
    /// Worth another try: no answer, 429, 5xx.
    Retry(String),
    Refused(String),
}

/// Tries `attempt` until it is sent or refused, or the deadline passes.
async fn with_retries<F, Fut>(deadline: Duration, mut attempt: F) -> Result<(), SmsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Attempt>,
{
    let end = Instant::now() + deadline;
    loop {
        let one = (Instant::now() + ATTEMPT_TIMEOUT).min(end);
        let why = match timeout_at(one, attempt()).await {
            Ok(Attempt::Sent) => return Ok(()),
            Ok(Attempt::Refused(why)) => return Err(SmsError::Delivery(why)),
            Ok(Attempt::Retry(why)) => why,
            Err(_) => "no answer in time".to_string(),
        };
        if Instant::now() + RETRY_AFTER >= end {
            return Err(SmsError::Delivery(why));
        }
        tokio::time::sleep(RETRY_AFTER).await;
    }
}

/// An answer's status as an attempt's outcome: no answer, a 429 or a 5xx
/// is worth another try; another status is a refusal.
fn judged(answer: Result<reqwest::Response, reqwest::Error>) -> Attempt {
    let status = match answer {
        Err(_) => return Attempt::Retry("the provider could not be reached".into()),
        Ok(r) => r.status(),
    };
    let why = format!("the provider answered {}", status.as_u16());
    match status.as_u16() {
        200..=299 => Attempt::Sent,
        429 | 500..=599 => Attempt::Retry(why),
        _ => Attempt::Refused(why),
    }
}

fn client() -> Result<reqwest::Client, SmsError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Portcullis/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| SmsError::Delivery(e.without_url().to_string()))
}

/// Who a Twilio message is from.
#[derive(Debug, Clone)]
pub enum TwilioSender {
    From(String),
    MessagingService(String),
}

/// A Twilio-compatible Messages API:
/// `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, Basic auth,
/// form fields `To`, `From` or `MessagingServiceSid`, `Body`.
pub struct TwilioSms {
    base_url: String,
    account_sid: String,
    auth_token: SecretString,
    sender: TwilioSender,
    deadline: Duration,
    http: reqwest::Client,
}

impl TwilioSms {
    pub fn new(
        base_url: &str,
        account_sid: &str,
        auth_token: SecretString,
        sender: TwilioSender,
        deadline: Duration,
    ) -> Result<TwilioSms, SmsError> {
        Ok(TwilioSms {
            base_url: base_url.trim_end_matches('/').to_string(),
            account_sid: account_sid.to_string(),
            auth_token,
            sender,
            deadline,
            http: client()?,
        })
    }
}

/// The form body: `To`, `From` or `MessagingServiceSid`, `Body`.
fn twilio_form(sender: &TwilioSender, message: &SmsMessage) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("To", &message.to);
    match sender {
        TwilioSender::From(from) => form.append_pair("From", from),
        TwilioSender::MessagingService(sid) => form.append_pair("MessagingServiceSid", sid),
    };
    form.append_pair("Body", &message.body);
    form.finish()
}

#[async_trait]
impl SmsTransport for TwilioSms {
    async fn send(&self, message: &SmsMessage) -> Result<(), SmsError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.base_url, self.account_sid
        );
        let body = twilio_form(&self.sender, message);
        with_retries(self.deadline, || async {
            let sent = self
                .http
                .post(&url)
                .basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.clone())
                .send()
                .await;
            judged(sent)
        })
        .await
    }
}

/// The operator's own endpoint: the message as JSON, signed with the
/// Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature`) under a `whsec_…` secret, as Portcullis's webhooks.
pub struct WebhookSms {
    url: String,
    key: Vec<u8>,
    deadline: Duration,
    clock: Arc<dyn crate::clock::Clock>,
    http: reqwest::Client,
}

impl WebhookSms {
    /// `secret`: `whsec_` and the base64 key.
    pub fn new(
        url: &str,
        secret: &SecretString,
        deadline: Duration,
        clock: Arc<dyn crate::clock::Clock>,
    ) -> Result<WebhookSms, SmsError> {
        use base64::Engine;
        let key = secret
            .expose_secret()
            .strip_prefix(crate::crypto::WEBHOOK_SECRET_PREFIX)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .ok_or_else(|| SmsError::Delivery("the webhook secret is not whsec_…".into()))?;
        Ok(WebhookSms {
            url: url.to_string(),
            key,
            deadline,
            clock,
            http: client()?,
        })
    }
}

#[async_trait]
impl SmsTransport for WebhookSms {
    async fn send(&self, message: &SmsMessage) -> Result<(), SmsError> {
        let body = serde_json::json!({"type": "sms.code", "data": message}).to_string();
        let id = crate::crypto::random_id("msg").map_err(|e| SmsError::Delivery(e.to_string()))?;
        with_retries(self.deadline, || async {
            // Signed at each attempt: the receiver may refuse old timestamps.
            let timestamp = self.clock.now().unix_timestamp();
            let signature =
                crate::crypto::webhook_signature(&self.key, &id, timestamp, body.as_bytes());
            let sent = self
                .http
                .post(&self.url)
                .header("content-type", "application/json")
                .header("webhook-id", &id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", signature)
                .body(body.clone())
                .send()
                .await;
            judged(sent)
        })
        .await
    }
}

/// Development: each message a JSON file, created 0600 (it holds a live
/// code) and renamed into place whole.
pub struct FileSms {
    dir: PathBuf,
}

impl FileSms {
    pub fn new(dir: PathBuf) -> Result<FileSms, SmsError> {
        crate::private_files::create_dir(&dir)
            .map_err(|_| SmsError::Directory(dir.display().to_string()))?;
        Ok(FileSms { dir })
    }
}

#[async_trait]
impl SmsTransport for FileSms {
    async fn send(&self, message: &SmsMessage) -> Result<(), SmsError> {
        let name = crate::crypto::random_bytes::<16>()
            .map(hex::encode)
            .map_err(|e| SmsError::Delivery(e.to_string()))?;
        let bytes =
            serde_json::to_vec_pretty(message).map_err(|e| SmsError::Delivery(e.to_string()))?;
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || {
            crate::private_files::publish_new(&dir, &name, "json", &bytes)
        })
        .await
        .map_err(|e| SmsError::Delivery(e.to_string()))?
        .map_err(|e| SmsError::Delivery(e.to_string()))
    }
}

#[cfg(test)]
mod tests;
