//! Events: who did what, recorded with the change (the audit log), and the
//! outbox that webhooks are delivered from (docs/events.md).

use serde::Serialize;

use super::environments::EnvironmentRuntime;
use super::{ServiceError, ServiceResult, Services};
use crate::clock::{rfc3339, to_millis};
use crate::domain::events::{is_event_type, notifies};
use crate::domain::settings::NotificationSettings;
use crate::domain::validation::ValidationErrors;
use crate::store::{EventQuery, EventRecord};

/// Who caused a change.
#[derive(Debug, Clone)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: String,
    /// The caller's address, for the audit log.
    pub ip_address: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// An end user, through the SDK API.
    User,
    ApiToken,
    /// Portcullis itself (a fan-out, a ping).
    System,
    /// The operator, through the `portcullis` command on the database.
    Cli,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::ApiToken => "api_token",
            ActorKind::System => "system",
            ActorKind::Cli => "cli",
        }
    }
}

impl Actor {
    pub fn user(id: &str, ip_address: Option<String>) -> Actor {
        Actor {
            kind: ActorKind::User,
            id: id.to_string(),
            ip_address,
        }
    }

    pub fn system() -> Actor {
        Actor {
            kind: ActorKind::System,
            id: "portcullis".into(),
            ip_address: None,
        }
    }

    /// The operator at the command line (the OS user, when known).
    pub fn cli(who: Option<String>) -> Actor {
        Actor {
            kind: ActorKind::Cli,
            id: who.unwrap_or_else(|| "operator".into()),
            ip_address: None,
        }
    }

    pub fn api_token(id: &str, ip_address: Option<String>) -> Actor {
        Actor {
            kind: ActorKind::ApiToken,
            id: id.to_string(),
            ip_address,
        }
    }
}

/// An event as the audit log and webhooks show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Event {
    /// `evt_…`; also the `webhook-id` of its deliveries.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub timestamp: String,
    pub environment_id: Option<String>,
    pub actor: EventActor,
    /// What it is about, when it names one thing: the session of session
    /// events, the user of `user.*`, the webhook of `environment.webhook.*`.
    pub subject: Option<String>,
    /// The payload's `data`; `null` for a session event not yet dispatched.
    #[schema(value_type = Object)]
    pub data: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventActor {
    /// `user`, `api_token`, `system` or `cli`
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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

impl Services {
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
            id: self.new_id("evt")?,
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
            notify: recipients_json(&env.settings.notifications, kind),
        })
    }

    /// One event of `kind` in each environment something reaches: the one
    /// it is limited to, or every environment of the organization (tokens
    /// without a limit, members).
    pub async fn events_in_reach(
        &self,
        organization_id: &str,
        environment_id: Option<&str>,
        kind: &str,
        actor: &Actor,
        subject: &str,
        data: serde_json::Value,
    ) -> ServiceResult<Vec<EventRecord>> {
        let ids = match environment_id {
            Some(id) => vec![id.to_string()],
            None => self
                .store
                .environments
                .in_organization(organization_id)
                .await?
                .into_iter()
                .map(|e| e.id)
                .collect(),
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let env = self.environment(&id).await?;
            out.push(self.new_event(&env, kind, actor, Some(subject), Some(data.clone()))?);
        }
        Ok(out)
    }

    /// The environment's audit log.
    pub async fn events(
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
            .events
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

impl Services {
    /// Deletes what the retention lets go (docs/events.md, "Retention"):
    /// finished deliveries, attempts and mails after 30 days, dispatched
    /// events after `event_retention_days` once nothing refers to them.
    /// Returns how many rows went.
    pub async fn prune_events(&self, now_ms: i64) -> ServiceResult<u64> {
        let events_before = now_ms - self.event_retention_days * DAY_MS;
        let records_before = now_ms - self.event_retention_days.min(RECORD_RETENTION_DAYS) * DAY_MS;
        let mut total = 0;
        for _ in 0..PRUNE_BATCHES {
            let deleted = self
                .store
                .events
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

/// The recipients to mail about an event of `kind` under these settings,
/// as stored with the event (`None`: nobody).
pub fn recipients_json(settings: &NotificationSettings, kind: &str) -> Option<String> {
    let recipients = recipients(settings, kind);
    (!recipients.is_empty()).then(|| serde_json::to_string(&recipients).unwrap_or_default())
}

/// Stands, among an event's recipients, for the organization's owner and
/// admins, looked up when the mails are made: whom security e-mails go to
/// while the settings name no recipients. Never an e-mail address.
pub const ADMIN_MEMBERS: &str = "@admins";

pub fn recipients(settings: &NotificationSettings, kind: &str) -> Vec<String> {
    match notifies(&settings.events, kind) {
        true if settings.recipients.is_empty() => vec![ADMIN_MEMBERS.to_string()],
        true => settings.recipients.clone(),
        false => vec![],
    }
}
