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
pub struct SmsStart {
    /// International form: `+`, the country calling code and the number
    /// (spaces, dashes, dots and brackets allowed), e.g. `+44 7400 123456`.
    pub phone: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsVerify {
    pub verification_id: String,
    pub code: String,
}

/// Texts a 6-digit code. The answer is the same whether or not the number
/// belongs to a user. 403 `forbidden` while SMS sign-in is off; 400
/// `validation_failed` (field `phone`) for a number that is not a valid
/// international mobile or fixed-line number, or whose calling code the
/// environment does not admit; 429 `rate_limited` also when the
/// environment's hourly cap is reached.
#[utoipa::path(post, path = "/auth/sms/start", tag = "sdk",
    params(("environment_id" = String, Path)),
    request_body = SmsStart,
    responses(
        (status = 202, body = VerificationStarted),
        (status = 403, description = "SMS sign-in is off", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn sms_start(
    State(services): State<Arc<Services>>,
    SdkEnvironment(env): SdkEnvironment,
    Client(client): Client,
    ApiJson(body): ApiJson<SmsStart>,
) -> ApiResult<(StatusCode, Json<VerificationStarted>)> {
    let started = services
        .sms_sign_in
        .start(&env, &body.phone, &client)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(started.into())))
}

/// Trades the code for a session and its JWT (`amr` `["sms"]`, claim
/// `phone_number`); in cookie mode as `email/verify` does.
#[utoipa::path(post, path = "/auth/sms/verify", tag = "sdk",
    params(("environment_id" = String, Path)),
    request_body = SmsVerify,
    responses(
        (status = 200, body = AuthResult),
        (status = 400, description = "invalid_code or validation_failed", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "SMS sign-in is off", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn sms_verify(
    State(services): State<Arc<Services>>,
    SdkEnvironment(env): SdkEnvironment,
    Client(client): Client,
    ApiJson(body): ApiJson<SmsVerify>,
) -> ApiResult<Response> {
    let signed = services
        .code_sign_in
        .verify(
            &env,
            CredentialKind::Phone,
            &body.verification_id,
            &body.code,
            &client,
        )
        .await?;
    Ok(cookies::auth_answer(&services, &env, signed))
}
