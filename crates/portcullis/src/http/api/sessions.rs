use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;

use super::authorized_environment_even_locked;
use super::users::RevokedCount;
use crate::domain::actor::Actor;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiAuth, ApiJson, Client, Developer, Viewer};
use crate::http::views::sessions::{Introspection, SessionInfo};
use crate::services::Services;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntrospectRequest {
    pub token: String,
}

/// Revokes one session; revoking it again changes nothing.
#[utoipa::path(post, path = "/api/v1/environments/{environment_id}/sessions/{session_id}/revoke", tag = "management",
    params(("environment_id" = String, Path), ("session_id" = String, Path)),
    security(("api_token" = [])),
    responses((status = 200, body = SessionInfo)))]
pub async fn revoke_session(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Developer>,
    Client(client): Client,
    Path((environment_id, session_id)): Path<(String, String)>,
) -> ApiResult<Json<SessionInfo>> {
    // Revocation only takes access away: an owner who locked the
    // environment during an incident may revoke before unlocking.
    let env = authorized_environment_even_locked(&services, &auth.0, &environment_id).await?;
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    Ok(Json(
        services
            .revocation
            .session(env.id(), &session_id, None, &actor)
            .await?
            .into(),
    ))
}

/// Revokes every session in the environment: one watermark, O(1) to record.
#[utoipa::path(post, path = "/api/v1/environments/{environment_id}/sessions/revoke", tag = "management",
    params(("environment_id" = String, Path)),
    security(("api_token" = [])),
    responses((status = 200, body = RevokedCount)))]
pub async fn revoke_environment_sessions(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Developer>,
    Client(client): Client,
    Path(environment_id): Path<String>,
) -> ApiResult<Json<RevokedCount>> {
    // Revocation only takes access away: an owner who locked the
    // environment during an incident may revoke before unlocking.
    let env = authorized_environment_even_locked(&services, &auth.0, &environment_id).await?;
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    Ok(Json(RevokedCount {
        revoked_count: services.revocation.environment(env.id(), &actor).await?,
    }))
}

/// RFC 7662-shaped: `{active: false}` for any token that would be refused;
/// when active, the claims and `token_type`. `scope` tells a full session
/// (`user:basic`) from a partial one (`requiresAdditionalAuth`) and names
/// an elevated token's action. Reads only: an elevated token is not spent
/// by asking about it, so any role, `viewer` included, may ask.
#[utoipa::path(post, path = "/api/v1/environments/{environment_id}/sessions/introspect", tag = "management",
    params(("environment_id" = String, Path)),
    request_body = IntrospectRequest,
    security(("api_token" = [])),
    responses((status = 200, body = Introspection)))]
pub async fn introspect(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Viewer>,
    Path(environment_id): Path<String>,
    body: Result<ApiJson<IntrospectRequest>, ApiError>,
) -> ApiResult<Json<Introspection>> {
    // A locked environment still answers: every token is inactive.
    let env = authorized_environment_even_locked(&services, &auth.0, &environment_id).await?;
    let ApiJson(body) = body?;
    Ok(Json(
        services
            .sessions
            .introspect(&env, &body.token)
            .await?
            .into(),
    ))
}
