//! Events: who did what, recorded with the change (the audit log), and the
//! outbox that webhooks are delivered from (docs/events.md).

use std::sync::Arc;

use super::environments::{EnvironmentRuntime, Environments};
use super::{ServiceError, ServiceResult, new_id};
use crate::clock::{Clock, rfc3339, to_millis};
pub use crate::domain::actor::{Actor, ActorKind};
use crate::domain::events::is_event_type;
use crate::domain::validation::ValidationErrors;
use crate::store::{EventQuery, EventRecord, EventStore};

/// An event as the audit log and webhooks show it.
#[derive(Debug, Clone)]
pub struct Event {
    /// `evt_…`; also the `webhook-id` of its deliveries.
    pub id: String,
    /// The event's type (`session.created`, …).
    pub kind: String,
    pub timestamp: String,
    pub environment_id: Option<String>,
    pub actor: EventActor,
    /// What it is about, when it names one thing: the session of session
    /// events, the user of `user.*`, the webhook of `environment.webhook.*`.
    pub subject: Option<String>,
    /// The payload's `data`; `null` for a session event not yet dispatched.
    pub data: Option<serde_json::Value>,
}

/// Who caused an event.
#[derive(Debug, Clone)]
pub struct EventActor {
    /// `user`, `api_token`, `member`, `system` or `cli`
    pub kind: String,
    pub id: Option<String>,
    pub ip_address: Option<String>,
}

impl Event {
    pub fn from_record(r: &EventRecord) -> Event {
        Event {
            id: r.id.clone(),
            kind: r.kind.clone(),
            timestamp: rfc3339(r.created_at),
            environment_id: r.environment_id.clone(),
            actor: EventActor {
                kind: r.actor_kind.clone(),
                id: r.actor_id.clone(),
                ip_address: r.ip_address.clone(),
            },
            subject: r.subject_id.clone(),
            data: r.data.as_deref().and_then(|d| serde_json::from_str(d).ok()),
        }
    }
}

/// One page of the audit log, newest first.
#[derive(Debug, Clone)]
pub struct EventPage {
    pub events: Vec<Event>,
    /// Pass as `cursor` for the next (older) page; absent on the last.
    pub next_cursor: Option<String>,
}

/// The audit log's filters, as the caller gives them.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub kind: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

pub const MAX_PAGE: i64 = 100;

/// `evc_{position}` → the position it names.
fn parse_cursor(cursor: &str) -> Option<i64> {
    cursor.strip_prefix("evc_")?.parse().ok()
}

/// The audit log: every change writes its event here, in the change's own
/// transaction (the store methods take the event), and the outbox
/// dispatches it from there.
pub struct Events {
    clock: Arc<dyn Clock>,
    store: Arc<dyn EventStore>,
    environments: Arc<Environments>,
    /// Days the audit log keeps events.
    retention_days: i64,
}

impl Events {
    pub fn new(
        clock: Arc<dyn Clock>,
        store: Arc<dyn EventStore>,
        environments: Arc<Environments>,
        retention_days: i64,
    ) -> Self {
        Events {
            clock,
            store,
            environments,
            retention_days,
        }
    }

    /// A new event in `env` by `actor`, about `subject`, at the clock's now.
    pub fn new_event(
        &self,
        env: &EnvironmentRuntime,
        kind: &str,
        actor: &Actor,
        subject: Option<&str>,
        data: Option<serde_json::Value>,
    ) -> ServiceResult<EventRecord> {
        Ok(EventRecord {
            id: new_id(self.clock.as_ref(), "evt")?,
            organization_id: env.record.organization_id.clone(),
            environment_id: Some(env.id().to_string()),
            kind: kind.to_string(),
            actor_kind: actor.kind.as_str().to_string(),
            actor_id: Some(actor.id.clone()),
            ip_address: actor.ip_address.clone(),
            subject_id: subject.map(str::to_string),
            data: data.map(|d| d.to_string()),
            fanout: None,
            fanout_cursor: None,
            created_at: to_millis(self.clock.now()),
            dispatched_at: None,
            notify: env.settings.notifications.recipients_json(kind),
        })
    }

    /// One event of `kind` in each environment something reaches: the one
    /// it is limited to, or every environment of the organization (tokens
    /// without a limit, members).
    pub async fn in_reach(
        &self,
        organization_id: &str,
        environment_id: Option<&str>,
        kind: &str,
        actor: &Actor,
        subject: &str,
        data: serde_json::Value,
    ) -> ServiceResult<Vec<EventRecord>> {
        let environments = match environment_id {
            Some(id) => vec![self.environments.get(id).await?],
            None => self.environments.in_organization(organization_id).await?,
        };
        environments
            .iter()
            .map(|env| self.new_event(env, kind, actor, Some(subject), Some(data.clone())))
            .collect()
    }

    /// The newest `limit` events about any of `subjects` (a user and their
    /// sessions, on the user's dashboard page).
    pub async fn about(
        &self,
        environment_id: &str,
        subjects: &[String],
        limit: i64,
    ) -> ServiceResult<Vec<Event>> {
        let records = self.store.about(environment_id, subjects, limit).await?;
        Ok(records.iter().map(Event::from_record).collect())
    }

    /// The environment's audit log.
    pub async fn page(
        &self,
        env: &EnvironmentRuntime,
        filter: &EventFilter,
    ) -> ServiceResult<EventPage> {
        let mut errors = ValidationErrors::default();
        if filter.kind.as_deref().is_some_and(|k| !is_event_type(k)) {
            errors.push("type", "is not an event type (docs/events.md lists them)");
        }
        let limit = filter.limit.unwrap_or(50);
        if !(1..=MAX_PAGE).contains(&limit) {
            errors.push("limit", format!("must be between 1 and {MAX_PAGE}"));
        }
        let before = match filter.cursor.as_deref() {
            None => None,
            Some(c) => match parse_cursor(c) {
                Some(position) => Some(position),
                None => {
                    errors.push("cursor", "is not a cursor from an earlier page");
                    None
                }
            },
        };
        errors.into_result().map_err(ServiceError::Validation)?;
        let rows = self
            .store
            .list(
                env.id(),
                &EventQuery {
                    kind: filter.kind.clone(),
                    since: filter.since,
                    until: filter.until,
                    before,
                    limit: limit + 1,
                },
            )
            .await?;
        let more = rows.len() as i64 > limit;
        let page: Vec<_> = rows.into_iter().take(limit as usize).collect();
        let next_cursor = match more {
            true => page.last().map(|(position, _)| format!("evc_{position}")),
            false => None,
        };
        Ok(EventPage {
            events: page.iter().map(|(_, e)| Event::from_record(e)).collect(),
            next_cursor,
        })
    }
}

/// Finished webhook deliveries (with their attempts) and mails are kept
/// this long (or the events' retention, if shorter).
pub const RECORD_RETENTION_DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;
const PRUNE_BATCH: i64 = 1000;
/// Batches per run at most, so one run stays short; the next run goes on.
const PRUNE_BATCHES: usize = 20;

impl Events {
    /// Deletes what the retention lets go (docs/events.md, "Retention"):
    /// finished deliveries, attempts and mails after 30 days, dispatched
    /// events after `event_retention_days` once nothing refers to them.
    /// Returns how many rows went.
    pub async fn prune_events(&self, now_ms: i64) -> ServiceResult<u64> {
        let events_before = now_ms - self.retention_days * DAY_MS;
        let records_before = now_ms - self.retention_days.min(RECORD_RETENTION_DAYS) * DAY_MS;
        let mut total = 0;
        for _ in 0..PRUNE_BATCHES {
            let deleted = self
                .store
                .prune(events_before, records_before, PRUNE_BATCH)
                .await?;
            total += deleted;
            if deleted == 0 {
                break;
            }
        }
        Ok(total)
    }
}
