//! An environment's allowed CORS origins (docs/origins.md).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::authorized_environment;
use crate::clock::rfc3339;
use crate::domain::actor::Actor;
use crate::domain::origin_list::OriginWarning;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{ApiAuth, ApiJson, Client, Developer, Viewer};
use crate::services::Services;
use crate::services::origins::ListedOrigin;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Origin {
    /// `ori_…`
    pub id: String,
    /// In normal form: lower case, without the scheme's default port.
    pub origin: String,
    pub created_at: String,
}

impl From<ListedOrigin> for Origin {
    fn from(o: ListedOrigin) -> Self {
        Origin {
            id: o.id,
            origin: o.origin,
            created_at: rfc3339(o.created_at),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OriginList {
    /// Oldest first. Empty: every origin may call the SDK API.
    pub origins: Vec<Origin>,
    /// Advice about the list (only for `live` environments).
    pub warnings: Vec<OriginWarning>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AddedOrigin {
    #[serde(flatten)]
    pub origin: Origin,
    /// Advice about the whole list, this origin included.
    pub warnings: Vec<OriginWarning>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrigin {
    /// `scheme://host[:port]`; `*` may stand in host labels, e.g.
    /// `https://my-app-*.vercel.app`.
    pub origin: String,
}

#[utoipa::path(get, path = "/api/v1/environments/{environment_id}/origins", tag = "management",
    params(("environment_id" = String, Path)),
    security(("api_token" = [])),
    responses(
        (status = 200, body = OriginList),
    ))]
pub async fn list_origins(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Viewer>,
    Path(environment_id): Path<String>,
) -> ApiResult<Json<OriginList>> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    Ok(Json(OriginList {
        origins: env.listed().into_iter().map(Origin::from).collect(),
        warnings: env.origin_warnings(),
    }))
}

/// Adds an allowed origin. Takes effect at once, on every node.
#[utoipa::path(post, path = "/api/v1/environments/{environment_id}/origins", tag = "management",
    params(("environment_id" = String, Path)),
    request_body = NewOrigin,
    security(("api_token" = [])),
    responses(
        (status = 201, body = AddedOrigin),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_origin(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Developer>,
    Client(client): Client,
    Path(environment_id): Path<String>,
    body: Result<ApiJson<NewOrigin>, ApiError>,
) -> ApiResult<(StatusCode, Json<AddedOrigin>)> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    // A locked environment answers 423 whatever the body.
    let ApiJson(body) = body?;
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    let added = services.origins.add(&env, &body.origin, &actor).await?;
    let env = services.environments.get(env.id()).await?;
    Ok((
        StatusCode::CREATED,
        Json(AddedOrigin {
            origin: added.into(),
            warnings: env.origin_warnings(),
        }),
    ))
}

/// Removes an allowed origin. Takes effect at once, on every node.
#[utoipa::path(delete, path = "/api/v1/environments/{environment_id}/origins/{origin_id}", tag = "management",
    params(("environment_id" = String, Path), ("origin_id" = String, Path)),
    security(("api_token" = [])),
    responses(
        (status = 204),
    ))]
pub async fn delete_origin(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Developer>,
    Client(client): Client,
    Path((environment_id, origin_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    services.origins.delete(&env, &origin_id, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}
