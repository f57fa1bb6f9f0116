//! Webhook endpoints: registration (destinations checked against SSRF),
//! secrets (sealed at rest, shown once, rotated with an overlap), the
//! deliveries and attempts an operator can inspect and replay.

use std::sync::Arc;

use secrecy::SecretString;

use super::environments::{EnvironmentRuntime, Environments};
use super::events::{Event, Events};
use super::outbox_signal::OutboxSignal;
use super::{ServiceError, ServiceResult, new_id};
use crate::clock::{Clock, rfc3339, to_millis};
use crate::crypto::{self, MasterKey};
use crate::domain::actor::Actor;
use crate::domain::delivery::DeliveryStatus;
use crate::domain::events::{self, filter_of, is_event_type};
use crate::domain::validation::ValidationErrors;
use crate::domain::webhook_url;
use crate::store::{
    AttemptRecord, DeliveryHistory, DeliveryRecord, EventRecord, EventStore, WebhookChanges,
    WebhookRecord, WebhookStore,
};

/// At most this many endpoints per environment.
pub const MAX_WEBHOOKS: i64 = 10;
/// After a rotation, deliveries are signed with the old secret too for
/// this long, so receivers can switch without missing one.
pub const PREVIOUS_SECRET_OVERLAP_MS: i64 = 24 * 60 * 60 * 1000;
/// Deliveries listed per request, newest first.
pub const DELIVERIES_LISTED: i64 = 50;
const MAX_DESCRIPTION: usize = 200;

/// A webhook endpoint (never its secret).
#[derive(Debug, Clone)]
pub struct Webhook {
    /// `whk_…`
    pub id: String,
    pub url: String,
    pub description: String,
    /// The event types delivered; empty: every type (but `ping`).
    pub events: Vec<String>,
    pub enabled: bool,
    /// Why Portcullis disabled it, if it did.
    pub disabled_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A webhook with its signing secret, shown once (create, rotate), and
/// never in `Debug`.
#[derive(Debug, Clone)]
pub struct WebhookWithSecret {
    pub webhook: Webhook,
    /// `whsec_…`: verify deliveries with it (Standard Webhooks).
    pub secret: SecretString,
}

/// Fields of a create (all but `url` optional) or an update (all optional).
#[derive(Debug, Clone, Default)]
pub struct WebhookInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub description: Option<String>,
}

/// A delivery of an event to a webhook, with its attempts.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    pub event_type: Option<String>,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub attempt_count: i64,
    pub next_attempt_at: Option<String>,
    pub last_response_status: Option<i64>,
    pub created_at: String,
    pub completed_at: Option<String>,
    pub attempts: Vec<Attempt>,
}

/// One try of a delivery.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub attempted_at: String,
    pub duration_ms: i64,
    pub response_status: Option<i64>,
    /// The first 4 KiB of the answer.
    pub response_body: Option<String>,
    /// Why no answer came (timeout, refused connection, forbidden address).
    pub error: Option<String>,
}

impl Webhook {
    fn from_record(r: &WebhookRecord) -> Webhook {
        Webhook {
            id: r.id.clone(),
            url: r.url.clone(),
            description: r.description.clone(),
            events: filter_of(&r.events),
            enabled: r.enabled,
            disabled_reason: r.disabled_reason.clone(),
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

fn attempt_view(a: &AttemptRecord) -> Attempt {
    Attempt {
        attempted_at: rfc3339(a.attempted_at),
        duration_ms: a.duration_ms,
        response_status: a.response_status,
        response_body: a.response_body.clone(),
        error: a.error.clone(),
    }
}

pub struct Webhooks {
    clock: Arc<dyn Clock>,
    master_key: MasterKey,
    store: Arc<dyn WebhookStore>,
    /// Pings are stored as events of their own; deliveries name their event.
    event_store: Arc<dyn EventStore>,
    environments: Arc<Environments>,
    events: Arc<Events>,
    outbox: Arc<OutboxSignal>,
    /// `--allow-private-webhook-urls`: `http` and private, loopback and
    /// link-local destinations (development only).
    allow_private: bool,
}

/// What the webhook service is built from.
pub struct WebhooksParts {
    pub clock: Arc<dyn Clock>,
    pub master_key: MasterKey,
    pub webhook_store: Arc<dyn WebhookStore>,
    pub event_store: Arc<dyn EventStore>,
    pub environments: Arc<Environments>,
    pub events: Arc<Events>,
    pub outbox: Arc<OutboxSignal>,
    pub allow_private: bool,
}

impl Webhooks {
    pub fn new(p: WebhooksParts) -> Self {
        Webhooks {
            clock: p.clock,
            master_key: p.master_key,
            store: p.webhook_store,
            event_store: p.event_store,
            environments: p.environments,
            events: p.events,
            outbox: p.outbox,
            allow_private: p.allow_private,
        }
    }

    fn check_input(&self, input: &WebhookInput, creating: bool) -> ServiceResult<Option<String>> {
        let mut errors = ValidationErrors::default();
        let mut url = None;
        match input.url.as_deref() {
            None if creating => errors.push("url", "is required"),
            None => {}
            Some(text) => match webhook_url::parse(text, self.allow_private) {
                Ok(parsed) => url = Some(parsed.to_string()),
                Err(e) => errors.push("url", e.to_string()),
            },
        }
        for kind in input.events.iter().flatten() {
            if !is_event_type(kind) {
                errors.push("events", format!("{kind:?} is not an event type"));
            }
        }
        if input
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
        {
            errors.push(
                "description",
                format!("at most {MAX_DESCRIPTION} characters"),
            );
        }
        errors.into_result().map_err(ServiceError::Validation)?;
        Ok(url)
    }

    async fn webhook_record(
        &self,
        env: &EnvironmentRuntime,
        webhook_id: &str,
    ) -> ServiceResult<WebhookRecord> {
        if !crypto::is_id("whk", webhook_id) {
            return Err(ServiceError::NotFound);
        }
        self.store
            .get(env.id(), webhook_id)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    pub async fn list(&self, env: &EnvironmentRuntime) -> ServiceResult<Vec<Webhook>> {
        let all = self.store.list(env.id()).await?;
        Ok(all.iter().map(Webhook::from_record).collect())
    }

    pub async fn get(&self, env: &EnvironmentRuntime, webhook_id: &str) -> ServiceResult<Webhook> {
        Ok(Webhook::from_record(
            &self.webhook_record(env, webhook_id).await?,
        ))
    }

    /// The event of a change to an endpoint: its id and host, never the
    /// whole URL (its path or query may be a credential).
    fn webhook_event(
        &self,
        env: &EnvironmentRuntime,
        kind: &str,
        actor: &Actor,
        webhook_id: &str,
        url: Option<&str>,
    ) -> ServiceResult<EventRecord> {
        let host = url
            .and_then(|u| url::Url::parse(u).ok())
            .and_then(|u| u.host_str().map(str::to_string));
        self.events.new_event(
            env,
            kind,
            actor,
            Some(webhook_id),
            Some(serde_json::json!({ "webhook_id": webhook_id, "host": host })),
        )
    }

    pub async fn create(
        &self,
        env: &EnvironmentRuntime,
        input: &WebhookInput,
        actor: &Actor,
    ) -> ServiceResult<WebhookWithSecret> {
        let url = self.check_input(input, true)?.unwrap_or_default();
        let id = new_id(self.clock.as_ref(), "whk")?;
        let key = crypto::new_webhook_key()?;
        let now = to_millis(self.clock.now());
        let record = WebhookRecord {
            secret_sealed: self.master_key.seal(&id, &key)?,
            id,
            environment_id: env.id().to_string(),
            url,
            description: input.description.clone().unwrap_or_default(),
            events: serde_json::to_string(&input.events.clone().unwrap_or_default())
                .unwrap_or_else(|_| "[]".into()),
            enabled: input.enabled.unwrap_or(true),
            previous_secret_sealed: None,
            previous_secret_until: None,
            consecutive_failures: 0,
            disabled_reason: None,
            created_at: now,
            updated_at: now,
        };
        let event = self.webhook_event(
            env,
            events::ENVIRONMENT_WEBHOOK_CREATED,
            actor,
            &record.id,
            Some(&record.url),
        )?;
        if !self.store.insert(&record, MAX_WEBHOOKS, &event).await? {
            return Err(ServiceError::Validation(ValidationErrors::single(
                "url",
                format!("an environment has at most {MAX_WEBHOOKS} webhooks"),
            )));
        }
        self.environments.invalidate(env.id());
        self.outbox.wake();
        Ok(WebhookWithSecret {
            webhook: Webhook::from_record(&record),
            secret: crypto::webhook_secret_text(&key).into(),
        })
    }

    /// Changes what is given. Enabling an endpoint that Portcullis disabled
    /// clears the reason and the failure count.
    pub async fn update(
        &self,
        env: &EnvironmentRuntime,
        webhook_id: &str,
        input: &WebhookInput,
        actor: &Actor,
    ) -> ServiceResult<Webhook> {
        let url = self.check_input(input, false)?;
        let current = self.webhook_record(env, webhook_id).await?;
        let changes = WebhookChanges {
            events: input
                .events
                .as_ref()
                .map(|e| serde_json::to_string(e).unwrap_or_else(|_| "[]".into())),
            url,
            description: input.description.clone(),
            enabled: input.enabled,
        };
        let event = self.webhook_event(
            env,
            events::ENVIRONMENT_WEBHOOK_UPDATED,
            actor,
            &current.id,
            Some(changes.url.as_deref().unwrap_or(&current.url)),
        )?;
        let now = to_millis(self.clock.now());
        let updated = self
            .store
            .update(env.id(), &current.id, &changes, now, &event)
            .await?
            .ok_or(ServiceError::NotFound)?;
        self.environments.invalidate(env.id());
        self.outbox.wake();
        Ok(Webhook::from_record(&updated))
    }

    pub async fn delete(
        &self,
        env: &EnvironmentRuntime,
        webhook_id: &str,
        actor: &Actor,
    ) -> ServiceResult<()> {
        let current = self.webhook_record(env, webhook_id).await?;
        let event = self.webhook_event(
            env,
            events::ENVIRONMENT_WEBHOOK_DELETED,
            actor,
            &current.id,
            Some(&current.url),
        )?;
        if !self.store.delete(env.id(), &current.id, &event).await? {
            return Err(ServiceError::NotFound);
        }
        self.environments.invalidate(env.id());
        self.outbox.wake();
        Ok(())
    }

    /// A new secret, shown once; the old one keeps signing (as a second
    /// signature) for `PREVIOUS_SECRET_OVERLAP_MS`.
    pub async fn rotate_secret(
        &self,
        env: &EnvironmentRuntime,
        webhook_id: &str,
        actor: &Actor,
    ) -> ServiceResult<WebhookWithSecret> {
        let current = self.webhook_record(env, webhook_id).await?;
        let key = crypto::new_webhook_key()?;
        let now = to_millis(self.clock.now());
        let event = self.webhook_event(
            env,
            events::ENVIRONMENT_WEBHOOK_SECRET_ROTATED,
            actor,
            &current.id,
            Some(&current.url),
        )?;
        let rotated = self
            .store
            .rotate_secret(
                env.id(),
                &current.id,
                &self.master_key.seal(&current.id, &key)?,
                now + PREVIOUS_SECRET_OVERLAP_MS,
                now,
                &event,
            )
            .await?
            .ok_or(ServiceError::NotFound)?;
        self.outbox.wake();
        Ok(WebhookWithSecret {
            webhook: Webhook::from_record(&rotated),
            secret: crypto::webhook_secret_text(&key).into(),
        })
    }

    /// Sends a `ping` event to this endpoint only (even if disabled or not
    /// subscribed to it: the operator asked).
    pub async fn ping(
        &self,
        env: &EnvironmentRuntime,
        webhook_id: &str,
        actor: &Actor,
    ) -> ServiceResult<Event> {
        let record = self.webhook_record(env, webhook_id).await?;
        let event = self.events.new_event(
            env,
            events::PING,
            actor,
            Some(&record.id),
            Some(serde_json::json!({ "webhook_id": record.id })),
        )?;
        self.event_store.insert(&event).await?;
        self.outbox.wake();
        Ok(Event::from_record(&event))
    }

    /// The endpoint's latest deliveries with every attempt, newest first.
    pub async fn deliveries(
        &self,
        env: &EnvironmentRuntime,
        webhook_id: &str,
    ) -> ServiceResult<Vec<Delivery>> {
        let record = self.webhook_record(env, webhook_id).await?;
        let deliveries = self.store.deliveries(&record.id, DELIVERIES_LISTED).await?;
        let mut out = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            out.push(self.describe_delivery(d).await?);
        }
        Ok(out)
    }

    /// Delivers again (a new attempt now, with the same `webhook-id`).
    pub async fn redeliver(
        &self,
        env: &EnvironmentRuntime,
        webhook_id: &str,
        delivery_id: &str,
    ) -> ServiceResult<Delivery> {
        let record = self.webhook_record(env, webhook_id).await?;
        let now = to_millis(self.clock.now());
        if !crypto::is_id("dlv", delivery_id)
            || !self.store.redeliver(&record.id, delivery_id, now).await?
        {
            return Err(ServiceError::NotFound);
        }
        self.outbox.wake();
        let d = self
            .store
            .delivery(&record.id, delivery_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        self.describe_delivery(d).await
    }

    /// A delivery as the API shows it, with its event's type.
    async fn describe_delivery(&self, history: DeliveryHistory) -> ServiceResult<Delivery> {
        let event_type = self
            .event_store
            .get(&history.delivery.event_id)
            .await?
            .map(|e| e.kind);
        Ok(delivery_view(
            &history.delivery,
            event_type,
            &history.attempts,
        ))
    }
}

fn delivery_view(
    d: &DeliveryRecord,
    event_type: Option<String>,
    attempts: &[AttemptRecord],
) -> Delivery {
    Delivery {
        id: d.id.clone(),
        event_id: d.event_id.clone(),
        event_type,
        status: d.status.as_str().to_string(),
        attempt_count: d.attempts,
        next_attempt_at: d
            .next_attempt_at
            .filter(|_| d.status == DeliveryStatus::Pending)
            .map(rfc3339),
        last_response_status: d.last_response_status,
        created_at: rfc3339(d.created_at),
        completed_at: d.completed_at.map(rfc3339),
        attempts: attempts.iter().map(attempt_view).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = "whsec_c2VjcmV0IHNpZ25pbmcga2V5";
        let created = WebhookWithSecret {
            webhook: Webhook {
                id: "whk_1".into(),
                url: "https://example.com/hook".into(),
                description: String::new(),
                events: vec![],
                enabled: true,
                disabled_reason: None,
                created_at: "2026-01-01T00:00:00Z".into(),
                updated_at: "2026-01-01T00:00:00Z".into(),
            },
            secret: secret.into(),
        };
        let shown = format!("{created:?}");
        assert!(
            shown.contains("whk_1") && !shown.contains(secret),
            "{shown}"
        );
    }
}
