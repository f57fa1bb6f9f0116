//! Webhook endpoints and their deliveries as the API shows them, and the
//! fields a create or an update sends.

use serde::{Deserialize, Serialize};

use super::shown;
use crate::services::webhooks as plain;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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

// No `Debug`: it holds the secret in the clear.
/// A webhook with its signing secret, shown once (create, rotate).
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_…`: verify deliveries with it (Standard Webhooks).
    pub secret: String,
}

/// Fields of a create (all but `url` optional) or an update (all optional).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    #[serde(rename = "event_type")]
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

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    pub attempted_at: String,
    pub duration_ms: i64,
    pub response_status: Option<i64>,
    /// The first 4 KiB of the answer.
    pub response_body: Option<String>,
    /// Why no answer came (timeout, refused connection, forbidden address).
    pub error: Option<String>,
}

impl From<plain::Webhook> for Webhook {
    fn from(w: plain::Webhook) -> Self {
        Webhook {
            id: w.id,
            url: w.url,
            description: w.description,
            events: w.events,
            enabled: w.enabled,
            disabled_reason: w.disabled_reason,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

impl From<plain::WebhookWithSecret> for WebhookWithSecret {
    fn from(w: plain::WebhookWithSecret) -> Self {
        WebhookWithSecret {
            secret: shown(&w.secret),
            webhook: w.webhook.into(),
        }
    }
}

impl From<WebhookInput> for plain::WebhookInput {
    fn from(i: WebhookInput) -> Self {
        plain::WebhookInput {
            url: i.url,
            events: i.events,
            enabled: i.enabled,
            description: i.description,
        }
    }
}

impl From<plain::Attempt> for Attempt {
    fn from(a: plain::Attempt) -> Self {
        Attempt {
            attempted_at: a.attempted_at,
            duration_ms: a.duration_ms,
            response_status: a.response_status,
            response_body: a.response_body,
            error: a.error,
        }
    }
}

impl From<plain::Delivery> for Delivery {
    fn from(d: plain::Delivery) -> Self {
        Delivery {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status,
            attempt_count: d.attempt_count,
            next_attempt_at: d.next_attempt_at,
            last_response_status: d.last_response_status,
            created_at: d.created_at,
            completed_at: d.completed_at,
            attempts: d.attempts.into_iter().map(Attempt::from).collect(),
        }
    }
}
