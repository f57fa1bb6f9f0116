//! The HTTP layer: extract, authorize, call a service, map errors.

pub mod api;
pub mod dashboard;
pub mod error;
pub mod extract;
mod openapi;
mod ops;
pub mod sdk;
pub mod server;
pub mod tls;
pub mod views;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::services::Services;
use error::ApiError;

/// Largest request body accepted; larger ones get 413 `payload_too_large`.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The whole application router and its OpenAPI document, built from the
/// same route list so the two cannot drift.
pub fn router(services: Arc<Services>) -> Router {
    let (routes, openapi) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(sdk::router(services.clone()))
        .merge(api::router())
        .merge(ops::router())
        .split_for_parts();
    let routes = routes.merge(dashboard::router(services.clone()));
    // Written out on the first request for it: building the document with
    // its declared problems takes a few MB for a moment, which the
    // allocator keeps; a server nobody asks for its document never pays
    // it (docs/benchmarks.md, "Issue 15: before and after").
    let json = Arc::new(std::sync::LazyLock::new(move || {
        let mut document = openapi;
        openapi::declare_problems(&mut document);
        document.to_pretty_json().unwrap_or_else(|_| "{}".into())
    }));
    routes
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let body = String::clone(&json);
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        body,
                    )
                }
            }),
        )
        .route_layer(middleware::from_fn_with_state(services.clone(), track))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::map_response(ensure_problem))
        .layer(TraceLayer::new_for_http())
        .with_state(services)
}

async fn track(
    State(services): State<Arc<Services>>,
    path: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = path
        .as_ref()
        .map(MatchedPath::as_str)
        .unwrap_or("unmatched")
        .to_owned();
    let response = next.run(req).await;
    services.metrics.http_request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

pub(crate) async fn not_found(State(services): State<Arc<Services>>, req: Request) -> Response {
    services
        .metrics
        .http_request(req.method(), "unmatched", 404, 0.0);
    if req.uri().path().starts_with("/dashboard/") {
        return dashboard::not_found_page();
    }
    ApiError::not_found().into_response()
}

/// A safety net: any error response not already problem+json (a rejection
/// produced inside axum, say) is replaced by one with a code from API.md.
async fn ensure_problem(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == error::PROBLEM_JSON.as_bytes());
    // The dashboard's pages say what went wrong themselves.
    let is_page = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_problem || is_page || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNAUTHORIZED => "missing_credentials",
        s if s.is_server_error() => "internal",
        _ => "validation_failed",
    };
    let detail = status
        .canonical_reason()
        .unwrap_or("error")
        .to_ascii_lowercase();
    ApiError::new(status, code, detail).into_response()
}
