use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};

use super::{authorized_environment, authorized_environment_even_locked, query};
use crate::domain::actor::Actor;
use crate::http::error::ApiResult;
use crate::http::extract::{ApiAuth, Client, Developer, Viewer};
use crate::http::views::sessions::{SessionInfo, session_list};
use crate::http::views::users::{UserInfo, UserPage};
use crate::services::Services;
use crate::services::sessions::SessionFilter;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserListQuery {
    /// Only the user with this e-mail address.
    pub email: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1 to 200, default 50.
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SessionListQuery {
    /// `true`: only revoked sessions; `false`: only those not revoked.
    pub revoked: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserSessions {
    pub data: Vec<SessionInfo>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RevokedCount {
    pub revoked_count: u64,
}

#[utoipa::path(get, path = "/api/v1/environments/{environment_id}/users", tag = "management",
    params(("environment_id" = String, Path), UserListQuery),
    security(("api_token" = [])),
    responses((status = 200, body = UserPage)))]
pub async fn list_users(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Viewer>,
    Path(environment_id): Path<String>,
    q: Result<Query<UserListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<UserPage>> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    let q = query(q)?;
    Ok(Json(
        services
            .users
            .list(env.id(), q.email.as_deref(), q.cursor, q.limit)
            .await?
            .into(),
    ))
}

#[utoipa::path(get, path = "/api/v1/environments/{environment_id}/users/{user_id}", tag = "management",
    params(("environment_id" = String, Path), ("user_id" = String, Path)),
    security(("api_token" = [])),
    responses((status = 200, body = UserInfo)))]
pub async fn get_user(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Viewer>,
    Path((environment_id, user_id)): Path<(String, String)>,
) -> ApiResult<Json<UserInfo>> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    Ok(Json(services.users.get(env.id(), &user_id).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/environments/{environment_id}/users/{user_id}/sessions", tag = "management",
    params(("environment_id" = String, Path), ("user_id" = String, Path), SessionListQuery),
    security(("api_token" = [])),
    responses((status = 200, body = UserSessions)))]
pub async fn user_sessions(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Viewer>,
    Path((environment_id, user_id)): Path<(String, String)>,
    q: Result<Query<SessionListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<UserSessions>> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    let filter = match query(q)?.revoked {
        None => SessionFilter::All,
        Some(true) => SessionFilter::Revoked,
        Some(false) => SessionFilter::NotRevoked,
    };
    services.users.get(env.id(), &user_id).await?;
    Ok(Json(UserSessions {
        data: session_list(
            services
                .sessions
                .of_user(env.id(), &user_id, filter)
                .await?,
        ),
    }))
}

/// Revokes every session of the user: one watermark, whatever their number.
#[utoipa::path(post, path = "/api/v1/environments/{environment_id}/users/{user_id}/sessions/revoke", tag = "management",
    params(("environment_id" = String, Path), ("user_id" = String, Path)),
    security(("api_token" = [])),
    responses((status = 200, body = RevokedCount)))]
pub async fn revoke_user_sessions(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Developer>,
    Client(client): Client,
    Path((environment_id, user_id)): Path<(String, String)>,
) -> ApiResult<Json<RevokedCount>> {
    // Revocation only takes access away: an owner who locked the
    // environment during an incident may revoke before unlocking.
    let env = authorized_environment_even_locked(&services, &auth.0, &environment_id).await?;
    let revoked_count = services
        .revocation
        .user(
            env.id(),
            &user_id,
            &Actor::api_token(&auth.0.token_id, client.ip_address),
        )
        .await?;
    Ok(Json(RevokedCount { revoked_count }))
}
