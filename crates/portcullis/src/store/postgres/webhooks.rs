//! Webhooks, deliveries and attempts.

use async_trait::async_trait;

use super::{PgDb, db, events_sql, webhooks_sql};
use crate::store::{
    AttemptRecord, AttemptRecorded, Change, DeliveryHistory, DeliveryOutcome, DeliveryRecord,
    EventRecord, StoreResult, WebhookChanges, WebhookRecord, WebhookStore,
};

#[async_trait]
impl WebhookStore for PgDb {
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
        let mut tx = self.write().await?;
        if !webhooks_sql::insert_webhook(&mut tx, webhook, limit).await? {
            return Ok(false);
        }
        events_sql::insert_event(&mut tx, event).await?;
        tx.publish(changed(&webhook.environment_id));
        tx.commit().await?;
        Ok(true)
    }

    async fn update(
        &self,
        environment_id: &str,
        webhook_id: &str,
        changes: &WebhookChanges,
        now: i64,
        event: &EventRecord,
    ) -> StoreResult<Option<WebhookRecord>> {
        let mut tx = self.write().await?;
        let updated =
            webhooks_sql::update_webhook(&mut tx, environment_id, webhook_id, changes, now).await?;
        if updated.is_some() {
            events_sql::insert_event(&mut tx, event).await?;
            tx.publish(changed(environment_id));
            tx.commit().await?;
        }
        Ok(updated)
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
        let mut tx = self.write().await?;
        let rotated = webhooks_sql::rotate_webhook_secret(
            &mut tx,
            environment_id,
            webhook_id,
            secret_sealed,
            previous_until,
            now,
        )
        .await?;
        if rotated.is_some() {
            events_sql::insert_event(&mut tx, event).await?;
            tx.commit().await?;
        }
        Ok(rotated)
    }

    async fn delete(
        &self,
        environment_id: &str,
        webhook_id: &str,
        event: &EventRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        if !webhooks_sql::delete_webhook(&mut tx, environment_id, webhook_id).await? {
            return Ok(false);
        }
        events_sql::insert_event(&mut tx, event).await?;
        tx.publish(changed(environment_id));
        tx.commit().await?;
        Ok(true)
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
        let mut tx = self.write().await?;
        let due = webhooks_sql::lease_due(&mut tx, now, lease_until, limit).await?;
        tx.commit().await?;
        Ok(due)
    }

    async fn record_attempt(
        &self,
        attempt: &AttemptRecord,
        outcome: &DeliveryOutcome,
        leased_until: Option<i64>,
        disabled_event: &EventRecord,
    ) -> StoreResult<AttemptRecorded> {
        let mut tx = self.write().await?;
        let recorded =
            webhooks_sql::record_attempt(&mut tx, attempt, outcome, leased_until, disabled_event)
                .await?;
        let disabled = recorded == AttemptRecorded::Stored { disabled: true };
        if let (true, Some(environment_id)) = (disabled, &disabled_event.environment_id) {
            tx.publish(changed(environment_id));
        }
        tx.commit().await?;
        Ok(recorded)
    }

    async fn redeliver(&self, webhook_id: &str, delivery_id: &str, now: i64) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        webhooks_sql::redeliver(&mut conn, webhook_id, delivery_id, now).await
    }
}

/// What tells the other nodes that the environment's webhooks changed
/// (their cached subscriptions).
fn changed(environment_id: &str) -> Change {
    let environment_id = environment_id.to_string();
    Change::EnvironmentChanged { environment_id }
}
