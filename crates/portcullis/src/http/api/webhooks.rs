//! Webhook endpoints, their deliveries and attempts (docs/events.md).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;

use super::authorized_environment;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiAuth, ApiJson, Client, Developer, Viewer};
use crate::http::views::events::Event;
use crate::http::views::webhooks::{Delivery, Webhook, WebhookInput, WebhookWithSecret};
use crate::services::Services;
use crate::services::events::Actor;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookList {
    pub data: Vec<Webhook>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryList {
    /// Newest first, at most 50.
    pub data: Vec<Delivery>,
}

#[utoipa::path(get, path = "/api/v1/environments/{environment_id}/webhooks", tag = "management",
    params(("environment_id" = String, Path)),
    security(("api_token" = [])),
    responses((status = 200, body = WebhookList)))]
pub async fn list_webhooks(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Viewer>,
    Path(environment_id): Path<String>,
) -> ApiResult<Json<WebhookList>> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    Ok(Json(WebhookList {
        data: services
            .webhooks
            .list(&env)
            .await?
            .into_iter()
            .map(Webhook::from)
            .collect(),
    }))
}

/// Registers an endpoint; its signing secret (`whsec_…`) is in this answer
/// only. At most 10 per environment.
#[utoipa::path(post, path = "/api/v1/environments/{environment_id}/webhooks", tag = "management",
    params(("environment_id" = String, Path)),
    request_body = WebhookInput,
    security(("api_token" = [])),
    responses(
        (status = 201, body = WebhookWithSecret),
    ))]
pub async fn create_webhook(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Developer>,
    Client(client): Client,
    Path(environment_id): Path<String>,
    body: Result<ApiJson<WebhookInput>, ApiError>,
) -> ApiResult<(StatusCode, Json<WebhookWithSecret>)> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    // A locked environment answers 423 whatever the body.
    let ApiJson(input) = body?;
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    Ok((
        StatusCode::CREATED,
        Json(
            services
                .webhooks
                .create(&env, &input.into(), &actor)
                .await?
                .into(),
        ),
    ))
}

#[utoipa::path(get, path = "/api/v1/environments/{environment_id}/webhooks/{webhook_id}", tag = "management",
    params(("environment_id" = String, Path), ("webhook_id" = String, Path)),
    security(("api_token" = [])),
    responses((status = 200, body = Webhook)))]
pub async fn get_webhook(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Viewer>,
    Path((environment_id, webhook_id)): Path<(String, String)>,
) -> ApiResult<Json<Webhook>> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    Ok(Json(services.webhooks.get(&env, &webhook_id).await?.into()))
}

/// Changes `url`, `events`, `enabled` or `description`. Enabling an
/// endpoint Portcullis disabled starts its failure count over.
#[utoipa::path(patch, path = "/api/v1/environments/{environment_id}/webhooks/{webhook_id}", tag = "management",
    params(("environment_id" = String, Path), ("webhook_id" = String, Path)),
    request_body = WebhookInput,
    security(("api_token" = [])),
    responses(
        (status = 200, body = Webhook),
    ))]
pub async fn update_webhook(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Developer>,
    Client(client): Client,
    Path((environment_id, webhook_id)): Path<(String, String)>,
    body: Result<ApiJson<WebhookInput>, ApiError>,
) -> ApiResult<Json<Webhook>> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    // A locked environment answers 423 whatever the body.
    let ApiJson(input) = body?;
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    Ok(Json(
        services
            .webhooks
            .update(&env, &webhook_id, &input.into(), &actor)
            .await?
            .into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/environments/{environment_id}/webhooks/{webhook_id}", tag = "management",
    params(("environment_id" = String, Path), ("webhook_id" = String, Path)),
    security(("api_token" = [])),
    responses((status = 204)))]
pub async fn delete_webhook(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Developer>,
    Client(client): Client,
    Path((environment_id, webhook_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    services.webhooks.delete(&env, &webhook_id, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new signing secret, shown once. For 24 hours deliveries carry a
/// signature with the old secret too.
#[utoipa::path(post, path = "/api/v1/environments/{environment_id}/webhooks/{webhook_id}/rotate-secret", tag = "management",
    params(("environment_id" = String, Path), ("webhook_id" = String, Path)),
    security(("api_token" = [])),
    responses((status = 200, body = WebhookWithSecret)))]
pub async fn rotate_secret(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Developer>,
    Client(client): Client,
    Path((environment_id, webhook_id)): Path<(String, String)>,
) -> ApiResult<Json<WebhookWithSecret>> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    Ok(Json(
        services
            .webhooks
            .rotate_secret(&env, &webhook_id, &actor)
            .await?
            .into(),
    ))
}

/// Sends a `ping` event to this endpoint.
#[utoipa::path(post, path = "/api/v1/environments/{environment_id}/webhooks/{webhook_id}/test", tag = "management",
    params(("environment_id" = String, Path), ("webhook_id" = String, Path)),
    security(("api_token" = [])),
    responses((status = 202, body = Event)))]
pub async fn test_webhook(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Developer>,
    Client(client): Client,
    Path((environment_id, webhook_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Event>)> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    let actor = Actor::api_token(&auth.0.token_id, client.ip_address);
    Ok((
        StatusCode::ACCEPTED,
        Json(
            services
                .webhooks
                .ping(&env, &webhook_id, &actor)
                .await?
                .into(),
        ),
    ))
}

#[utoipa::path(get, path = "/api/v1/environments/{environment_id}/webhooks/{webhook_id}/deliveries", tag = "management",
    params(("environment_id" = String, Path), ("webhook_id" = String, Path)),
    security(("api_token" = [])),
    responses((status = 200, body = DeliveryList)))]
pub async fn deliveries(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Viewer>,
    Path((environment_id, webhook_id)): Path<(String, String)>,
) -> ApiResult<Json<DeliveryList>> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    Ok(Json(DeliveryList {
        data: services
            .webhooks
            .deliveries(&env, &webhook_id)
            .await?
            .into_iter()
            .map(Delivery::from)
            .collect(),
    }))
}

/// Delivers the event again, now, with the same `webhook-id`.
#[utoipa::path(post, path = "/api/v1/environments/{environment_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", tag = "management",
    params(("environment_id" = String, Path), ("webhook_id" = String, Path), ("delivery_id" = String, Path)),
    security(("api_token" = [])),
    responses((status = 202, body = Delivery)))]
pub async fn redeliver(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Developer>,
    Path((environment_id, webhook_id, delivery_id)): Path<(String, String, String)>,
) -> ApiResult<(StatusCode, Json<Delivery>)> {
    let env = authorized_environment(&services, &auth.0, &environment_id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(
            services
                .webhooks
                .redeliver(&env, &webhook_id, &delivery_id)
                .await?
                .into(),
        ),
    ))
}
