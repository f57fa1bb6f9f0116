//! The audit log and outbox.

use async_trait::async_trait;

use super::{PgDb, db, events_sql};
use crate::store::{
    DeliveryOutcome, DeliveryRecord, EventQuery, EventRecord, EventStore, FanoutScope,
    NotificationRecord, StoreResult,
};

#[async_trait]
impl EventStore for PgDb {
    async fn list(
        &self,
        environment_id: &str,
        query: &EventQuery,
    ) -> StoreResult<Vec<(i64, EventRecord)>> {
        events_sql::list_events(&self.pool, environment_id, query).await
    }

    async fn about(
        &self,
        environment_id: &str,
        subjects: &[String],
        limit: i64,
    ) -> StoreResult<Vec<EventRecord>> {
        events_sql::events_about(&self.pool, environment_id, subjects, limit).await
    }

    async fn insert(&self, event: &EventRecord) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        events_sql::insert_event(&mut conn, event).await
    }

    async fn get(&self, event_id: &str) -> StoreResult<Option<EventRecord>> {
        events_sql::event(&self.pool, event_id).await
    }

    async fn lease_undispatched(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<EventRecord>> {
        let mut tx = self.write().await?;
        let events = events_sql::lease_undispatched(&mut tx, now, lease_until, limit).await?;
        tx.commit().await?;
        Ok(events)
    }

    async fn fanout_sessions(
        &self,
        scope: &FanoutScope,
        after: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<String>> {
        events_sql::fanout_sessions(&self.pool, scope, after, limit).await
    }

    async fn fan_out(
        &self,
        event_id: &str,
        cursor: Option<&str>,
        next: Option<&str>,
        done: bool,
        events: &[EventRecord],
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        if !events_sql::fan_out(&mut tx, event_id, cursor, next, done, events).await? {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn dispatch(
        &self,
        event_id: &str,
        data: Option<&str>,
        deliveries: &[DeliveryRecord],
        notifications: &[NotificationRecord],
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        if !events_sql::dispatch_event(&mut tx, event_id, data, deliveries, notifications, now)
            .await?
        {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn mark_dispatched(&self, event_ids: &[String], now: i64) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        events_sql::mark_dispatched(&mut conn, event_ids, now).await
    }

    async fn lease_due_notifications(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<NotificationRecord>> {
        let mut tx = self.write().await?;
        let due = events_sql::lease_due_notifications(&mut tx, now, lease_until, limit).await?;
        tx.commit().await?;
        Ok(due)
    }

    async fn record_notification(
        &self,
        notification_id: &str,
        outcome: &DeliveryOutcome,
        error: Option<&str>,
        leased_until: Option<i64>,
        now: i64,
    ) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        events_sql::record_notification(
            &mut conn,
            notification_id,
            outcome,
            error,
            leased_until,
            now,
        )
        .await
    }

    async fn prune(&self, events_before: i64, records_before: i64, limit: i64) -> StoreResult<u64> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        events_sql::prune_outbox(&mut conn, events_before, records_before, limit).await
    }
}
