//! Members' reads that the other files do not cover: who has a confirmed
//! TOTP authenticator.

use crate::fixtures::{T0, TestStore, member};

#[tokio::test]
async fn only_confirmed_totp_of_the_organization_counts() {
    let t = TestStore::open().await;
    let members = &t.store.members;
    assert!(members.ids_with_totp(&t.org).await.unwrap().is_empty());

    let ada = member(&t.org, "ada@example.test", "admin");
    let bob = member(&t.org, "bob@example.test", "developer");
    let cy = member(&t.org, "cy@example.test", "viewer");
    for m in [&ada, &bob, &cy] {
        members.insert(m, &[]).await.expect("member");
    }
    t.member_totp(&ada.id, Some(T0 + 1)).await;
    t.member_totp(&t.owner_id, Some(T0 + 2)).await;
    // Enrolment begun, never confirmed: not TOTP yet.
    t.member_totp(&bob.id, None).await;

    let mut expected = vec![ada.id.clone(), t.owner_id.clone()];
    expected.sort();
    assert_eq!(members.ids_with_totp(&t.org).await.unwrap(), expected);
    assert!(
        members
            .ids_with_totp("org_of_nobody")
            .await
            .unwrap()
            .is_empty(),
        "another organization's members are not listed"
    );

    // A removed member's authenticator goes with it.
    members
        .delete(&t.org, &ada.id, ada.role, &[])
        .await
        .expect("removed");
    assert_eq!(
        members.ids_with_totp(&t.org).await.unwrap(),
        vec![t.owner_id.clone()]
    );
}
