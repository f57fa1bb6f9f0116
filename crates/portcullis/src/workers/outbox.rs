//! The outbox workers: one dispatches stored events and attempts due
//! webhook deliveries, the other sends due notification e-mails (so a slow
//! mail server never holds up webhooks). Both are woken at once by this
//! node's changes and look again every half second for the other nodes'
//! and for retries coming due.

use std::sync::Arc;
use std::time::Duration;

use crate::services::Services;

const POLL: Duration = Duration::from_millis(500);

pub async fn run(services: Arc<Services>) {
    tokio::join!(webhooks(services.clone()), mail(services));
}

async fn webhooks(services: Arc<Services>) {
    loop {
        let dispatched = services.dispatch_events().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "dispatching events failed; retrying");
            0
        });
        let delivered = services.deliver_due().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "delivering webhooks failed; retrying");
            0
        });
        if dispatched == 0 && delivered == 0 {
            services.outbox.wait(POLL).await;
        }
    }
}

async fn mail(services: Arc<Services>) {
    loop {
        let mailed = services.send_due_notifications().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "sending notification e-mails failed; retrying");
            0
        });
        if mailed == 0 {
            services.outbox.wait_for_mail(POLL).await;
        }
    }
}
