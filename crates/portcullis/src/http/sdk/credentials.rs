//! The caller's verified credentials (docs/sign-in.md).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use super::SdkSession;
use crate::http::error::ApiResult;
use crate::http::views::users::{CredentialList, VerifiedCredential};
use crate::services::Services;

/// The caller's verified credentials (e-mail, phone, wallet, passkey),
/// oldest first.
#[utoipa::path(get, path = "/credentials", tag = "sdk",
    params(("environment_id" = String, Path)),
    security(("session_jwt" = [])),
    responses((status = 200, body = CredentialList)))]
pub async fn own_credentials(
    State(services): State<Arc<Services>>,
    session: SdkSession,
) -> ApiResult<Json<CredentialList>> {
    let data = services
        .users
        .credentials(session.env.id(), &session.claims.sub)
        .await?;
    Ok(Json(CredentialList {
        data: data.into_iter().map(VerifiedCredential::from).collect(),
    }))
}
