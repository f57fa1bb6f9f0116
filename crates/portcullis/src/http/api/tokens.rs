//! API tokens (docs/access.md): the secret is shown once, on create and on
//! rotate; only its hash is stored.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::domain::actor::Actor;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{Admin, ApiAuth, ApiJson, Client};
use crate::http::views::tokens::{ApiToken, ApiTokenWithSecret};
use crate::services::Services;
use crate::services::api_tokens::NewToken;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiTokenList {
    /// Oldest first; deleted tokens are not listed.
    pub tokens: Vec<ApiToken>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiToken {
    /// What the token is for (1 to 200 characters).
    pub note: String,
    /// At most the caller's own role.
    pub role: String,
    /// Limit it to one environment (a token that is limited itself can
    /// only create tokens limited to the same one).
    pub environment_id: Option<String>,
    /// RFC 3339, in the future.
    pub expires_at: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateApiToken {
    /// How long the current secret keeps working, 0 to 604800 (a week).
    /// Default 0: it stops at once. Rotating again ends an earlier grace
    /// period.
    #[serde(default)]
    pub grace_seconds: i64,
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "management",
    security(("api_token" = [])),
    responses(
        (status = 200, body = ApiTokenList),
    ))]
pub async fn list_tokens(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Admin>,
) -> ApiResult<Json<ApiTokenList>> {
    let tokens = services.api_tokens.list(&auth.0).await?;
    Ok(Json(ApiTokenList {
        tokens: tokens.into_iter().map(ApiToken::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "management",
    request_body = CreateApiToken,
    security(("api_token" = [])),
    responses(
        (status = 201, body = ApiTokenWithSecret),
        (status = 423, description = "`environment_locked`: the new secret would be limited to a locked environment", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_token(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Admin>,
    Client(client): Client,
    ApiJson(body): ApiJson<CreateApiToken>,
) -> ApiResult<(StatusCode, Json<ApiTokenWithSecret>)> {
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    let issued = services
        .api_tokens
        .create(
            &auth.0,
            NewToken {
                note: body.note,
                role: body.role,
                environment_id: body.environment_id,
                expires_at: body.expires_at,
            },
            &actor,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(ApiTokenWithSecret::from(issued))))
}

/// Deletes a token: it stops working at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{token_id}", tag = "management",
    params(("token_id" = String, Path)),
    security(("api_token" = [])),
    responses(
        (status = 204),
    ))]
pub async fn delete_token(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Admin>,
    Client(client): Client,
    Path(token_id): Path<String>,
) -> ApiResult<StatusCode> {
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    services
        .api_tokens
        .delete(&auth.0, &token_id, &actor)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new secret for the token; the current one keeps working for
/// `grace_seconds`.
#[utoipa::path(post, path = "/api/v1/tokens/{token_id}/rotate", tag = "management",
    params(("token_id" = String, Path)),
    request_body = RotateApiToken,
    security(("api_token" = [])),
    responses(
        (status = 200, body = ApiTokenWithSecret),
        (status = 423, description = "`environment_locked`: the new secret would be limited to a locked environment", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn rotate_token(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Admin>,
    Client(client): Client,
    Path(token_id): Path<String>,
    ApiJson(body): ApiJson<RotateApiToken>,
) -> ApiResult<Json<ApiTokenWithSecret>> {
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    let issued = services
        .api_tokens
        .rotate(&auth.0, &token_id, body.grace_seconds, &actor)
        .await?;
    Ok(Json(ApiTokenWithSecret::from(issued)))
}
