use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::{SdkSession, cookies};
use crate::clock::to_millis;
use crate::domain::actor::Actor;
use crate::http::error::ApiResult;
use crate::http::extract::Client;
use crate::http::views::sessions::{SessionInfo, session_list};
use crate::http::views::users::UserInfo;
use crate::services::Services;
use crate::services::sessions::{Session, SessionFilter};
use crate::services::users::User;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CurrentSession {
    pub session: SessionInfo,
    pub user: UserInfo,
    /// Cookie mode, when the session came in the cookie: the value that
    /// state-changing requests send in `X-Portcullis-CSRF`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionList {
    pub data: Vec<SessionInfo>,
}

/// The caller's session and user, answered from the verified token and the
/// in-memory revocation index: no database round-trip.
#[utoipa::path(get, path = "/session", tag = "sdk",
    params(("environment_id" = String, Path)),
    security(("session_jwt" = [])),
    responses(
        (status = 200, body = CurrentSession),
    ))]
pub async fn current_session(
    State(services): State<Arc<Services>>,
    session: SdkSession,
) -> Json<CurrentSession> {
    let c = &session.claims;
    let user = User::from_claims(c).into();
    let last_active = Some(to_millis(services.clock.now()));
    let csrf_token = session
        .by_cookie
        .then(|| services.sdk_cookies.csrf_token(session.env.id(), &c.sid));
    Json(CurrentSession {
        session: Session::from_claims(c, last_active).into(),
        user,
        csrf_token,
    })
}

/// Revokes the caller's session; in cookie mode, clears both cookies.
#[utoipa::path(post, path = "/logout", tag = "sdk",
    params(("environment_id" = String, Path)),
    security(("session_jwt" = [])),
    responses((status = 204)))]
pub async fn logout(
    State(services): State<Arc<Services>>,
    session: SdkSession,
    Client(client): Client,
) -> ApiResult<Response> {
    let c = &session.claims;
    services
        .revocation
        .session(
            session.env.id(),
            &c.sid,
            Some(&c.sub),
            &Actor::user(&c.sub, client.ip_address.clone()),
        )
        .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if cookies::cookie_mode(&session.env) {
        cookies::clear(response.headers_mut(), &session.env);
    }
    Ok(response)
}

/// The caller's live sessions (not revoked, not expired).
#[utoipa::path(get, path = "/sessions", tag = "sdk",
    params(("environment_id" = String, Path)),
    security(("session_jwt" = [])),
    responses((status = 200, body = SessionList)))]
pub async fn own_sessions(
    State(services): State<Arc<Services>>,
    session: SdkSession,
) -> ApiResult<Json<SessionList>> {
    let now = to_millis(services.clock.now());
    let data = services
        .sessions
        .of_user(
            session.env.id(),
            &session.claims.sub,
            SessionFilter::Live(now),
        )
        .await?;
    Ok(Json(SessionList {
        data: session_list(data),
    }))
}

/// Revokes one of the caller's own sessions; another user's is not found.
#[utoipa::path(delete, path = "/sessions/{session_id}", tag = "sdk",
    params(("environment_id" = String, Path), ("session_id" = String, Path)),
    security(("session_jwt" = [])),
    responses(
        (status = 204),
    ))]
pub async fn revoke_own_session(
    State(services): State<Arc<Services>>,
    session: SdkSession,
    Client(client): Client,
    Path((_environment_id, session_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let c = &session.claims;
    services
        .revocation
        .session(
            session.env.id(),
            &session_id,
            Some(&c.sub),
            &Actor::user(&c.sub, client.ip_address.clone()),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
