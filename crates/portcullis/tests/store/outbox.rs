//! The outbox's conditional writes: an event is dispatched once, and a
//! fan-out's cursor moves only from where the writer read it, so that a
//! dispatcher whose lease ran out and came back changes nothing.

use futures::future::join_all;

use crate::fixtures::{T0, TestStore};

#[tokio::test]
async fn an_event_is_dispatched_once() {
    let t = TestStore::open().await;
    let webhook = t.webhook(T0).await;
    let event = t.event("user.created", T0);
    t.store.events.insert(&event).await.unwrap();
    // Each dispatcher brings the delivery it made.
    let deliveries: Vec<_> = (0..4)
        .map(|_| t.delivery(&webhook, &event, "pending", Some(T0)))
        .collect();
    let outbox = &t.store.events;
    let racers = deliveries
        .iter()
        .map(|d| outbox.dispatch(&event.id, None, std::slice::from_ref(d), &[], T0 + 1));
    let won = join_all(racers)
        .await
        .into_iter()
        .filter(|done| *done.as_ref().expect("no dispatch fails"))
        .count();
    assert_eq!(won, 1);
    let stored = t.store.webhooks.deliveries(&webhook.id, 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    let dispatched = outbox.get(&event.id).await.unwrap().unwrap();
    assert_eq!(dispatched.dispatched_at, Some(T0 + 1));
    // Marking it dispatched again keeps the first instant.
    outbox
        .mark_dispatched(std::slice::from_ref(&event.id), T0 + 2)
        .await
        .unwrap();
    let dispatched = outbox.get(&event.id).await.unwrap().unwrap();
    assert_eq!(dispatched.dispatched_at, Some(T0 + 1));
}

#[tokio::test]
async fn a_fan_out_moves_its_cursor_only_from_where_it_was() {
    let t = TestStore::open().await;
    let revoked = t.event("admin.environment.sessions.revoked", T0);
    let revoked = portcullis::store::EventRecord {
        fanout: Some("environment_sessions".into()),
        ..revoked
    };
    t.store.events.insert(&revoked).await.unwrap();
    let outbox = &t.store.events;
    let batch = |n: i64| vec![t.event("admin.user.session.revoked", T0 + n)];

    let first = batch(1);
    assert!(
        outbox
            .fan_out(&revoked.id, None, Some("ses_b"), false, &first)
            .await
            .unwrap()
    );
    // A second writer that read the same cursor stores nothing.
    let stale = batch(2);
    assert!(
        !outbox
            .fan_out(&revoked.id, None, Some("ses_c"), false, &stale)
            .await
            .unwrap()
    );
    assert!(outbox.get(&stale[0].id).await.unwrap().is_none());
    let last = batch(3);
    assert!(
        outbox
            .fan_out(&revoked.id, Some("ses_b"), None, true, &last)
            .await
            .unwrap()
    );
    // Done: the fan-out moves no more.
    let late = batch(4);
    assert!(
        !outbox
            .fan_out(&revoked.id, Some("ses_b"), None, true, &late)
            .await
            .unwrap()
    );
    for stored in [&first[0], &last[0]] {
        assert!(outbox.get(&stored.id).await.unwrap().is_some());
    }
    assert!(outbox.get(&late[0].id).await.unwrap().is_none());
    let done = outbox.get(&revoked.id).await.unwrap().unwrap();
    assert_eq!(done.fanout, None);
}
