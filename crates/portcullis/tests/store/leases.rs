//! Leases: periodic jobs, the outbox's events, webhook deliveries and
//! notification e-mails are each taken by one worker at a time. Racing
//! claimers never get the same row; a lease runs out at its instant and
//! the row can then be taken again; a worker whose lease ran out stores
//! nothing. On PostgreSQL, a row another transaction holds is passed over
//! (`FOR UPDATE SKIP LOCKED`), not waited for.

use portcullis::domain::delivery::DeliveryStatus;
use std::collections::BTreeSet;

use futures::future::join_all;
use portcullis::store::{
    AttemptRecord, AttemptRecorded, Backend, DeliveryOutcome, DeliveryRecord, EventRecord,
    NotificationRecord, StoreResult,
};

use crate::fixtures::{MINUTE, T0, TestStore, backend, id, without_waiting};

/// Every id in `leases`, failing if one comes twice.
fn disjoint<'a>(leases: impl IntoIterator<Item = &'a String>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for id in leases {
        assert!(seen.insert(id.clone()), "{id} was leased twice");
    }
    seen
}

/// Races `racers` calls of `lease` (each taking up to `limit`), then one
/// more for what they left: the ids of all it leased, failing if one was
/// leased twice.
async fn race<R, F>(
    racers: usize,
    limit: i64,
    lease: impl Fn(i64) -> F,
    id_of: impl Fn(&R) -> &String,
) -> BTreeSet<String>
where
    F: Future<Output = StoreResult<Vec<R>>>,
{
    let leased: Vec<Vec<R>> = join_all((0..racers).map(|_| lease(limit)))
        .await
        .into_iter()
        .map(|r| r.expect("no lease fails"))
        .collect();
    let rest = lease(100).await.expect("the rest is leased");
    disjoint(leased.iter().flatten().chain(&rest).map(id_of))
}

#[tokio::test]
async fn one_of_racing_claimers_gets_a_due_job_until_it_is_due_again() {
    let t = TestStore::open().await;
    let jobs = &t.store.jobs;
    let claims = (0..6).map(|i| async move {
        let node = format!("node-{i}");
        jobs.claim("prune", &node, T0, MINUTE).await
    });
    let won = join_all(claims)
        .await
        .into_iter()
        .filter(|claimed| *claimed.as_ref().expect("no claim fails"))
        .count();
    assert_eq!(won, 1);
    assert!(
        !jobs
            .claim("prune", "late", T0 + MINUTE - 1, MINUTE)
            .await
            .unwrap()
    );
    assert!(
        jobs.claim("prune", "late", T0 + MINUTE, MINUTE)
            .await
            .unwrap()
    );
    // Each job is claimed on its own.
    assert!(jobs.claim("outbox", "late", T0 + 1, MINUTE).await.unwrap());
}

#[tokio::test]
async fn a_job_another_node_is_claiming_is_passed_over() {
    if backend() != Backend::Postgres {
        return;
    }
    let t = TestStore::open().await;
    let jobs = &t.store.jobs;
    assert!(jobs.claim("prune", "a", T0, MINUTE).await.unwrap());
    let held = t.lock_row("jobs", "name", "prune").await;
    let claimed = without_waiting("the claim", jobs.claim("prune", "b", T0 + MINUTE, MINUTE))
        .await
        .unwrap();
    assert!(!claimed);
    held.release().await;
    assert!(jobs.claim("prune", "b", T0 + MINUTE, MINUTE).await.unwrap());
}

/// `count` events, oldest first, written undispatched.
async fn events(t: &TestStore, count: i64) -> Vec<EventRecord> {
    let mut written = vec![];
    for i in 0..count {
        let event = t.event("user.created", T0 + i);
        t.store.events.insert(&event).await.unwrap();
        written.push(event);
    }
    written
}

fn ids(events: &[EventRecord]) -> Vec<String> {
    events.iter().map(|e| e.id.clone()).collect()
}

#[tokio::test]
async fn racing_event_leases_never_share_an_event() {
    let t = TestStore::open().await;
    let outbox = &t.store.events;
    let written = ids(&events(&t, 20).await);
    let (now, until) = (T0 + MINUTE, T0 + MINUTE + 30_000);
    let leased = race(
        4,
        6,
        |limit| outbox.lease_undispatched(now, until, limit),
        |e: &EventRecord| &e.id,
    )
    .await;
    assert_eq!(leased, written.iter().cloned().collect());

    assert!(
        outbox
            .lease_undispatched(until - 1, until + 30_000, 100)
            .await
            .unwrap()
            .is_empty()
    );
    // Once the lease ran out every event can be leased again, oldest
    // first, but one dispatched meanwhile is done.
    outbox
        .mark_dispatched(&written[..1], until - 1)
        .await
        .unwrap();
    let again = outbox
        .lease_undispatched(until, until + 30_000, 100)
        .await
        .unwrap();
    assert_eq!(ids(&again), written[1..]);
}

#[tokio::test]
async fn an_event_another_dispatcher_holds_is_passed_over() {
    if backend() != Backend::Postgres {
        return;
    }
    let t = TestStore::open().await;
    let outbox = &t.store.events;
    let written = ids(&events(&t, 3).await);
    let held = t.lock_row("events", "id", &written[0]).await;
    let leased = without_waiting(
        "the lease",
        outbox.lease_undispatched(T0 + MINUTE, T0 + 2 * MINUTE, 10),
    )
    .await
    .unwrap();
    assert_eq!(ids(&leased), written[1..]);
    held.release().await;
    let rest = outbox
        .lease_undispatched(T0 + MINUTE, T0 + 2 * MINUTE, 10)
        .await
        .unwrap();
    assert_eq!(ids(&rest), written[..1]);
}

#[tokio::test]
async fn racing_delivery_leases_never_share_one_and_a_lost_lease_stores_no_attempt() {
    let t = TestStore::open().await;
    let webhook = t.webhook(T0).await;
    let mut written = BTreeSet::new();
    for i in 0..6 {
        let event = t.event("user.created", T0 + i);
        let delivery = t.delivery(&webhook, &event, "pending", Some(T0 + i));
        written.insert(delivery.id.clone());
        t.dispatched(&event, &[delivery], &[]).await;
    }
    let hooks = &t.store.webhooks;
    let (now, until) = (T0 + MINUTE, T0 + MINUTE + 30_000);
    let leased = race(
        3,
        4,
        |limit| hooks.lease_due(now, until, limit),
        |d: &DeliveryRecord| &d.id,
    )
    .await;
    assert_eq!(leased, written);
    assert!(
        hooks
            .lease_due(until - 1, until, 100)
            .await
            .unwrap()
            .is_empty()
    );

    // The lease ran out: another worker leases them all again.
    let later = until + 30_000;
    let again = hooks.lease_due(until, later, 100).await.unwrap();
    assert_eq!(disjoint(again.iter().map(|d| &d.id)), written);
    assert!(again.iter().all(|d| d.next_attempt_at == Some(later)));

    // The first worker comes back late: its attempt is not stored; the
    // second worker's is.
    let delivery = &again[0];
    let attempt = |at: i64| AttemptRecord {
        id: id("att"),
        delivery_id: delivery.id.clone(),
        attempted_at: at,
        duration_ms: 12,
        response_status: Some(200),
        response_body: None,
        error: None,
    };
    let disabled = t.event("webhook.disabled", until);
    let late = attempt(until + 1);
    let stored = hooks
        .record_attempt(&late, &DeliveryOutcome::Succeeded, Some(until), &disabled)
        .await
        .unwrap();
    assert_eq!(stored, AttemptRecorded::LeaseLost);
    let current = attempt(until + 2);
    let stored = hooks
        .record_attempt(
            &current,
            &DeliveryOutcome::Succeeded,
            Some(later),
            &disabled,
        )
        .await
        .unwrap();
    assert_eq!(stored, AttemptRecorded::Stored { disabled: false });
    let history = hooks
        .delivery(&webhook.id, &delivery.id)
        .await
        .unwrap()
        .expect("the delivery");
    assert_eq!(history.delivery.status, DeliveryStatus::Succeeded);
    let attempts: Vec<&str> = history.attempts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(attempts, [current.id.as_str()]);
}

#[tokio::test]
async fn racing_notification_leases_never_share_one_and_a_lost_lease_changes_nothing() {
    let t = TestStore::open().await;
    let mut written = BTreeSet::new();
    for i in 0..4 {
        let event = t.event("user.mfa.enabled", T0 + i);
        let mail = t.notification(&event, "pending", Some(T0 + i));
        written.insert(mail.id.clone());
        t.dispatched(&event, &[], &[mail]).await;
    }
    let outbox = &t.store.events;
    let (now, until) = (T0 + MINUTE, T0 + MINUTE + 30_000);
    let leased = race(
        2,
        3,
        |limit| outbox.lease_due_notifications(now, until, limit),
        |n: &NotificationRecord| &n.id,
    )
    .await;
    assert_eq!(leased, written);
    assert!(
        outbox
            .lease_due_notifications(until - 1, until, 100)
            .await
            .unwrap()
            .is_empty()
    );

    let later = until + 30_000;
    let again = outbox
        .lease_due_notifications(until, later, 100)
        .await
        .unwrap();
    assert_eq!(disjoint(again.iter().map(|n| &n.id)), written);
    // A late sender's outcome changes nothing; the current one's does.
    let (late, current) = (&again[0], &again[1]);
    let sent = DeliveryOutcome::Succeeded;
    outbox
        .record_notification(&late.id, &sent, None, Some(until), until + 1)
        .await
        .unwrap();
    outbox
        .record_notification(&current.id, &sent, None, Some(later), until + 1)
        .await
        .unwrap();
    let pending = outbox
        .lease_due_notifications(later, later + 30_000, 100)
        .await
        .unwrap();
    let mut expected = written.clone();
    expected.remove(&current.id);
    assert_eq!(disjoint(pending.iter().map(|n| &n.id)), expected);
}

#[tokio::test]
async fn a_delivery_or_mail_another_worker_holds_is_passed_over() {
    if backend() != Backend::Postgres {
        return;
    }
    let t = TestStore::open().await;
    let webhook = t.webhook(T0).await;
    let (mut deliveries, mut mails) = (vec![], vec![]);
    for i in 0..2 {
        let event = t.event("user.mfa.enabled", T0 + i);
        let delivery = t.delivery(&webhook, &event, "pending", Some(T0));
        let mail = t.notification(&event, "pending", Some(T0));
        deliveries.push(delivery.id.clone());
        mails.push(mail.id.clone());
        t.dispatched(&event, &[delivery], &[mail]).await;
    }
    let (now, until) = (T0 + MINUTE, T0 + 2 * MINUTE);
    let held_delivery = t.lock_row("webhook_deliveries", "id", &deliveries[0]).await;
    let held_mail = t.lock_row("notifications", "id", &mails[0]).await;
    let leased = without_waiting("the lease", t.store.webhooks.lease_due(now, until, 10))
        .await
        .unwrap();
    let leased: Vec<&str> = leased.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(leased, [deliveries[1].as_str()]);
    let leased = without_waiting(
        "the lease",
        t.store.events.lease_due_notifications(now, until, 10),
    )
    .await
    .unwrap();
    let leased: Vec<&str> = leased.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(leased, [mails[1].as_str()]);
    held_delivery.release().await;
    held_mail.release().await;
    let rest = t.store.webhooks.lease_due(now, until, 10).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].id, deliveries[0]);
}
