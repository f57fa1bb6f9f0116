//! The outbox workers' doorbell: rung by whatever stores work for them on
//! this node (an event to dispatch, a delivery to make, a mail to send), so
//! they do not wait for their next poll.

use std::time::Duration;

use tokio::sync::Notify;

/// The outbox worker's doorbell: rung when this node stores work for it.
#[derive(Default)]
pub struct OutboxSignal {
    bell: Notify,
    mail_bell: Notify,
}

impl OutboxSignal {
    /// Rings both workers: events to dispatch, attempts or mails to make.
    pub fn wake(&self) {
        self.bell.notify_one();
        self.mail_bell.notify_one();
    }

    /// Waits until rung, or `at_most` (the webhook worker).
    pub async fn wait(&self, at_most: Duration) {
        let _ = tokio::time::timeout(at_most, self.bell.notified()).await;
    }

    /// The same for the mail worker.
    pub async fn wait_for_mail(&self, at_most: Duration) {
        let _ = tokio::time::timeout(at_most, self.mail_bell.notified()).await;
    }
}
