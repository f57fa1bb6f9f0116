//! The outbox workers: one dispatches stored events and attempts due
//! webhook deliveries, the other sends due notification e-mails (so a slow
//! mail server never holds up webhooks). Both are woken at once by this
//! node's changes and look again every half second for the other nodes'
//! and for retries coming due.

use std::sync::Arc;
use std::time::Duration;

use crate::services::notifications::Notifications;
use crate::services::outbox::Outbox;

const POLL: Duration = Duration::from_millis(500);

pub async fn run(outbox: Arc<Outbox>, notifications: Arc<Notifications>) {
    tokio::join!(webhooks(outbox), mail(notifications));
}

async fn webhooks(outbox: Arc<Outbox>) {
    loop {
        let dispatched = outbox.dispatch_events().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "dispatching events failed; retrying");
            0
        });
        let delivered = outbox.deliver_due().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "delivering webhooks failed; retrying");
            0
        });
        if dispatched == 0 && delivered == 0 {
            outbox.wait(POLL).await;
        }
    }
}

async fn mail(notifications: Arc<Notifications>) {
    loop {
        let mailed = notifications.send_due().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "sending notification e-mails failed; retrying");
            0
        });
        if mailed == 0 {
            notifications.wait(POLL).await;
        }
    }
}
