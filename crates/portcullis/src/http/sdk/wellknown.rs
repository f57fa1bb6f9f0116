use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::SdkEnvironment;
use crate::clock::to_millis;
use crate::domain::algorithm::TokenAlgorithm;
use crate::http::error::ApiResult;
use crate::services::Services;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JwkSet {
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<jsonwebtoken::jwk::Jwk>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OpenIdConfiguration {
    pub issuer: String,
    pub jwks_uri: String,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub response_types_supported: Vec<String>,
    pub subject_types_supported: Vec<String>,
    pub claims_supported: Vec<String>,
    pub introspection_endpoint: String,
}

/// The environment's public keys: the active one and retired ones whose
/// tokens may still be alive.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "sdk",
    params(("environment_id" = String, Path)),
    responses((status = 200, body = JwkSet)))]
pub async fn jwks(
    State(services): State<Arc<Services>>,
    SdkEnvironment(env): SdkEnvironment,
) -> ApiResult<Json<JwkSet>> {
    let now = to_millis(services.clock.now());
    Ok(Json(JwkSet {
        keys: env.published_keys(now).into_iter().cloned().collect(),
    }))
}

#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "sdk",
    params(("environment_id" = String, Path)),
    responses((status = 200, body = OpenIdConfiguration)))]
pub async fn openid_configuration(
    State(services): State<Arc<Services>>,
    SdkEnvironment(env): SdkEnvironment,
) -> ApiResult<Json<OpenIdConfiguration>> {
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    Ok(Json(OpenIdConfiguration {
        jwks_uri: format!("{}/.well-known/jwks.json", env.issuer),
        introspection_endpoint: format!(
            "{}/api/v1/environments/{}/sessions/introspect",
            services.environments.public_url().trim_end_matches('/'),
            env.id()
        ),
        issuer: env.issuer.clone(),
        id_token_signing_alg_values_supported: TokenAlgorithm::all()
            .iter()
            .map(|a| a.as_str().to_string())
            .collect(),
        token_endpoint_auth_methods_supported: strings(&["none"]),
        response_types_supported: strings(&["token"]),
        subject_types_supported: strings(&["public"]),
        claims_supported: strings(&[
            "iss",
            "sub",
            "aud",
            "sid",
            "environment_id",
            "iat",
            "nbf",
            "exp",
            "jti",
            "scope",
            "amr",
            "email",
        ]),
    }))
}
