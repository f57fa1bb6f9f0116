//! The revocation feed for verifiers (docs/verify.md).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::{authorized_environment_even_locked, query};
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiAuth, Viewer};
use crate::http::views::revocations::RevocationPage;
use crate::services::Services;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// `next_cursor` of the previous page; empty or absent: everything kept,
    /// which is the whole current state.
    pub after: Option<String>,
    /// 1 to 1000, default 500.
    pub limit: Option<u32>,
}

/// The environment's revocations since `after`, in the order they were
/// recorded. Open while the environment is locked: verifiers need them
/// most during an incident.
#[utoipa::path(get, path = "/api/v1/environments/{environment_id}/revocations", tag = "management",
    params(("environment_id" = String, Path), FeedQuery),
    security(("api_token" = [])),
    responses(
        (status = 200, body = RevocationPage),
        (status = 410, description = "cursor_expired: the cursor is older than what the feed keeps; start over without `after`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revocations(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Viewer>,
    Path(environment_id): Path<String>,
    q: Result<Query<FeedQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<RevocationPage>> {
    let env = authorized_environment_even_locked(&services, &auth.0, &environment_id).await?;
    let q = query(q)?;
    let page = services
        .revocation_feed
        .page(env.id(), q.after.as_deref(), q.limit)
        .await?;
    Ok(Json(page.into()))
}
