-- Retention (docs/events.md): pruning finds old rows by age, and an event
-- is pruned only when no delivery or mail refers to it.
CREATE INDEX events_by_created_at ON events (created_at);
CREATE INDEX deliveries_by_created_at ON webhook_deliveries (created_at);
CREATE INDEX deliveries_by_event ON webhook_deliveries (event_id);
CREATE INDEX notifications_by_created_at ON notifications (created_at);
CREATE INDEX notifications_by_event ON notifications (event_id);
