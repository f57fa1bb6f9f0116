//! The SDK API, `/sdk/v1/{environment_id}/…`, called from browsers and apps.

mod auth;
mod config;
pub mod cookies;
mod credentials;
pub mod gate;
mod mfa;
mod session;
mod wellknown;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use crate::domain::claims::SessionClaims;
use crate::services::environments::EnvironmentRuntime;
use crate::services::{ServiceError, Services};

/// Every SDK route, nested under `/sdk/v1/{environment_id}` behind the
/// gate (`gate.rs`), which resolves the environment before any handler.
pub fn router(services: Arc<Services>) -> OpenApiRouter<Arc<Services>> {
    OpenApiRouter::new().nest(
        "/sdk/v1/{environment_id}",
        // Its own fallback, so that the gate answers for unknown paths
        // under an environment too (an allowed origin reads the 404).
        routes()
            .fallback(super::not_found)
            .layer(axum::middleware::from_fn_with_state(services, gate::gate)),
    )
}

fn routes() -> OpenApiRouter<Arc<Services>> {
    OpenApiRouter::new()
        .routes(routes!(config::public_config))
        .routes(routes!(auth::email::email_start))
        .routes(routes!(auth::email::email_verify))
        .routes(routes!(auth::sms::sms_start))
        .routes(routes!(auth::sms::sms_verify))
        .routes(routes!(auth::wallet::wallet_nonce))
        .routes(routes!(auth::wallet::wallet_verify))
        .routes(routes!(session::current_session))
        .routes(routes!(session::logout))
        .routes(routes!(session::own_sessions))
        .routes(routes!(session::revoke_own_session))
        .routes(routes!(credentials::own_credentials))
        .routes(routes!(mfa::devices))
        .routes(routes!(mfa::remove_device))
        .routes(routes!(mfa::begin_totp))
        .routes(routes!(mfa::confirm_totp))
        .routes(routes!(mfa::verify))
        .routes(routes!(mfa::step_up))
        .routes(routes!(mfa::regenerate_recovery_codes))
        .routes(routes!(mfa::begin_passkey_registration))
        .routes(routes!(mfa::finish_passkey_registration))
        .routes(routes!(mfa::passkey_challenge))
        .routes(routes!(wellknown::jwks))
        .routes(routes!(wellknown::openid_configuration))
}

/// The caller's live, complete session: a valid JWT of the environment in
/// the path, as a bearer token or, in cookie mode, the session cookie
/// (`cookies.rs`). A partial token (MFA outstanding) is refused with 403
/// `mfa_required`.
pub struct SdkSession {
    pub env: Arc<EnvironmentRuntime>,
    pub claims: Arc<SessionClaims>,
    /// The token came in the session cookie.
    pub by_cookie: bool,
}

/// The caller's live session, complete or partial: for the MFA routes that
/// a partial session uses to finish signing in.
pub struct SdkAnySession {
    pub env: Arc<EnvironmentRuntime>,
    pub claims: Arc<SessionClaims>,
    pub by_cookie: bool,
}

/// The environment of the path, resolved by the gate: known, unlocked,
/// and the request's origin allowed.
pub struct SdkEnvironment(pub Arc<EnvironmentRuntime>);

impl<S: Send + Sync> FromRequestParts<S> for SdkEnvironment {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Arc<EnvironmentRuntime>>()
            .cloned()
            .map(SdkEnvironment)
            .ok_or_else(ApiError::not_found)
    }
}

impl FromRequestParts<Arc<Services>> for SdkAnySession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        services: &Arc<Services>,
    ) -> Result<Self, Self::Rejection> {
        let SdkEnvironment(env) = SdkEnvironment::from_request_parts(parts, services)
            .await
            .map_err(IntoResponse::into_response)?;
        let Some(credential) = cookies::credential(parts, &env) else {
            return Err(ApiError::from(ServiceError::MissingCredentials).into_response());
        };
        let by_cookie = credential.is_cookie();
        let claims = services
            .sessions
            .check_session_token(&env, credential.token());
        services.metrics.session_check(match &claims {
            Ok(_) => "valid",
            Err(ServiceError::TokenExpired) => "expired",
            Err(ServiceError::SessionRevoked) => "revoked",
            Err(_) => "invalid",
        });
        let claims = match claims {
            Ok(claims) => claims,
            Err(e) => return Err(cookies::rejected(e.into(), &env, by_cookie)),
        };
        if by_cookie {
            cookies::check_csrf(services, parts, &env, &claims.sid)
                .map_err(IntoResponse::into_response)?;
        }
        Ok(SdkAnySession {
            claims,
            env,
            by_cookie,
        })
    }
}

impl FromRequestParts<Arc<Services>> for SdkSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        services: &Arc<Services>,
    ) -> Result<Self, Self::Rejection> {
        let SdkAnySession {
            env,
            claims,
            by_cookie,
        } = SdkAnySession::from_request_parts(parts, services).await?;
        if claims.is_partial() {
            return Err(ApiError::from(ServiceError::MfaRequired).into_response());
        }
        Ok(SdkSession {
            env,
            claims,
            by_cookie,
        })
    }
}

/// The header that carries an elevated token.
pub const ELEVATED_TOKEN_HEADER: &str = "x-portcullis-elevated-token";

/// The elevated token sent with the request, if any.
pub struct ElevatedTokenHeader(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ElevatedTokenHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ElevatedTokenHeader(
            parts
                .headers
                .get(ELEVATED_TOKEN_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty()),
        ))
    }
}
