//! Organization members and their roles (docs/access.md). Exactly one
//! owner; making a member `owner` transfers ownership.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::actor::Actor;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{Admin, ApiAuth, ApiJson, Client};
use crate::http::views::members::Member;
use crate::services::Services;
use crate::services::members::MemberUpdate;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberList {
    /// Oldest first.
    pub members: Vec<Member>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    pub email: String,
    pub name: Option<String>,
    /// `admin`, `developer` or `viewer`, at most the caller's role.
    pub role: String,
}

/// `null` is a value here (it clears the name); absence leaves it.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberPatch {
    pub email: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// `owner` transfers ownership (owner only): the old owner becomes
    /// `admin`.
    pub role: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/members", tag = "management",
    security(("api_token" = [])),
    responses(
        (status = 200, body = MemberList),
    ))]
pub async fn list_members(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Admin>,
) -> ApiResult<Json<MemberList>> {
    let members = services.members.list(&auth.0).await?;
    Ok(Json(MemberList {
        members: members.into_iter().map(Member::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/members", tag = "management",
    request_body = NewMember,
    security(("api_token" = [])),
    responses(
        (status = 201, body = Member),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_member(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Admin>,
    Client(client): Client,
    body: Result<ApiJson<NewMember>, ApiError>,
) -> ApiResult<(StatusCode, Json<Member>)> {
    // A token limited to an environment is refused whatever the body.
    auth.0.authorize_organization()?;
    let ApiJson(body) = body?;
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    let member = services
        .members
        .add(&auth.0, &body.email, body.name, &body.role, &actor)
        .await?;
    Ok((StatusCode::CREATED, Json(member.into())))
}

#[utoipa::path(get, path = "/api/v1/members/{member_id}", tag = "management",
    params(("member_id" = String, Path)),
    security(("api_token" = [])),
    responses(
        (status = 200, body = Member),
    ))]
pub async fn get_member(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Admin>,
    Path(member_id): Path<String>,
) -> ApiResult<Json<Member>> {
    let member = services.members.get(&auth.0, &member_id).await?;
    Ok(Json(member.into()))
}

#[utoipa::path(patch, path = "/api/v1/members/{member_id}", tag = "management",
    params(("member_id" = String, Path)),
    request_body = MemberPatch,
    security(("api_token" = [])),
    responses(
        (status = 200, body = Member),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_member(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Admin>,
    Client(client): Client,
    Path(member_id): Path<String>,
    body: Result<ApiJson<MemberPatch>, ApiError>,
) -> ApiResult<Json<Member>> {
    auth.0.authorize_organization()?;
    let ApiJson(body) = body?;
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    let member = services
        .members
        .update(
            &auth.0,
            &member_id,
            MemberUpdate {
                email: body.email,
                name: body.name,
                role: body.role,
            },
            &actor,
        )
        .await?;
    Ok(Json(member.into()))
}

/// Removes a member (never the owner: 409).
#[utoipa::path(delete, path = "/api/v1/members/{member_id}", tag = "management",
    params(("member_id" = String, Path)),
    security(("api_token" = [])),
    responses(
        (status = 204),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_member(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Admin>,
    Client(client): Client,
    Path(member_id): Path<String>,
) -> ApiResult<StatusCode> {
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    services.members.remove(&auth.0, &member_id, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}
