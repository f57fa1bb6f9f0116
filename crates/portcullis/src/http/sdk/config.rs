//! `GET /config`: what the SDK needs to know about an environment before
//! anyone signs in. Public: nothing here is secret.

use axum::Json;
use serde::Serialize;

use super::SdkEnvironment;
use crate::domain::settings::{MfaEnrollment, MfaMethod, TokenStorage};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicConfig {
    pub environment_id: String,
    /// Where the SDK keeps the session: `in_app` (the page holds the JWT)
    /// or `cookie` (an `HttpOnly` cookie; requests use credentials).
    pub token_storage: TokenStorage,
    pub mfa: PublicMfa,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicMfa {
    pub methods: Vec<MfaMethod>,
    pub enrollment: MfaEnrollment,
}

/// The environment's public settings for the SDK: its token storage and
/// MFA methods.
#[utoipa::path(get, path = "/config", tag = "sdk",
    params(("environment_id" = String, Path)),
    responses((status = 200, body = PublicConfig)))]
pub async fn public_config(SdkEnvironment(env): SdkEnvironment) -> Json<PublicConfig> {
    let s = &env.settings;
    Json(PublicConfig {
        environment_id: env.id().to_string(),
        token_storage: s.token_storage,
        mfa: PublicMfa {
            methods: s.mfa.methods.clone(),
            enrollment: s.mfa.enrollment,
        },
    })
}
