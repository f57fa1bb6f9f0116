//! The security advisor (docs/security-advisor.md).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};

use super::authorized_environment_even_locked;
use crate::http::error::ApiResult;
use crate::http::extract::{ApiAuth, Viewer};
use crate::http::views::advisor::Finding;
use crate::services::Services;

/// The environment's findings against the security best practices, most
/// severe first; `[]` when there is nothing to advise. A read that changes
/// nothing, so a locked environment answers too.
#[utoipa::path(get, path = "/api/v1/environments/{environment_id}/security/advisor", tag = "management",
    params(("environment_id" = String, Path)),
    security(("api_token" = [])),
    responses(
        (status = 200, body = Vec<Finding>),
    ))]
pub async fn security_advisor(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Viewer>,
    Path(environment_id): Path<String>,
) -> ApiResult<Json<Vec<Finding>>> {
    let env = authorized_environment_even_locked(&services, &auth.0, &environment_id).await?;
    let findings = services.advisor.findings(&auth.0, &env).await?;
    Ok(Json(findings.into_iter().map(Finding::from).collect()))
}
