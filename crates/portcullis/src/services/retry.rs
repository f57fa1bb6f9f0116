//! What webhook deliveries and notification e-mails share: how long a
//! worker holds what it leased, and what a failed attempt leads to.

use crate::crypto;
use crate::domain::events::retry_delay_ms;
use crate::store::DeliveryOutcome;

/// How long a leased event, delivery or mail is left to its worker before
/// another may take it (a crashed node's work is picked up after this).
pub const LEASE_MS: i64 = 20_000;

/// What a failed attempt (the `attempts_made`th) leads to: another on the
/// retry schedule, with jitter, while any is left and `may_retry`; else the
/// end. Webhook deliveries and notification e-mails share it.
pub fn after_failure(now_ms: i64, attempts_made: i64, may_retry: bool) -> DeliveryOutcome {
    match retry_delay_ms(attempts_made, crypto::random_fraction()) {
        Some(delay) if may_retry => DeliveryOutcome::Retry(now_ms + delay),
        _ => DeliveryOutcome::Failed,
    }
}
