//! The SDK API, `/sdk/v1/{environment_id}/…`, called from browsers and apps.

mod auth;
mod session;
mod wellknown;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::bearer;
use crate::domain::claims::SessionClaims;
use crate::services::environments::EnvironmentRuntime;
use crate::services::{ServiceError, Services};

pub fn router() -> OpenApiRouter<Arc<Services>> {
    OpenApiRouter::new()
        .routes(routes!(auth::email_start))
        .routes(routes!(auth::email_verify))
        .routes(routes!(session::current_session))
        .routes(routes!(session::logout))
        .routes(routes!(session::own_sessions))
        .routes(routes!(session::revoke_own_session))
        .routes(routes!(wellknown::jwks))
        .routes(routes!(wellknown::openid_configuration))
}

/// The caller's live session: a valid JWT of the environment in the path.
pub struct SdkSession {
    pub env: Arc<EnvironmentRuntime>,
    pub claims: Arc<SessionClaims>,
}

pub async fn environment_from_path(
    parts: &mut Parts,
    services: &Services,
) -> Result<Arc<EnvironmentRuntime>, ApiError> {
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, &())
        .await
        .map_err(|_| ApiError::not_found())?;
    let id = params
        .get("environment_id")
        .ok_or_else(ApiError::not_found)?;
    Ok(services.environment(id).await?)
}

impl FromRequestParts<Arc<Services>> for SdkSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        services: &Arc<Services>,
    ) -> Result<Self, Self::Rejection> {
        let env = environment_from_path(parts, services).await?;
        let token = bearer(parts).ok_or(ServiceError::MissingCredentials)?;
        let claims = services.check_session_token(&env, token);
        services.metrics.session_check(match &claims {
            Ok(_) => "valid",
            Err(ServiceError::TokenExpired) => "expired",
            Err(ServiceError::SessionRevoked) => "revoked",
            Err(_) => "invalid",
        });
        Ok(SdkSession {
            claims: claims?,
            env,
        })
    }
}
