//! Webhooks, deliveries and attempts: reads on the pool, writes through
//! the writer.

use async_trait::async_trait;

use super::{SqliteDb, events_sql, webhooks_sql};
use crate::store::{
    AttemptRecord, AttemptRecorded, DeliveryHistory, DeliveryOutcome, DeliveryRecord, EventRecord,
    StoreResult, WebhookChanges, WebhookRecord, WebhookStore,
};

#[async_trait]
impl WebhookStore for SqliteDb {
    async fn list(&self, environment_id: &str) -> StoreResult<Vec<WebhookRecord>> {
        webhooks_sql::webhooks(&self.pool, environment_id).await
    }

    async fn get(
        &self,
        environment_id: &str,
        webhook_id: &str,
    ) -> StoreResult<Option<WebhookRecord>> {
        webhooks_sql::webhook(&self.pool, environment_id, webhook_id).await
    }

    async fn insert(
        &self,
        webhook: &WebhookRecord,
        limit: i64,
        event: &EventRecord,
    ) -> StoreResult<bool> {
        let (webhook, event) = (webhook.clone(), event.clone());
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    let added = webhooks_sql::insert_webhook(&mut *c, &webhook, limit).await?;
                    if added {
                        events_sql::insert_event(c, &event).await?;
                    }
                    Ok(added)
                })
            })
            .await
    }

    async fn update(
        &self,
        environment_id: &str,
        webhook_id: &str,
        changes: &WebhookChanges,
        now: i64,
        event: &EventRecord,
    ) -> StoreResult<Option<WebhookRecord>> {
        let (env, id, changes, event) = (
            environment_id.to_string(),
            webhook_id.to_string(),
            changes.clone(),
            event.clone(),
        );
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    let updated =
                        webhooks_sql::update_webhook(&mut *c, &env, &id, &changes, now).await?;
                    if updated.is_some() {
                        events_sql::insert_event(c, &event).await?;
                    }
                    Ok(updated)
                })
            })
            .await
    }

    async fn rotate_secret(
        &self,
        environment_id: &str,
        webhook_id: &str,
        secret_sealed: &[u8],
        previous_until: i64,
        now: i64,
        event: &EventRecord,
    ) -> StoreResult<Option<WebhookRecord>> {
        let (env, id, sealed, event) = (
            environment_id.to_string(),
            webhook_id.to_string(),
            secret_sealed.to_vec(),
            event.clone(),
        );
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    let rotated = webhooks_sql::rotate_webhook_secret(
                        &mut *c,
                        &env,
                        &id,
                        &sealed,
                        previous_until,
                        now,
                    )
                    .await?;
                    if rotated.is_some() {
                        events_sql::insert_event(c, &event).await?;
                    }
                    Ok(rotated)
                })
            })
            .await
    }

    async fn delete(
        &self,
        environment_id: &str,
        webhook_id: &str,
        event: &EventRecord,
    ) -> StoreResult<bool> {
        let (env, id, event) = (
            environment_id.to_string(),
            webhook_id.to_string(),
            event.clone(),
        );
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    let deleted = webhooks_sql::delete_webhook(&mut *c, &env, &id).await?;
                    if deleted {
                        events_sql::insert_event(c, &event).await?;
                    }
                    Ok(deleted)
                })
            })
            .await
    }

    async fn deliveries(&self, webhook_id: &str, limit: i64) -> StoreResult<Vec<DeliveryHistory>> {
        webhooks_sql::delivery_histories(&self.pool, webhook_id, None, limit).await
    }

    async fn delivery(
        &self,
        webhook_id: &str,
        delivery_id: &str,
    ) -> StoreResult<Option<DeliveryHistory>> {
        let found = webhooks_sql::delivery_histories(&self.pool, webhook_id, Some(delivery_id), 1);
        Ok(found.await?.into_iter().next())
    }

    async fn lease_due(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        self.writer
            .transaction(move |c| {
                Box::pin(async move { webhooks_sql::lease_due(c, now, lease_until, limit).await })
            })
            .await
    }

    async fn record_attempt(
        &self,
        attempt: &AttemptRecord,
        outcome: &DeliveryOutcome,
        leased_until: Option<i64>,
        disabled_event: &EventRecord,
    ) -> StoreResult<AttemptRecorded> {
        let (attempt, outcome, event) = (attempt.clone(), outcome.clone(), disabled_event.clone());
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    webhooks_sql::record_attempt(c, &attempt, &outcome, leased_until, &event).await
                })
            })
            .await
    }

    async fn redeliver(&self, webhook_id: &str, delivery_id: &str, now: i64) -> StoreResult<bool> {
        let (webhook_id, delivery_id) = (webhook_id.to_string(), delivery_id.to_string());
        self.writer
            .transaction(move |c| {
                Box::pin(
                    async move { webhooks_sql::redeliver(c, &webhook_id, &delivery_id, now).await },
                )
            })
            .await
    }
}
