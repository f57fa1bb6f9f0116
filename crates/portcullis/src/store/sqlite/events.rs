//! The audit log and outbox: reads on the pool, writes through the writer.

use async_trait::async_trait;

use super::{SqliteDb, events_sql};
use crate::store::{
    DeliveryOutcome, DeliveryRecord, EventQuery, EventRecord, EventStore, FanoutScope,
    NotificationRecord, StoreResult,
};

#[async_trait]
impl EventStore for SqliteDb {
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
        let event = event.clone();
        self.writer
            .transaction(move |c| {
                Box::pin(async move { events_sql::insert_event(c, &event).await })
            })
            .await
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
        self.writer
            .transaction(move |c| {
                Box::pin(
                    async move { events_sql::lease_undispatched(c, now, lease_until, limit).await },
                )
            })
            .await
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
        let (event_id, cursor, next, events) = (
            event_id.to_string(),
            cursor.map(str::to_string),
            next.map(str::to_string),
            events.to_vec(),
        );
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    events_sql::fan_out(
                        c,
                        &event_id,
                        cursor.as_deref(),
                        next.as_deref(),
                        done,
                        &events,
                    )
                    .await
                })
            })
            .await
    }

    async fn dispatch(
        &self,
        event_id: &str,
        data: Option<&str>,
        deliveries: &[DeliveryRecord],
        notifications: &[NotificationRecord],
        now: i64,
    ) -> StoreResult<bool> {
        let (event_id, data, deliveries, notifications) = (
            event_id.to_string(),
            data.map(str::to_string),
            deliveries.to_vec(),
            notifications.to_vec(),
        );
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    events_sql::dispatch_event(
                        c,
                        &event_id,
                        data.as_deref(),
                        &deliveries,
                        &notifications,
                        now,
                    )
                    .await
                })
            })
            .await
    }

    async fn mark_dispatched(&self, event_ids: &[String], now: i64) -> StoreResult<()> {
        let ids = event_ids.to_vec();
        self.writer
            .statement(move |c| {
                Box::pin(async move { events_sql::mark_dispatched(c, &ids, now).await })
            })
            .await
    }

    async fn lease_due_notifications(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<NotificationRecord>> {
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    events_sql::lease_due_notifications(c, now, lease_until, limit).await
                })
            })
            .await
    }

    async fn record_notification(
        &self,
        notification_id: &str,
        outcome: &DeliveryOutcome,
        error: Option<&str>,
        leased_until: Option<i64>,
        now: i64,
    ) -> StoreResult<()> {
        let (id, outcome, error) = (
            notification_id.to_string(),
            outcome.clone(),
            error.map(str::to_string),
        );
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    events_sql::record_notification(
                        c,
                        &id,
                        &outcome,
                        error.as_deref(),
                        leased_until,
                        now,
                    )
                    .await
                })
            })
            .await
    }

    async fn prune(&self, events_before: i64, records_before: i64, limit: i64) -> StoreResult<u64> {
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    events_sql::prune_outbox(c, events_before, records_before, limit).await
                })
            })
            .await
    }
}
