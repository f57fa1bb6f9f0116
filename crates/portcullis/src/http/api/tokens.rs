//! API tokens (docs/access.md): the secret is shown once, on create and on
//! rotate; only its hash is stored.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::clock::{parse_rfc3339, rfc3339};
use crate::domain::validation::ValidationErrors;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{Admin, ApiAuth, ApiJson, Client};
use crate::services::Services;
use crate::services::api_tokens::NewToken;
use crate::services::events::Actor;
use crate::store::ApiTokenRecord;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    /// `tok_…`
    pub id: String,
    pub note: String,
    /// `owner`, `admin`, `developer` or `viewer`
    pub role: String,
    /// The one environment it may act on; absent: every environment.
    pub environment_id: Option<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub rotated_at: Option<String>,
    /// After a rotation: until when the previous secret still works.
    pub previous_secret_expires_at: Option<String>,
}

impl From<&ApiTokenRecord> for ApiToken {
    fn from(t: &ApiTokenRecord) -> Self {
        ApiToken {
            id: t.id.clone(),
            note: t.note.clone(),
            role: t.role.clone(),
            environment_id: t.environment_id.clone(),
            created_at: rfc3339(t.created_at),
            expires_at: t.expires_at.map(rfc3339),
            last_used_at: t.last_used_at.map(rfc3339),
            rotated_at: t.rotated_at.map(rfc3339),
            previous_secret_expires_at: t.previous_expires_at.map(rfc3339),
        }
    }
}

/// A token with its secret: shown this once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiTokenWithSecret {
    #[serde(flatten)]
    pub token: ApiToken,
    /// `pcl_…`; store it now, it is never shown again.
    pub secret: String,
}

/// Never the secret, should one ever be logged.
impl std::fmt::Debug for ApiTokenWithSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiTokenWithSecret")
            .field("token", &self.token)
            .field("secret", &"<redacted>")
            .finish()
    }
}

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
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_tokens(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Admin>,
) -> ApiResult<Json<ApiTokenList>> {
    let tokens = services.list_api_tokens(&auth.0).await?;
    Ok(Json(ApiTokenList {
        tokens: tokens.iter().map(ApiToken::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "management",
    request_body = CreateApiToken,
    security(("api_token" = [])),
    responses(
        (status = 201, body = ApiTokenWithSecret),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_token(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Admin>,
    Client(client): Client,
    ApiJson(body): ApiJson<CreateApiToken>,
) -> ApiResult<(StatusCode, Json<ApiTokenWithSecret>)> {
    let expires_at = match body.expires_at.as_deref() {
        None => None,
        Some(text) => Some(parse_rfc3339(text).ok_or_else(|| {
            ApiError::validation(ValidationErrors::single(
                "expires_at",
                "must be an RFC 3339 time, e.g. 2027-01-31T00:00:00Z",
            ))
        })?),
    };
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    let (record, secret) = services
        .create_api_token(
            &auth.0,
            NewToken {
                note: body.note,
                role: body.role,
                environment_id: body.environment_id,
                expires_at,
            },
            &actor,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ApiTokenWithSecret {
            token: (&record).into(),
            secret,
        }),
    ))
}

/// Deletes a token: it stops working at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{token_id}", tag = "management",
    params(("token_id" = String, Path)),
    security(("api_token" = [])),
    responses(
        (status = 204),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_token(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Admin>,
    Client(client): Client,
    Path(token_id): Path<String>,
) -> ApiResult<StatusCode> {
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    services
        .delete_api_token(&auth.0, &token_id, &actor)
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
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn rotate_token(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Admin>,
    Client(client): Client,
    Path(token_id): Path<String>,
    ApiJson(body): ApiJson<RotateApiToken>,
) -> ApiResult<Json<ApiTokenWithSecret>> {
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    let (record, secret) = services
        .rotate_api_token(&auth.0, &token_id, body.grace_seconds, &actor)
        .await?;
    Ok(Json(ApiTokenWithSecret {
        token: (&record).into(),
        secret,
    }))
}
