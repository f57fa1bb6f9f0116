//! The audit log (docs/events.md).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::{authorized_environment, query};
use crate::clock::parse_rfc3339;
use crate::domain::validation::ValidationErrors;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiAuth, Viewer};
use crate::http::views::events::EventPage;
use crate::services::Services;
use crate::services::events::EventFilter;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// Only events of this type.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Only events at or after this instant (RFC 3339).
    pub since: Option<String>,
    /// Only events before this instant (RFC 3339).
    pub until: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1 to 100, default 50.
    pub limit: Option<i64>,
}

fn instant(field: &str, text: Option<&str>) -> Result<Option<i64>, ApiError> {
    text.map(|t| {
        parse_rfc3339(t).ok_or_else(|| {
            ApiError::validation(ValidationErrors::single(
                field,
                "must be an RFC 3339 time, e.g. 2026-11-22T10:00:00Z",
            ))
        })
    })
    .transpose()
}

/// The environment's audit log, newest first: who (user, API token), what,
/// when, from which address.
#[utoipa::path(get, path = "/api/v1/environments/{environment_id}/events", tag = "management",
    params(("environment_id" = String, Path), EventQuery),
    security(("api_token" = [])),
    responses(
        (status = 200, body = EventPage),
    ))]
pub async fn list_events(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Viewer>,
    Path(environment_id): Path<String>,
    q: Result<Query<EventQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<EventPage>> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    let q = query(q)?;
    let filter = EventFilter {
        kind: q.kind,
        since: instant("since", q.since.as_deref())?,
        until: instant("until", q.until.as_deref())?,
        cursor: q.cursor,
        limit: q.limit,
    };
    Ok(Json(services.events.page(&env, &filter).await?.into()))
}
