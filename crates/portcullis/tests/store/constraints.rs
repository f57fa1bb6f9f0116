//! The schema's unique rules surface as `StoreError::Conflict` naming the
//! rule, and a write that breaks one changes nothing.

use portcullis::domain::roles::Role;
use portcullis::store::{Constraint, MemberChanges, OriginRecord, StoreError};

use crate::fixtures::{
    HOUR, T0, TestStore, api_token, assert_conflict, id, member, passkey, tenant, totp,
};

#[tokio::test]
async fn a_member_email_is_unique_in_an_organization() {
    let t = TestStore::open().await;
    let members = &t.store.members;
    let ada = member(&t.org, "ada@example.test", "admin");
    members.insert(&ada, &[]).await.expect("first member");
    let twin = member(&t.org, "ada@example.test", "viewer");
    assert_conflict(members.insert(&twin, &[]).await, Constraint::MemberEmail);

    let bob = member(&t.org, "bob@example.test", "developer");
    members.insert(&bob, &[]).await.expect("second member");
    let to_ada = MemberChanges {
        email: Some("ada@example.test".into()),
        ..MemberChanges::default()
    };
    assert_conflict(
        members
            .update(&t.org, &bob.id, Role::Developer, &to_ada, T0 + 1, &[])
            .await,
        Constraint::MemberEmail,
    );
    let stored = members.get(&t.org, &bob.id).await.unwrap().unwrap();
    assert_eq!(stored.email, "bob@example.test");
    assert_eq!(members.list(&t.org).await.unwrap().len(), 3);
}

#[tokio::test]
async fn an_organization_has_one_owner() {
    let t = TestStore::open().await;
    let members = &t.store.members;
    let second = member(&t.org, "second@example.test", "owner");
    assert_conflict(members.insert(&second, &[]).await, Constraint::OneOwner);

    let admin = member(&t.org, "admin@example.test", "admin");
    members.insert(&admin, &[]).await.unwrap();
    let promote = MemberChanges {
        role: Some(Role::Owner),
        ..MemberChanges::default()
    };
    assert_conflict(
        members
            .update(&t.org, &admin.id, Role::Admin, &promote, T0 + 1, &[])
            .await,
        Constraint::OneOwner,
    );

    // Ownership moves only by a transfer, which keeps it one.
    let moved = members
        .transfer_ownership(
            &t.org,
            &admin.id,
            Role::Admin,
            &MemberChanges::default(),
            T0 + 2,
            &[],
        )
        .await
        .unwrap()
        .expect("the member had the expected role");
    assert_eq!(moved.role, Role::Owner);
    let owners: Vec<String> = members
        .list(&t.org)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.role == Role::Owner)
        .map(|m| m.id)
        .collect();
    assert_eq!(owners, [admin.id]);
    let old_owner = members.get(&t.org, &t.owner_id).await.unwrap().unwrap();
    assert_eq!(old_owner.role, Role::Admin);
}

#[tokio::test]
async fn an_origin_is_listed_once_per_environment() {
    let t = TestStore::open().await;
    let origins = &t.store.origins;
    let origin = |environment_id: &str| OriginRecord {
        id: id("ori"),
        environment_id: environment_id.into(),
        origin: "https://app.example.test".into(),
        created_at: T0,
    };
    let event = t.event("origin.added", T0);
    assert!(origins.add(&origin(&t.env), 10, &event).await.unwrap());
    let again = t.event("origin.added", T0);
    assert_conflict(
        origins.add(&origin(&t.env), 10, &again).await,
        Constraint::Origin,
    );
    // Nothing of the refused write is stored, its event neither.
    assert!(t.store.events.get(&again.id).await.unwrap().is_none());
    assert_eq!(origins.list(&t.env).await.unwrap().len(), 1);

    let elsewhere = t.event("origin.added", T0);
    assert!(
        origins
            .add(&origin(&t.other_env), 10, &elsewhere)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_user_has_one_confirmed_totp_device() {
    let t = TestStore::open().await;
    let mfa = &t.store.mfa;
    let (user, _) = t.sign_in(&t.env, "totp@example.test", T0, T0 + HOUR).await;
    let first = totp(&user, T0);
    mfa.insert_device(&first, None).await.unwrap();
    let confirmed = t.event("user.mfa.enabled", T0);
    assert!(
        mfa.confirm_device(&first.id, T0, 1, &confirmed)
            .await
            .unwrap()
    );
    let twice = t.event("user.mfa.enabled", T0);
    assert!(!mfa.confirm_device(&first.id, T0, 2, &twice).await.unwrap());

    let second = totp(&user, T0 + 1);
    mfa.insert_device(&second, None).await.unwrap();
    let event = t.event("user.mfa.enabled", T0 + 1);
    assert_conflict(
        mfa.confirm_device(&second.id, T0 + 1, 3, &event).await,
        Constraint::OneTotpPerUser,
    );
    let devices = mfa.devices(&t.env, &user.id).await.unwrap();
    let confirmed: Vec<&str> = devices
        .iter()
        .filter(|d| d.confirmed_at.is_some())
        .map(|d| d.id.as_str())
        .collect();
    assert_eq!(confirmed, [first.id.as_str()]);
}

#[tokio::test]
async fn a_passkey_credential_is_registered_once_per_environment() {
    let t = TestStore::open().await;
    let mfa = &t.store.mfa;
    let (ada, _) = t.sign_in(&t.env, "ada@example.test", T0, T0 + HOUR).await;
    let (bob, _) = t.sign_in(&t.env, "bob@example.test", T0, T0 + HOUR).await;
    let (eve, _) = t
        .sign_in(&t.other_env, "eve@example.test", T0, T0 + HOUR)
        .await;
    mfa.insert_device(&passkey(&ada, "cred-1", T0), None)
        .await
        .unwrap();
    assert_conflict(
        mfa.insert_device(&passkey(&bob, "cred-1", T0), None).await,
        Constraint::PasskeyCredential,
    );
    assert_conflict(
        mfa.insert_device(&passkey(&ada, "cred-1", T0), None).await,
        Constraint::PasskeyCredential,
    );
    assert!(mfa.devices(&t.env, &bob.id).await.unwrap().is_empty());
    // Another environment is another namespace.
    mfa.insert_device(&passkey(&eve, "cred-1", T0), None)
        .await
        .unwrap();
}

/// Rules the services do not name are conflicts all the same.
#[tokio::test]
async fn a_token_hash_is_unique() {
    let t = TestStore::open().await;
    let token = api_token(&t.org, "admin", t.owner_token_hash.clone());
    assert_conflict(
        t.store.api_tokens.insert(&token, &[]).await,
        Constraint::Other,
    );
    assert!(
        t.store
            .api_tokens
            .get(&t.org, &token.id)
            .await
            .unwrap()
            .is_none()
    );
}

/// Two nodes starting on one empty database: the second's tenant is refused.
#[tokio::test]
async fn a_second_first_tenant_is_a_conflict() {
    let t = TestStore::open().await;
    let again = tenant();
    let refused = t.store.organizations.create_tenant(&again).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let still = t.store.organizations.first_tenant().await.unwrap().unwrap();
    assert_eq!(still.organization.id, t.org);
}
