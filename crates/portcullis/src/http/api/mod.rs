//! The management API, `/api/v1/…`, called by customers' backends with an
//! API token. Reads need `viewer`, writes `developer` (API.md).

mod environments;
mod mfa;
mod origins;
mod sessions;
mod users;

use std::sync::Arc;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::ApiAuth;
use crate::domain::roles::Role;
use crate::services::Services;
use crate::services::environments::EnvironmentRuntime;

pub fn router() -> OpenApiRouter<Arc<Services>> {
    OpenApiRouter::new()
        .routes(routes!(environments::get_environment))
        .routes(routes!(
            environments::get_security_settings,
            environments::patch_security_settings
        ))
        .routes(routes!(origins::list_origins, origins::add_origin))
        .routes(routes!(origins::delete_origin))
        .routes(routes!(users::list_users))
        .routes(routes!(users::get_user))
        .routes(routes!(users::user_sessions))
        .routes(routes!(users::revoke_user_sessions))
        .routes(routes!(sessions::revoke_session))
        .routes(routes!(sessions::revoke_environment_sessions))
        .routes(routes!(sessions::introspect))
        .routes(routes!(mfa::user_devices, mfa::reset_user_mfa))
        .routes(routes!(mfa::delete_user_device))
}

/// The environment, if the caller may act on it with `needed`.
pub async fn authorized_environment(
    services: &Services,
    auth: &ApiAuth,
    environment_id: &str,
    needed: Role,
) -> Result<Arc<EnvironmentRuntime>, ApiError> {
    let env = services.environment(environment_id).await?;
    auth.0.authorize(&env, needed)?;
    Ok(env)
}
