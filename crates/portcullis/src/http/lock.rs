//! The environment lock at the SDK API's door: a request for a locked
//! environment gets 423 `environment_locked` before any handler runs
//! (docs/access.md). It runs inside the CORS check, so an allowed origin
//! can read the 423 while a foreign one still gets 403.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::cors::sdk_environment;
use super::error::ApiError;
use crate::services::environments::EnvironmentRuntime;
use crate::services::{ServiceError, Services};

pub async fn sdk_lock(
    State(services): State<Arc<Services>>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(environment_id) = sdk_environment(req.uri().path()) else {
        return next.run(req).await;
    };
    // No environment id has a `%`; an encoded one would be decoded for
    // the handler but not here, and so pass the lock unseen.
    if environment_id.contains('%') {
        return ApiError::not_found().into_response();
    }
    let env = match req.extensions().get::<Arc<EnvironmentRuntime>>() {
        Some(env) => Ok(env.clone()),
        None => services.environments.get(environment_id).await,
    };
    match env {
        Ok(env) if env.is_locked() => {
            services.metrics.locked();
            ApiError::from(ServiceError::EnvironmentLocked).into_response()
        }
        // The handler takes the environment from here.
        Ok(env) => {
            req.extensions_mut().insert(env);
            next.run(req).await
        }
        // Unknown environments (and paths with no handler) are the
        // router's to answer.
        Err(ServiceError::NotFound) => next.run(req).await,
        Err(e) => ApiError::from(e).into_response(),
    }
}
