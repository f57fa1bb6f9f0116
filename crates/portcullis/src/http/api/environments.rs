use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;

use super::{authorized_environment, authorized_environment_even_locked};
use crate::domain::actor::Actor;
use crate::domain::origin_list::OriginWarning;
use crate::domain::settings::SecuritySettings;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiAuth, ApiJson, Client, Developer, Owner, Viewer};
use crate::http::views::environments::EnvironmentInfo;
use crate::services::Services;
use crate::services::lock;
use crate::services::sessions::ClientInfo;

#[utoipa::path(get, path = "/api/v1/environments/{environment_id}", tag = "management",
    params(("environment_id" = String, Path)),
    security(("api_token" = [])),
    responses(
        (status = 200, body = EnvironmentInfo),
    ))]
pub async fn get_environment(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Viewer>,
    Path(environment_id): Path<String>,
) -> ApiResult<Json<EnvironmentInfo>> {
    let env = authorized_environment_even_locked(&services, &auth.0, &environment_id).await?;
    Ok(Json(lock::EnvironmentInfo::of(&env).into()))
}

/// Locks the environment (owner only): every SDK request and every
/// management request for it gets 423 `environment_locked`, except reading
/// the environment, unlocking and introspection (which says every token is
/// inactive). Sessions are refused, not revoked. Idempotent: locking a
/// locked environment answers 200 and changes nothing.
#[utoipa::path(post, path = "/api/v1/environments/{environment_id}/lock", tag = "management",
    params(("environment_id" = String, Path)),
    security(("api_token" = [])),
    responses(
        (status = 200, body = EnvironmentInfo),
    ))]
pub async fn lock_environment(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Owner>,
    Client(client): Client,
    Path(environment_id): Path<String>,
) -> ApiResult<Json<EnvironmentInfo>> {
    set_locked(&services, &auth, client, &environment_id, true).await
}

/// Unlocks the environment (owner only). Sessions that did not expire and
/// were not revoked meanwhile work again. Idempotent.
#[utoipa::path(post, path = "/api/v1/environments/{environment_id}/unlock", tag = "management",
    params(("environment_id" = String, Path)),
    security(("api_token" = [])),
    responses(
        (status = 200, body = EnvironmentInfo),
    ))]
pub async fn unlock_environment(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Owner>,
    Client(client): Client,
    Path(environment_id): Path<String>,
) -> ApiResult<Json<EnvironmentInfo>> {
    set_locked(&services, &auth, client, &environment_id, false).await
}

async fn set_locked(
    services: &Arc<Services>,
    auth: &ApiAuth<Owner>,
    client: ClientInfo,
    environment_id: &str,
    locked: bool,
) -> ApiResult<Json<EnvironmentInfo>> {
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    Ok(Json(
        services
            .locks
            .lock_environment(&auth.0, environment_id, locked, &actor)
            .await?
            .into(),
    ))
}

/// The security settings, with advice about them. `warnings` is not a
/// setting: a PATCH that sends it back (a read, edited and written whole)
/// has it ignored.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SettingsView {
    #[serde(flatten)]
    pub settings: SecuritySettings,
    /// Advice (only for `live` environments): wildcard, local or `http:`
    /// origins on the environment's list.
    pub warnings: Vec<OriginWarning>,
}

#[utoipa::path(get, path = "/api/v1/environments/{environment_id}/settings/security", tag = "management",
    params(("environment_id" = String, Path)),
    security(("api_token" = [])),
    responses((status = 200, body = SettingsView)))]
pub async fn get_security_settings(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Viewer>,
    Path(environment_id): Path<String>,
) -> ApiResult<Json<SettingsView>> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    Ok(Json(SettingsView {
        settings: env.settings.clone(),
        warnings: env.origin_warnings(),
    }))
}

/// A JSON merge patch (RFC 7396) of the settings; the result is validated
/// as a whole and nothing changes when it is refused.
#[utoipa::path(patch, path = "/api/v1/environments/{environment_id}/settings/security", tag = "management",
    params(("environment_id" = String, Path)),
    request_body(content = Object, description = "any subset of the settings"),
    security(("api_token" = [])),
    responses(
        (status = 200, body = SettingsView),
    ))]
pub async fn patch_security_settings(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Developer>,
    Client(client): Client,
    Path(environment_id): Path<String>,
    body: Result<ApiJson<serde_json::Value>, ApiError>,
) -> ApiResult<Json<SettingsView>> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    // A locked environment answers 423 whatever the body.
    let ApiJson(mut patch) = body?;
    if let Some(fields) = patch.as_object_mut() {
        fields.remove("warnings");
    }
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    let settings = services.settings.update(env.id(), &patch, &actor).await?;
    Ok(Json(SettingsView {
        settings,
        warnings: env.origin_warnings(),
    }))
}
