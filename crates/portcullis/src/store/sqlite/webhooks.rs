//! Webhooks, deliveries and attempts: reads on the pool, writes through
//! the writer.

use async_trait::async_trait;

use super::{SqliteDb, queries};
use crate::store::{
    AttemptRecord, DeliveryOutcome, DeliveryRecord, EventRecord, StoreResult, WebhookRecord,
    WebhookStore,
};

#[async_trait]
impl WebhookStore for SqliteDb {
    async fn list(&self, environment_id: &str) -> StoreResult<Vec<WebhookRecord>> {
        queries::webhooks(&self.pool, environment_id).await
    }

    async fn get(
        &self,
        environment_id: &str,
        webhook_id: &str,
    ) -> StoreResult<Option<WebhookRecord>> {
        queries::webhook(&self.pool, environment_id, webhook_id).await
    }

    async fn insert(&self, webhook: &WebhookRecord, limit: i64) -> StoreResult<bool> {
        let webhook = webhook.clone();
        self.writer
            .transaction(move |c| {
                Box::pin(async move { queries::insert_webhook(c, &webhook, limit).await })
            })
            .await
    }

    async fn update(&self, webhook: &WebhookRecord) -> StoreResult<bool> {
        let webhook = webhook.clone();
        self.writer
            .transaction(move |c| {
                Box::pin(async move { queries::update_webhook(c, &webhook).await })
            })
            .await
    }

    async fn delete(&self, environment_id: &str, webhook_id: &str) -> StoreResult<bool> {
        let (environment_id, webhook_id) = (environment_id.to_string(), webhook_id.to_string());
        self.writer
            .transaction(move |c| {
                Box::pin(
                    async move { queries::delete_webhook(c, &environment_id, &webhook_id).await },
                )
            })
            .await
    }

    async fn deliveries(&self, webhook_id: &str, limit: i64) -> StoreResult<Vec<DeliveryRecord>> {
        queries::deliveries(&self.pool, webhook_id, limit).await
    }

    async fn delivery(
        &self,
        webhook_id: &str,
        delivery_id: &str,
    ) -> StoreResult<Option<DeliveryRecord>> {
        queries::delivery(&self.pool, webhook_id, delivery_id).await
    }

    async fn attempts(&self, delivery_id: &str) -> StoreResult<Vec<AttemptRecord>> {
        queries::attempts(&self.pool, delivery_id).await
    }

    async fn lease_due(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        self.writer
            .transaction(move |c| {
                Box::pin(async move { queries::lease_due(c, now, lease_until, limit).await })
            })
            .await
    }

    async fn record_attempt(
        &self,
        attempt: &AttemptRecord,
        outcome: &DeliveryOutcome,
        disabled_event: &EventRecord,
    ) -> StoreResult<bool> {
        let (attempt, outcome, event) = (attempt.clone(), outcome.clone(), disabled_event.clone());
        self.writer
            .transaction(move |c| {
                Box::pin(
                    async move { queries::record_attempt(c, &attempt, &outcome, &event).await },
                )
            })
            .await
    }

    async fn redeliver(&self, webhook_id: &str, delivery_id: &str, now: i64) -> StoreResult<bool> {
        let (webhook_id, delivery_id) = (webhook_id.to_string(), delivery_id.to_string());
        self.writer
            .transaction(move |c| {
                Box::pin(async move { queries::redeliver(c, &webhook_id, &delivery_id, now).await })
            })
            .await
    }
}
