//! The management API, `/api/v1/…`, called by customers' backends with an
//! API token. Reads need `viewer`, writes `developer`, tokens and members
//! `admin`, lock and unlock `owner`: each handler names its least role in
//! its `ApiAuth<…>` argument (docs/access.md has the whole table).

mod advisor;
mod environments;
mod events;
mod members;
mod mfa;
mod origins;
mod revocations;
mod sessions;
mod tokens;
mod users;
mod webhooks;

use std::sync::Arc;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use crate::services::Services;
use crate::services::api_tokens::ApiCaller;
use crate::services::environments::EnvironmentRuntime;

pub fn router() -> OpenApiRouter<Arc<Services>> {
    OpenApiRouter::new()
        .routes(routes!(environments::get_environment))
        .routes(routes!(environments::lock_environment))
        .routes(routes!(environments::unlock_environment))
        .routes(routes!(
            environments::get_security_settings,
            environments::patch_security_settings
        ))
        .routes(routes!(advisor::security_advisor))
        .routes(routes!(origins::list_origins, origins::add_origin))
        .routes(routes!(origins::delete_origin))
        .routes(routes!(events::list_events))
        .routes(routes!(revocations::revocations))
        .routes(routes!(revocations::revocation_stream))
        .routes(routes!(webhooks::list_webhooks, webhooks::create_webhook))
        .routes(routes!(
            webhooks::get_webhook,
            webhooks::update_webhook,
            webhooks::delete_webhook
        ))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::test_webhook))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::redeliver))
        .routes(routes!(users::list_users))
        .routes(routes!(users::get_user))
        .routes(routes!(users::user_sessions))
        .routes(routes!(users::revoke_user_sessions))
        .routes(routes!(sessions::revoke_session))
        .routes(routes!(sessions::revoke_environment_sessions))
        .routes(routes!(sessions::introspect))
        .routes(routes!(mfa::user_devices, mfa::reset_user_mfa))
        .routes(routes!(mfa::delete_user_device))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::delete_token))
        .routes(routes!(tokens::rotate_token))
        .routes(routes!(members::list_members, members::add_member))
        .routes(routes!(
            members::get_member,
            members::update_member,
            members::remove_member
        ))
}

/// A query string, or 400 `validation_failed` naming what is wrong.
pub(super) fn query<T: serde::de::DeserializeOwned>(
    q: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    q.map(|axum::extract::Query(v)| v).map_err(|e| {
        ApiError::validation(crate::domain::validation::ValidationErrors::single(
            "query",
            e.body_text(),
        ))
    })
}

/// The environment, if the caller may act on it, and it is not locked
/// (423 `environment_locked`).
pub async fn authorized_environment(
    services: &Services,
    caller: &ApiCaller,
    environment_id: &str,
) -> Result<Arc<EnvironmentRuntime>, ApiError> {
    let env = authorized_environment_even_locked(services, caller, environment_id).await?;
    env.refuse_if_locked()?;
    Ok(env)
}

/// The environment, if the caller may act on it, locked or not: for the
/// routes a lock leaves open (reading the environment, lock, unlock,
/// introspection, revocations, the security advisor).
pub async fn authorized_environment_even_locked(
    services: &Services,
    caller: &ApiCaller,
    environment_id: &str,
) -> Result<Arc<EnvironmentRuntime>, ApiError> {
    let env = services.environments.get(environment_id).await?;
    caller.authorize(&env)?;
    Ok(env)
}
