//! The outbox: turning stored events into webhook deliveries (with the
//! fan-out of user- and environment-wide revocations into one event per
//! session), and making the deliveries' attempts. Run by
//! `workers/outbox.rs`; every step is leased or conditional in the store,
//! so several nodes, or a node restarted after a crash, share the work
//! without losing or doubling an event (deliveries are at least once, with
//! the same `webhook-id`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use super::environments::Environments;
use super::events::{Event, Events};
use super::notifications::Notifications;
use super::outbox_signal::OutboxSignal;
use super::retry::{LEASE_MS, after_failure};
use super::sessions::Session;
use super::webhook_client::WebhookClient;
use super::{ServiceResult, new_id};
use crate::clock::{Clock, rfc3339, to_millis};
use crate::crypto::{self, MasterKey};
use crate::domain::actor::Actor;
use crate::domain::delivery::DeliveryStatus;
use crate::domain::events::{self, filter_of, subscribed};
use crate::store::{
    AttemptRecord, AttemptRecorded, DeliveryOutcome, DeliveryRecord, EventRecord, EventStore,
    FanoutScope, NotificationRecord, SessionStore, UserStore, WebhookRecord, WebhookStore,
};

/// Events handled per pass, and sessions per fan-out batch.
const EVENT_BATCH: i64 = 100;
const FANOUT_BATCH: i64 = 500;
/// Deliveries attempted at once.
const DELIVERY_BATCH: i64 = 16;

/// Dispatches stored events to the webhooks that want them (and to the
/// notification e-mails), and makes the deliveries' attempts.
pub struct Outbox {
    clock: Arc<dyn Clock>,
    master_key: MasterKey,
    store: Arc<dyn EventStore>,
    webhooks: Arc<dyn WebhookStore>,
    sessions: Arc<dyn SessionStore>,
    users: Arc<dyn UserStore>,
    environments: Arc<Environments>,
    events: Arc<Events>,
    notifications: Arc<Notifications>,
    client: WebhookClient,
    signal: Arc<OutboxSignal>,
}

/// What the outbox is built from.
pub struct OutboxParts {
    pub clock: Arc<dyn Clock>,
    pub master_key: MasterKey,
    pub event_store: Arc<dyn EventStore>,
    pub webhooks: Arc<dyn WebhookStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub users: Arc<dyn UserStore>,
    pub environments: Arc<Environments>,
    pub events: Arc<Events>,
    pub notifications: Arc<Notifications>,
    pub client: WebhookClient,
    pub signal: Arc<OutboxSignal>,
}

impl Outbox {
    pub fn new(p: OutboxParts) -> Self {
        Outbox {
            clock: p.clock,
            master_key: p.master_key,
            store: p.event_store,
            webhooks: p.webhooks,
            sessions: p.sessions,
            users: p.users,
            environments: p.environments,
            events: p.events,
            notifications: p.notifications,
            client: p.client,
            signal: p.signal,
        }
    }

    /// Waits until rung, or `at_most` (the webhook worker).
    pub async fn wait(&self, at_most: std::time::Duration) {
        self.signal.wait(at_most).await;
    }

    /// One pass over the events not dispatched yet. Returns how many.
    pub async fn dispatch_events(&self) -> ServiceResult<usize> {
        let now = to_millis(self.clock.now());
        let leased = self
            .store
            .lease_undispatched(now, now + LEASE_MS, EVENT_BATCH)
            .await?;
        let mut delivered = false;
        let mut endpoints: HashMap<String, Vec<WebhookRecord>> = HashMap::new();
        let mut unwanted = vec![];
        for event in &leased {
            if event.fanout.is_some() && !self.fan_out(event).await? {
                continue;
            }
            let wanted: Vec<WebhookRecord> = match &event.environment_id {
                Some(env) => {
                    if !endpoints.contains_key(env) {
                        endpoints.insert(env.clone(), self.webhooks.list(env).await?);
                    }
                    endpoints[env]
                        .iter()
                        .filter(|w| wants(w, event))
                        .cloned()
                        .collect()
                }
                None => vec![],
            };
            let notifications = self.notifications.for_event(event, now).await?;
            // Sign-ins and session revocations nobody receives are marked
            // together, without reading their session: the hot path's
            // events cost one statement per batch.
            if wanted.is_empty() && notifications.is_empty() && reads_for_payload(&event.kind) {
                unwanted.push(event.id.clone());
                continue;
            }
            delivered |= self
                .dispatch_one(event, &wanted, &notifications, now)
                .await?;
        }
        self.store.mark_dispatched(&unwanted, now).await?;
        if delivered {
            self.signal.wake();
        }
        Ok(leased.len())
    }

    /// Emits one `admin.user.session.revoked` per session the revocation
    /// revoked, in batches, each with the cursor that says how far it got.
    /// False if another worker moved the cursor meanwhile.
    async fn fan_out(&self, event: &EventRecord) -> ServiceResult<bool> {
        let Some(scope) = event
            .data
            .as_deref()
            .and_then(|d| serde_json::from_str::<FanoutScope>(d).ok())
        else {
            tracing::error!(event_id = %event.id, "a fan-out event without its scope");
            return Ok(self
                .store
                .fan_out(&event.id, event.fanout_cursor.as_deref(), None, true, &[])
                .await?);
        };
        let mut cursor = event.fanout_cursor.clone();
        loop {
            let sessions = self
                .store
                .fanout_sessions(&scope, cursor.as_deref(), FANOUT_BATCH)
                .await?;
            let done = (sessions.len() as i64) < FANOUT_BATCH;
            let next = if done { None } else { sessions.last().cloned() };
            let per_session = sessions
                .iter()
                .map(|session_id| {
                    Ok(EventRecord {
                        id: new_id(self.clock.as_ref(), "evt")?,
                        kind: events::ADMIN_USER_SESSION_REVOKED.into(),
                        subject_id: Some(session_id.clone()),
                        data: None,
                        fanout: None,
                        fanout_cursor: None,
                        dispatched_at: None,
                        // The summary event is the one mailed about.
                        notify: None,
                        ..event.clone()
                    })
                })
                .collect::<ServiceResult<Vec<_>>>()?;
            let moved = self
                .store
                .fan_out(
                    &event.id,
                    cursor.as_deref(),
                    next.as_deref(),
                    done,
                    &per_session,
                )
                .await?;
            if !moved {
                return Ok(false);
            }
            if done {
                return Ok(true);
            }
            cursor = next;
        }
    }

    /// Completes the event's payload and stores a delivery for each
    /// endpoint that wants it. Returns whether there was any.
    async fn dispatch_one(
        &self,
        event: &EventRecord,
        wanted: &[WebhookRecord],
        notifications: &[NotificationRecord],
        now: i64,
    ) -> ServiceResult<bool> {
        let data = self.final_data(event).await?;
        let deliveries = wanted
            .iter()
            .map(|w| {
                Ok(DeliveryRecord {
                    id: new_id(self.clock.as_ref(), "dlv")?,
                    webhook_id: w.id.clone(),
                    event_id: event.id.clone(),
                    environment_id: w.environment_id.clone(),
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    next_attempt_at: Some(now),
                    last_response_status: None,
                    created_at: now,
                    completed_at: None,
                })
            })
            .collect::<ServiceResult<Vec<_>>>()?;
        let stored = self
            .store
            .dispatch(&event.id, data.as_deref(), &deliveries, notifications, now)
            .await?;
        Ok(stored && !(deliveries.is_empty() && notifications.is_empty()))
    }

    /// Session events carry the Session object as it is once revoked;
    /// revocations of a whole scope carry what they revoked.
    async fn final_data(&self, event: &EventRecord) -> ServiceResult<Option<String>> {
        match event.kind.as_str() {
            events::USER_SESSION_CREATED
            | events::USER_SESSION_REVOKED
            | events::ADMIN_USER_SESSION_REVOKED => {
                let (Some(env), Some(sid)) = (&event.environment_id, &event.subject_id) else {
                    return Ok(None);
                };
                let view = self.sessions.get(env, sid).await?;
                Ok(view.map(|v| session_payload(&Session::from_view(&v, None))))
            }
            events::USER_CREATED => {
                let (Some(env), Some(uid)) = (&event.environment_id, &event.subject_id) else {
                    return Ok(None);
                };
                let user = self.users.get(env, uid).await?;
                Ok(user.map(|u| {
                    json!({
                        "id": u.id,
                        "environment_id": u.environment_id,
                        "email": u.email,
                        "created_at": rfc3339(u.created_at),
                    })
                    .to_string()
                }))
            }
            events::USER_SESSIONS_REVOKED | events::ENVIRONMENT_SESSIONS_REVOKED => {
                let scope = event
                    .data
                    .as_deref()
                    .and_then(|d| serde_json::from_str::<FanoutScope>(d).ok());
                Ok(scope.map(|s| {
                    json!({
                        "environment_id": s.environment_id,
                        "user_id": s.user_id,
                        "revoked_count": s.revoked_count,
                        "revoked_at": rfc3339(s.at),
                        "revoked_by": { "kind": s.by_kind, "id": s.by_id },
                    })
                    .to_string()
                }))
            }
            _ => Ok(None),
        }
    }

    /// Attempts the deliveries that are due. Returns how many.
    pub async fn deliver_due(&self) -> ServiceResult<usize> {
        let now = to_millis(self.clock.now());
        let due = self
            .webhooks
            .lease_due(now, now + LEASE_MS, DELIVERY_BATCH)
            .await?;
        let attempts = due.iter().map(|d| self.attempt(d));
        for result in futures::future::join_all(attempts).await {
            result?;
        }
        Ok(due.len())
    }

    async fn attempt(&self, delivery: &DeliveryRecord) -> ServiceResult<()> {
        let Some(webhook) = self
            .webhooks
            .get(&delivery.environment_id, &delivery.webhook_id)
            .await?
        else {
            return Ok(());
        };
        let Some(event) = self.store.get(&delivery.event_id).await? else {
            return Ok(());
        };
        let now = self.clock.now();
        // Everything that could fail is prepared before the request goes
        // out, so that a sent attempt is always recorded, with its outcome
        // (unless the delivery was taken over meanwhile: `record_attempt`
        // stores both or neither).
        let env = self.environments.get(&webhook.environment_id).await?;
        let disabled_event = self.events.new_event(
            &env,
            events::ENVIRONMENT_WEBHOOK_DISABLED,
            &Actor::system(),
            Some(&webhook.id),
            Some(json!({
                "webhook_id": webhook.id,
                // Not the whole URL: its path or query may be a credential.
                "host": url::Url::parse(&webhook.url).ok().and_then(|u| u.host_str().map(str::to_string)),
                "reason": "every delivery attempt failed for as long as retries last",
            })),
        )?;
        let attempt_id = new_id(self.clock.as_ref(), "att")?;
        let started = Instant::now();
        let sent = match (
            webhook.enabled || event.kind == events::PING,
            self.signing_keys(&webhook, to_millis(now)),
        ) {
            (false, _) => Err("the endpoint is disabled".to_string()),
            (true, Err(e)) => {
                tracing::error!(webhook_id = %webhook.id, error = %e, "cannot open a webhook secret");
                Err("the endpoint's secret cannot be read".to_string())
            }
            (true, Ok(keys)) => {
                let body = payload(&event);
                let timestamp = now.unix_timestamp();
                let signatures = keys
                    .iter()
                    .map(|k| crypto::webhook_signature(k, &event.id, timestamp, body.as_bytes()))
                    .collect::<Vec<_>>()
                    .join(" ");
                self.client
                    .post(&webhook.url, &event.id, timestamp, &signatures, body)
                    .await
            }
        };
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let attempt_no = delivery.attempts + 1;
        let (response_status, response_body, error) = match &sent {
            Ok((status, body)) => (Some(i64::from(*status)), Some(body.clone()), None),
            Err(e) => (None, None, Some(e.clone())),
        };
        let ok = matches!(&sent, Ok((status, _)) if (200..300).contains(status));
        let outcome = match ok {
            true => DeliveryOutcome::Succeeded,
            false => after_failure(to_millis(now), attempt_no, webhook.enabled),
        };
        let record = AttemptRecord {
            id: attempt_id,
            delivery_id: delivery.id.clone(),
            attempted_at: to_millis(now),
            duration_ms,
            response_status,
            response_body,
            error,
        };
        let recorded = self
            .webhooks
            .record_attempt(&record, &outcome, delivery.next_attempt_at, &disabled_event)
            .await?;
        match recorded {
            AttemptRecorded::Stored { disabled: false } => {}
            AttemptRecorded::Stored { disabled: true } => {
                tracing::warn!(webhook_id = %webhook.id, "disabled a webhook endpoint that kept failing");
                self.environments.invalidate(&webhook.environment_id);
                self.signal.wake();
            }
            AttemptRecorded::LeaseLost => {
                tracing::warn!(
                    delivery_id = %delivery.id,
                    "a webhook attempt ended after its delivery was taken over; \
                     not recorded, the delivery is attempted again"
                );
            }
        }
        Ok(())
    }

    /// The keys deliveries are signed with: the secret, and the one before
    /// it while its overlap lasts.
    fn signing_keys(&self, w: &WebhookRecord, now_ms: i64) -> ServiceResult<Vec<Vec<u8>>> {
        let mut keys = vec![self.master_key.open(&w.id, &w.secret_sealed)?];
        if let (Some(previous), Some(until)) = (&w.previous_secret_sealed, w.previous_secret_until)
            && until > now_ms
        {
            keys.push(self.master_key.open(&w.id, previous)?);
        }
        Ok(keys)
    }
}

/// Event kinds whose payload is read from the store at dispatch.
fn reads_for_payload(kind: &str) -> bool {
    matches!(
        kind,
        events::USER_CREATED
            | events::USER_SESSION_CREATED
            | events::USER_SESSION_REVOKED
            | events::ADMIN_USER_SESSION_REVOKED
    )
}

/// Whether the endpoint gets the event: `ping` only where it was sent.
fn wants(w: &WebhookRecord, event: &EventRecord) -> bool {
    match event.kind.as_str() {
        events::PING => event.subject_id.as_deref() == Some(w.id.as_str()),
        kind => w.enabled && subscribed(&filter_of(&w.events), kind),
    }
}

/// The Session object of session events (API.md, "Webhooks").
fn session_payload(s: &Session) -> String {
    json!({
        "id": s.id,
        "user_id": s.user_id,
        "environment_id": s.environment_id,
        "created_at": s.created_at,
        "expires_at": s.expires_at,
        "ip_address": s.ip_address,
        "user_agent": s.user_agent,
        "revoked_at": s.revoked_at,
        "revoked_by": s
            .revoked_by
            .as_ref()
            .map(|r| json!({ "kind": r.kind, "id": r.id })),
    })
    .to_string()
}

/// The delivered body: the same bytes on every attempt.
pub fn payload(event: &EventRecord) -> String {
    let e = Event::from_record(event);
    json!({
        "id": e.id,
        "type": e.kind,
        "timestamp": e.timestamp,
        "environment_id": e.environment_id,
        "data": e.data.unwrap_or_else(|| json!({})),
    })
    .to_string()
}
