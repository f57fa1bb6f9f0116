//! The outbox worker: dispatches stored events, attempts due webhook
//! deliveries and sends due notification e-mails, woken at once by this node's changes and every half second
//! for the others' and for retries coming due.

use std::sync::Arc;
use std::time::Duration;

use crate::services::Services;

const POLL: Duration = Duration::from_millis(500);

pub async fn run(services: Arc<Services>) {
    loop {
        let dispatched = services.dispatch_events().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "dispatching events failed; retrying");
            0
        });
        let delivered = services.deliver_due().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "delivering webhooks failed; retrying");
            0
        });
        let mailed = services.send_due_notifications().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "sending notification e-mails failed; retrying");
            0
        });
        if dispatched == 0 && delivered == 0 && mailed == 0 {
            services.outbox.wait(POLL).await;
        }
    }
}
