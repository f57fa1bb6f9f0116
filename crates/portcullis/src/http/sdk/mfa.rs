//! `/sdk/v1/{environment_id}/mfa/…`: the caller's second factors. The
//! routes a partial session needs to finish signing in take
//! `SdkAnySession`; the others a complete session.

use crate::domain::actor::Actor;
use crate::http::extract::Client;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{ElevatedTokenHeader, SdkAnySession, SdkSession, cookies};
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::ApiJson;
use crate::http::views::auth::AuthResult;
use crate::http::views::mfa::{
    ConfirmedDevice, ElevatedToken, MfaDeviceList, PasskeyAssertion, PasskeyChallenge,
    PasskeyRegistrationFinish, PasskeyRegistrationOptions, RecoveryCodes, TotpEnrollment,
};
use crate::services::Services;
use crate::services::mfa::SecondFactor;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpConfirm {
    pub code: String,
}

/// Exactly one of `code` (TOTP), `recovery_code` and `assertion` (passkey).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaVerify {
    pub code: Option<String>,
    pub recovery_code: Option<String>,
    pub assertion: Option<PasskeyAssertion>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepUp {
    /// The action: `credential:link`, `credential:unlink`, `wallet:sign` or
    /// `wallet:export`.
    pub scope: String,
    pub code: Option<String>,
    pub recovery_code: Option<String>,
    pub assertion: Option<PasskeyAssertion>,
}

/// The caller's MFA devices, confirmed or pending.
#[utoipa::path(get, path = "/mfa/devices", tag = "sdk",
    params(("environment_id" = String, Path)),
    security(("session_jwt" = [])),
    responses((status = 200, body = MfaDeviceList)))]
pub async fn devices(
    State(services): State<Arc<Services>>,
    session: SdkAnySession,
) -> ApiResult<Json<MfaDeviceList>> {
    Ok(Json(
        services
            .mfa
            .devices
            .list(session.env.id(), &session.claims.sub)
            .await?
            .into(),
    ))
}

/// Begins TOTP enrolment. A partial session may enrol only a first device.
#[utoipa::path(post, path = "/mfa/totp", tag = "sdk",
    params(("environment_id" = String, Path)),
    security(("session_jwt" = [])),
    responses(
        (status = 201, body = TotpEnrollment),
        (status = 403, description = "forbidden (enrolment off or TOTP not allowed) or mfa_required", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the user already has a TOTP device", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn begin_totp(
    State(services): State<Arc<Services>>,
    session: SdkAnySession,
) -> ApiResult<(StatusCode, Json<TotpEnrollment>)> {
    let enrollment = services
        .mfa
        .totp
        .begin(&session.env, &session.claims)
        .await?;
    Ok((StatusCode::CREATED, Json(enrollment.into())))
}

/// Activates a TOTP device with a first right code. A user who has a
/// device already needs an elevated token for `credential:link` when
/// action enforcement covers it (`X-Portcullis-Elevated-Token`).
#[utoipa::path(post, path = "/mfa/totp/{device_id}/confirm", tag = "sdk",
    params(("environment_id" = String, Path), ("device_id" = String, Path)),
    request_body = TotpConfirm,
    security(("session_jwt" = [])),
    responses(
        (status = 200, body = ConfirmedDevice),
        (status = 400, description = "invalid_code or validation_failed", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "elevated_token_required or forbidden", body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm_totp(
    State(services): State<Arc<Services>>,
    session: SdkAnySession,
    Client(client): Client,
    Path((_environment_id, device_id)): Path<(String, String)>,
    ElevatedTokenHeader(elevated): ElevatedTokenHeader,
    ApiJson(body): ApiJson<TotpConfirm>,
) -> ApiResult<Json<ConfirmedDevice>> {
    let actor = Actor::user(&session.claims.sub, client.ip_address);
    Ok(Json(
        services
            .mfa
            .totp
            .confirm(
                &session.env,
                &session.claims,
                &device_id,
                &body.code,
                elevated.as_deref(),
                &actor,
            )
            .await?
            .into(),
    ))
}

/// The session's second factor: a new token for the same session, with
/// `user:basic` and `amr` including `mfa`.
#[utoipa::path(post, path = "/mfa/verify", tag = "sdk",
    params(("environment_id" = String, Path)),
    request_body = MfaVerify,
    security(("session_jwt" = [])),
    responses(
        (status = 200, body = AuthResult),
        (status = 400, description = "invalid_code or validation_failed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn verify(
    State(services): State<Arc<Services>>,
    session: SdkAnySession,
    ApiJson(body): ApiJson<MfaVerify>,
) -> ApiResult<Response> {
    let assertion = body.assertion.map(Into::into);
    let factor = SecondFactor::from_fields(body.code, body.recovery_code, assertion)?;
    let signed = services
        .mfa
        .second_factor
        .verify(&session.env, &session.claims, factor)
        .await?;
    Ok(cookies::auth_answer(&services, &session.env, signed))
}

/// An elevated token for one action: 5 minutes, this session, single use.
#[utoipa::path(post, path = "/mfa/step-up", tag = "sdk",
    params(("environment_id" = String, Path)),
    request_body = StepUp,
    security(("session_jwt" = [])),
    responses(
        (status = 200, body = ElevatedToken),
        (status = 400, description = "invalid_code or validation_failed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn step_up(
    State(services): State<Arc<Services>>,
    session: SdkSession,
    ApiJson(body): ApiJson<StepUp>,
) -> ApiResult<Json<ElevatedToken>> {
    let assertion = body.assertion.map(Into::into);
    let factor = SecondFactor::from_fields(body.code, body.recovery_code, assertion)?;
    Ok(Json(
        services
            .mfa
            .second_factor
            .step_up(&session.env, &session.claims, &body.scope, factor)
            .await?
            .into(),
    ))
}

/// Removes one of the caller's devices. With action enforcement on for
/// `credential:unlink`, needs an elevated token for it
/// (`X-Portcullis-Elevated-Token`).
#[utoipa::path(delete, path = "/mfa/devices/{device_id}", tag = "sdk",
    params(("environment_id" = String, Path), ("device_id" = String, Path)),
    security(("session_jwt" = [])),
    responses(
        (status = 204),
        (status = 403, description = "elevated_token_required", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_device(
    State(services): State<Arc<Services>>,
    session: SdkSession,
    Path((_environment_id, device_id)): Path<(String, String)>,
    ElevatedTokenHeader(elevated): ElevatedTokenHeader,
    Client(client): Client,
) -> ApiResult<StatusCode> {
    let actor = Actor::user(&session.claims.sub, client.ip_address);
    services
        .mfa
        .devices
        .remove_own_device(
            &session.env,
            &session.claims,
            &device_id,
            elevated.as_deref(),
            &actor,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// New recovery codes; the unused old ones stop working. With action
/// enforcement on for `credential:link`, needs an elevated token for it.
#[utoipa::path(post, path = "/mfa/recovery-codes", tag = "sdk",
    params(("environment_id" = String, Path)),
    security(("session_jwt" = [])),
    responses(
        (status = 200, body = RecoveryCodes),
        (status = 403, description = "elevated_token_required, mfa_required or forbidden (recovery codes off)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "no device enrolled", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn regenerate_recovery_codes(
    State(services): State<Arc<Services>>,
    session: SdkSession,
    ElevatedTokenHeader(elevated): ElevatedTokenHeader,
) -> ApiResult<Json<RecoveryCodes>> {
    Ok(Json(
        services
            .mfa
            .recovery
            .regenerate(&session.env, &session.claims, elevated.as_deref())
            .await?
            .into(),
    ))
}

/// Begins registering a passkey as an MFA device. A partial session may
/// register only a first device.
#[utoipa::path(post, path = "/mfa/passkey/register/start", tag = "sdk",
    params(("environment_id" = String, Path)),
    security(("session_jwt" = [])),
    responses(
        (status = 200, body = PasskeyRegistrationOptions),
        (status = 403, description = "forbidden (enrolment off, passkeys not allowed or not set up) or mfa_required", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn begin_passkey_registration(
    State(services): State<Arc<Services>>,
    session: SdkAnySession,
) -> ApiResult<Json<PasskeyRegistrationOptions>> {
    Ok(Json(
        services
            .mfa
            .passkeys
            .begin_registration(&session.env, &session.claims)
            .await?
            .into(),
    ))
}

/// Finishes the registration: the passkey is a confirmed device. A user who
/// has a device already needs an elevated token for `credential:link` when
/// action enforcement covers it.
#[utoipa::path(post, path = "/mfa/passkey/register/finish", tag = "sdk",
    params(("environment_id" = String, Path)),
    request_body = PasskeyRegistrationFinish,
    security(("session_jwt" = [])),
    responses(
        (status = 200, body = ConfirmedDevice),
        (status = 400, description = "invalid_code (the credential or challenge does not verify) or validation_failed", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "elevated_token_required", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the credential is registered already", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn finish_passkey_registration(
    State(services): State<Arc<Services>>,
    session: SdkAnySession,
    Client(client): Client,
    ElevatedTokenHeader(elevated): ElevatedTokenHeader,
    ApiJson(body): ApiJson<PasskeyRegistrationFinish>,
) -> ApiResult<Json<ConfirmedDevice>> {
    let actor = Actor::user(&session.claims.sub, client.ip_address);
    Ok(Json(
        services
            .mfa
            .passkeys
            .finish_registration(
                &session.env,
                &session.claims,
                &body.into(),
                elevated.as_deref(),
                &actor,
            )
            .await?
            .into(),
    ))
}

/// WebAuthn request options for the caller's passkeys; the answer goes to
/// `/mfa/verify` or `/mfa/step-up` as `assertion`.
#[utoipa::path(post, path = "/mfa/passkey/challenge", tag = "sdk",
    params(("environment_id" = String, Path)),
    security(("session_jwt" = [])),
    responses(
        (status = 200, body = PasskeyChallenge),
        (status = 409, description = "the user has no passkey", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn passkey_challenge(
    State(services): State<Arc<Services>>,
    session: SdkAnySession,
) -> ApiResult<Json<PasskeyChallenge>> {
    Ok(Json(
        services
            .mfa
            .passkeys
            .challenge(&session.env, &session.claims)
            .await?
            .into(),
    ))
}
