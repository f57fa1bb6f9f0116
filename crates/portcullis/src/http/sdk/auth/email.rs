use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::domain::credential::CredentialKind;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiJson, Client};
use crate::http::sdk::{SdkEnvironment, cookies};
use crate::http::views::auth::{AuthResult, VerificationStarted};
use crate::services::Services;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailStart {
    pub email: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailVerify {
    pub verification_id: String,
    pub code: String,
}

/// Mails a 6-digit code. The answer is the same whether or not the address
/// belongs to a user.
#[utoipa::path(post, path = "/auth/email/start", tag = "sdk",
    params(("environment_id" = String, Path)),
    request_body = EmailStart,
    responses(
        (status = 202, body = VerificationStarted),
    ))]
pub async fn email_start(
    State(services): State<Arc<Services>>,
    SdkEnvironment(env): SdkEnvironment,
    Client(client): Client,
    ApiJson(body): ApiJson<EmailStart>,
) -> ApiResult<(StatusCode, Json<VerificationStarted>)> {
    let started = services
        .email_sign_in
        .start(&env, &body.email, &client)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(started.into())))
}

/// Trades the code for a session and its JWT (in cookie mode, set as the
/// `HttpOnly` cookie `portcullis_session`, with `csrf_token` in the body).
#[utoipa::path(post, path = "/auth/email/verify", tag = "sdk",
    params(("environment_id" = String, Path)),
    request_body = EmailVerify,
    responses(
        (status = 200, body = AuthResult),
        (status = 400, description = "invalid_code or validation_failed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn email_verify(
    State(services): State<Arc<Services>>,
    SdkEnvironment(env): SdkEnvironment,
    Client(client): Client,
    ApiJson(body): ApiJson<EmailVerify>,
) -> ApiResult<Response> {
    let signed = services
        .code_sign_in
        .verify(
            &env,
            CredentialKind::Email,
            &body.verification_id,
            &body.code,
            &client,
        )
        .await?;
    Ok(cookies::auth_answer(&services, &env, signed))
}
