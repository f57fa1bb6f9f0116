//! Mail transports: SMTP (lettre) when configured, otherwise `.eml` files
//! under `<data-dir>/mail/` for development. Services hand over a finished
//! message and never learn which transport carries it.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid SMTP URL (expected smtp://host:port or smtps://user:password@host)")]
    InvalidUrl,
    #[error("cannot create the mail directory {0}")]
    Directory(String),
    /// The transport's own error text; it never contains the message body.
    #[error("mail delivery failed: {0}")]
    Delivery(String),
}

#[async_trait]
pub trait MailTransport: Send + Sync {
    async fn send(&self, message: Message) -> Result<(), MailError>;
}

/// Development mail: each message an `.eml` file, created 0600 (it holds
/// a live code) and renamed into place whole, so a reader never sees half
/// a message.
struct FileMail {
    dir: std::path::PathBuf,
}

#[async_trait]
impl MailTransport for FileMail {
    async fn send(&self, message: Message) -> Result<(), MailError> {
        let name = crate::crypto::random_bytes::<16>()
            .map(hex::encode)
            .map_err(|e| MailError::Delivery(e.to_string()))?;
        let bytes = message.formatted();
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || {
            crate::private_files::publish_new(&dir, &name, "eml", &bytes)
        })
        .await
        .map_err(|e| MailError::Delivery(e.to_string()))?
        .map_err(|e| MailError::Delivery(e.to_string()))
    }
}

struct SmtpMail(AsyncSmtpTransport<Tokio1Executor>);

#[async_trait]
impl MailTransport for SmtpMail {
    async fn send(&self, message: Message) -> Result<(), MailError> {
        self.0
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| MailError::Delivery(e.to_string()))
    }
}

pub fn transport(
    smtp_url: Option<&str>,
    mail_dir: &Path,
) -> Result<Arc<dyn MailTransport>, MailError> {
    match smtp_url {
        Some(url) => {
            let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map_err(|_| MailError::InvalidUrl)?;
            Ok(Arc::new(SmtpMail(smtp.build())))
        }
        None => {
            crate::private_files::create_dir(mail_dir)
                .map_err(|_| MailError::Directory(mail_dir.display().to_string()))?;
            Ok(Arc::new(FileMail {
                dir: mail_dir.to_path_buf(),
            }))
        }
    }
}
