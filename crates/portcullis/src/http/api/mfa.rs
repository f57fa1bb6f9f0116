//! A user's MFA devices, as operators see and reset them.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;

use super::authorized_environment;
use crate::domain::actor::Actor;
use crate::http::error::ApiResult;
use crate::http::extract::{ApiAuth, Client, Developer, Viewer};
use crate::http::views::mfa::MfaDeviceList;
use crate::services::Services;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RemovedCount {
    pub removed_count: u64,
}

#[utoipa::path(get, path = "/api/v1/environments/{environment_id}/users/{user_id}/mfa/devices", tag = "management",
    params(("environment_id" = String, Path), ("user_id" = String, Path)),
    security(("api_token" = [])),
    responses((status = 200, body = MfaDeviceList)))]
pub async fn user_devices(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Viewer>,
    Path((environment_id, user_id)): Path<(String, String)>,
) -> ApiResult<Json<MfaDeviceList>> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    services.users.get(env.id(), &user_id).await?;
    Ok(Json(
        services.mfa.devices.list(env.id(), &user_id).await?.into(),
    ))
}

/// Deletes one of the user's devices.
#[utoipa::path(delete, path = "/api/v1/environments/{environment_id}/users/{user_id}/mfa/devices/{device_id}", tag = "management",
    params(("environment_id" = String, Path), ("user_id" = String, Path), ("device_id" = String, Path)),
    security(("api_token" = [])),
    responses((status = 204)))]
pub async fn delete_user_device(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Developer>,
    Client(client): Client,
    Path((environment_id, user_id, device_id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    services
        .mfa
        .devices
        .delete_user_device(env.id(), &user_id, &device_id, &actor)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Resets the user's MFA: every device and recovery code is deleted, and
/// the user must enrol again. Their sessions stay valid (revoke them with
/// `…/users/{user_id}/sessions/revoke` if needed).
#[utoipa::path(delete, path = "/api/v1/environments/{environment_id}/users/{user_id}/mfa/devices", tag = "management",
    params(("environment_id" = String, Path), ("user_id" = String, Path)),
    security(("api_token" = [])),
    responses((status = 200, body = RemovedCount)))]
pub async fn reset_user_mfa(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Developer>,
    Client(client): Client,
    Path((environment_id, user_id)): Path<(String, String)>,
) -> ApiResult<Json<RemovedCount>> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    let removed_count = services
        .mfa
        .devices
        .reset_user_mfa(env.id(), &user_id, &actor)
        .await?;
    Ok(Json(RemovedCount { removed_count }))
}
