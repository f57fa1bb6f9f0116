//! Security notification e-mails: written with the event's dispatch (one per
//! recipient), sent from the outbox through the mail transport of the core
//! (SMTP or `.eml` files), retried on the webhooks' schedule.

use lettre::Message;
use lettre::message::header::ContentType;

use std::sync::Arc;

use super::events::Event;
use super::outbox_signal::OutboxSignal;
use super::retry::{LEASE_MS, after_failure};
use super::{ServiceError, ServiceResult, new_id};
use crate::clock::{Clock, to_millis};
use crate::domain::delivery::MailStatus;
use crate::domain::events;
use crate::domain::roles::Role;
use crate::domain::settings::ADMIN_MEMBERS;
use crate::mail::MailTransport;
use crate::store::{DeliveryOutcome, EventRecord, EventStore, MemberStore, NotificationRecord};

const MAIL_BATCH: i64 = 16;
/// Each message gets this long; well inside the lease, so no other worker
/// sends it while this one waits.
const MAIL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What the subject line says happened.
fn summary(kind: &str) -> &'static str {
    match kind {
        events::ENVIRONMENT_LOCKED => "The environment was locked",
        events::ENVIRONMENT_UNLOCKED => "The environment was unlocked",
        events::ENVIRONMENT_SESSIONS_REVOKED => "Every session was revoked",
        events::ENVIRONMENT_SETTINGS_UPDATED => "Security settings changed",
        events::ENVIRONMENT_ORIGIN_ADDED => "An allowed origin was added",
        events::ENVIRONMENT_ORIGIN_REMOVED => "An allowed origin was removed",
        events::ENVIRONMENT_WEBHOOK_DISABLED => "A webhook endpoint was disabled",
        events::ENVIRONMENT_WEBHOOK_CREATED => "A webhook endpoint was added",
        events::ENVIRONMENT_WEBHOOK_UPDATED => "A webhook endpoint was changed",
        events::ENVIRONMENT_WEBHOOK_SECRET_ROTATED => "A webhook secret was rotated",
        events::ENVIRONMENT_WEBHOOK_DELETED => "A webhook endpoint was removed",
        events::USER_MFA_RESET => "A user's MFA was reset",
        events::API_TOKEN_CREATED => "An API token was created",
        events::API_TOKEN_ROTATED => "An API token was rotated",
        events::API_TOKEN_DELETED => "An API token was deleted",
        events::MEMBER_ADDED => "A member was added",
        events::MEMBER_UPDATED => "A member was changed",
        events::MEMBER_REMOVED => "A member was removed",
        events::ORGANIZATION_OWNERSHIP_TRANSFERRED => {
            "Ownership of the organization was transferred"
        }
        _ => "Security event",
    }
}

pub struct Notifications {
    clock: Arc<dyn Clock>,
    events: Arc<dyn EventStore>,
    members: Arc<dyn MemberStore>,
    mail: Arc<dyn MailTransport>,
    mail_from: lettre::message::Mailbox,
    signal: Arc<OutboxSignal>,
}

impl Notifications {
    pub fn new(
        clock: Arc<dyn Clock>,
        events: Arc<dyn EventStore>,
        members: Arc<dyn MemberStore>,
        mail: Arc<dyn MailTransport>,
        mail_from: lettre::message::Mailbox,
        signal: Arc<OutboxSignal>,
    ) -> Self {
        Notifications {
            clock,
            events,
            members,
            mail,
            mail_from,
            signal,
        }
    }

    /// Waits until rung (mails were stored), or `at_most`.
    pub async fn wait(&self, at_most: std::time::Duration) {
        self.signal.wait_for_mail(at_most).await;
    }

    /// The notification e-mails an event calls for, by the settings of its
    /// environment.
    pub async fn for_event(
        &self,
        event: &EventRecord,
        now: i64,
    ) -> ServiceResult<Vec<NotificationRecord>> {
        let Some(environment_id) = &event.environment_id else {
            return Ok(vec![]);
        };
        let listed: Vec<String> = event
            .notify
            .as_deref()
            .and_then(|n| serde_json::from_str(n).ok())
            .unwrap_or_default();
        let mut recipients = Vec::new();
        for r in listed {
            let expanded = match r.as_str() {
                ADMIN_MEMBERS => self.admin_addresses(&event.organization_id).await?,
                _ => vec![r],
            };
            for address in expanded {
                if !recipients.contains(&address) {
                    recipients.push(address);
                }
            }
        }
        recipients
            .iter()
            .map(|recipient| {
                Ok(NotificationRecord {
                    id: new_id(self.clock.as_ref(), "ntf")?,
                    event_id: event.id.clone(),
                    environment_id: environment_id.clone(),
                    recipient: recipient.clone(),
                    status: MailStatus::Pending,
                    attempts: 0,
                    next_attempt_at: Some(now),
                    last_error: None,
                    created_at: now,
                    sent_at: None,
                })
            })
            .collect()
    }

    /// The owner's and admins' addresses, but for the placeholder a first
    /// start gives an owner nobody named (`*.invalid` receives no mail).
    async fn admin_addresses(&self, organization_id: &str) -> ServiceResult<Vec<String>> {
        Ok(self
            .members
            .list(organization_id)
            .await?
            .into_iter()
            .filter(|m| m.role.allows(Role::Admin) && !m.email.ends_with(".invalid"))
            .map(|m| m.email)
            .collect())
    }

    /// Sends the notification e-mails that are due. Returns how many.
    pub async fn send_due(&self) -> ServiceResult<usize> {
        let now = to_millis(self.clock.now());
        let due = self
            .events
            .lease_due_notifications(now, now + LEASE_MS, MAIL_BATCH)
            .await?;
        for n in &due {
            let sent = match self.events.get(&n.event_id).await? {
                Some(event) => self.send_notification(n, &event).await,
                None => Err("the event is gone".to_string()),
            };
            let outcome = match &sent {
                Ok(()) => DeliveryOutcome::Succeeded,
                Err(_) => after_failure(now, n.attempts + 1, true),
            };
            if let Err(e) = &sent {
                tracing::warn!(notification_id = %n.id, error = %e, "a notification e-mail failed");
            }
            self.events
                .record_notification(
                    &n.id,
                    &outcome,
                    sent.err().as_deref(),
                    n.next_attempt_at,
                    now,
                )
                .await?;
        }
        Ok(due.len())
    }

    async fn send_notification(
        &self,
        n: &NotificationRecord,
        event: &EventRecord,
    ) -> Result<(), String> {
        let message = self
            .notification_message(n, event)
            .map_err(|e| e.to_string())?;
        match tokio::time::timeout(MAIL_TIMEOUT, self.mail.send(message)).await {
            Ok(sent) => sent.map_err(|e| e.to_string()),
            Err(_) => Err(format!("no answer within {} s", MAIL_TIMEOUT.as_secs())),
        }
    }

    fn notification_message(
        &self,
        n: &NotificationRecord,
        event: &EventRecord,
    ) -> ServiceResult<Message> {
        let e = Event::from_record(event);
        let to = n
            .recipient
            .parse()
            .map_err(|_| ServiceError::internal(format!("recipient of {}", n.id)))?;
        let actor = match (&e.actor.id, &e.actor.ip_address) {
            (Some(id), Some(ip)) => format!("{} {id} from {ip}", e.actor.kind),
            (Some(id), None) => format!("{} {id}", e.actor.kind),
            _ => e.actor.kind.clone(),
        };
        let details = e
            .data
            .as_ref()
            .and_then(|d| serde_json::to_string_pretty(d).ok())
            .unwrap_or_else(|| "{}".into());
        let environment = e.environment_id.clone().unwrap_or_default();
        Message::builder()
            .from(self.mail_from.clone())
            .to(to)
            .subject(format!("[Portcullis] {} ({environment})", summary(&e.kind)))
            .header(ContentType::TEXT_PLAIN)
            .body(format!(
                "{}.\n\nEvent:       {} ({})\nEnvironment: {environment}\nWhen:        {}\nBy:          {actor}\n\nDetails:\n{details}\n\n\
                 You receive this because this address is a notification recipient of the \
                 environment's security settings.\n",
                summary(&e.kind),
                e.kind,
                e.id,
                e.timestamp,
            ))
            .map_err(|e| ServiceError::internal(format!("building a notification: {e}")))
    }
}
