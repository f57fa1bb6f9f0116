//! Events as the audit log shows them.

use serde::Serialize;

use crate::services::events as plain;

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

/// One page of the audit log, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventPage {
    pub events: Vec<Event>,
    /// Pass as `cursor` for the next (older) page; absent on the last.
    pub next_cursor: Option<String>,
}

impl From<plain::Event> for Event {
    fn from(e: plain::Event) -> Self {
        Event {
            id: e.id,
            kind: e.kind,
            timestamp: e.timestamp,
            environment_id: e.environment_id,
            actor: EventActor {
                kind: e.actor.kind,
                id: e.actor.id,
                ip_address: e.actor.ip_address,
            },
            subject: e.subject,
            data: e.data,
        }
    }
}

impl From<plain::EventPage> for EventPage {
    fn from(p: plain::EventPage) -> Self {
        EventPage {
            events: p.events.into_iter().map(Event::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}
