//! Issue 7, point 1: organization members, exactly one owner, ownership
//! transfer, nobody acting above their own role.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

async fn members(app: &TestApp) -> Vec<Value> {
    app.api(Method::GET, "/members", None)
        .await
        .assert_status(200)["members"]
        .as_array()
        .unwrap()
        .clone()
}

async fn owners(app: &TestApp) -> Vec<String> {
    members(app)
        .await
        .iter()
        .filter(|m| m["role"] == "owner")
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

async fn add(app: &TestApp, token: &str, email: &str, role: &str) -> Reply {
    app.api_as(
        token,
        Method::POST,
        "/members",
        Some(json!({ "email": email, "role": role })),
    )
    .await
}

fn member_path(id: &str) -> String {
    format!("/members/{id}")
}

#[tokio::test]
async fn the_first_start_creates_the_one_owner_and_members_are_added_under_it() {
    let app = spawn_app_with(|c| {
        c.owner_email =
            portcullis::domain::email::EmailAddress::parse("Founder@Example.com").unwrap();
    })
    .await;
    let list = members(&app).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["email"], "founder@example.com");
    assert_eq!(list[0]["role"], "owner");

    let reply = add(&app, &app.api_token, "Ada@Example.com", "admin").await;
    let ada = reply.assert_status(201).clone();
    assert_eq!(ada["email"], "ada@example.com");
    assert!(ada["id"].as_str().unwrap().starts_with("mem_"));
    add(&app, &app.api_token, "ada@example.com", "viewer")
        .await
        .assert_problem(409, "conflict");
    let reply = add(&app, &app.api_token, "bob@example.com", "owner").await;
    reply.assert_problem(400, "validation_failed");
    assert_eq!(reply.body["errors"][0]["field"], "role");
    for (body, field) in [
        (
            json!({ "email": "not an address", "role": "viewer" }),
            "email",
        ),
        (json!({ "email": "c@example.com", "role": "root" }), "role"),
    ] {
        let reply = app.api(Method::POST, "/members", Some(body)).await;
        reply.assert_problem(400, "validation_failed");
        assert_eq!(reply.body["errors"][0]["field"], field);
    }
    assert_eq!(members(&app).await.len(), 2);

    // PATCH changes the name and address; `null` clears the name.
    let id = ada["id"].as_str().unwrap();
    let reply = app
        .api(
            Method::PATCH,
            &member_path(id),
            Some(json!({ "name": "Ada L.", "email": "ada@lovelace.dev" })),
        )
        .await;
    assert_eq!(reply.assert_status(200)["name"], "Ada L.");
    assert_eq!(reply.body["email"], "ada@lovelace.dev");
    let reply = app
        .api(
            Method::PATCH,
            &member_path(id),
            Some(json!({ "name": null })),
        )
        .await;
    assert_eq!(reply.assert_status(200)["name"], Value::Null);
    assert_eq!(reply.body["role"], "admin");
    app.api(Method::GET, &member_path(id), None)
        .await
        .assert_status(200);
    app.api(Method::DELETE, &member_path(id), None)
        .await
        .assert_status(204);
    app.api(Method::GET, &member_path(id), None)
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn ownership_moves_only_by_transfer_and_only_by_the_owner() {
    let app = spawn_app().await;
    let founder = owners(&app).await.remove(0);
    let ada = add(&app, &app.api_token, "ada@example.com", "admin").await;
    let ada = ada.assert_status(201)["id"].as_str().unwrap().to_string();
    let (_, admin) = app.create_token("admin", None).await;

    // An admin cannot make anyone owner, demote or remove the owner.
    let to_owner = json!({ "role": "owner" });
    app.api_as(
        &admin,
        Method::PATCH,
        &member_path(&ada),
        Some(to_owner.clone()),
    )
    .await
    .assert_problem(403, "forbidden");
    app.api_as(
        &admin,
        Method::PATCH,
        &member_path(&founder),
        Some(json!({ "email": "mine@example.com" })),
    )
    .await
    .assert_problem(403, "forbidden");
    // Not even the owner's token demotes or removes the owner member.
    app.api(
        Method::PATCH,
        &member_path(&founder),
        Some(json!({ "role": "viewer" })),
    )
    .await
    .assert_problem(409, "conflict");
    app.api(Method::DELETE, &member_path(&founder), None)
        .await
        .assert_problem(409, "conflict");
    assert_eq!(owners(&app).await, vec![founder.clone()]);

    // The owner transfers: the old owner becomes admin, in one step.
    let reply = app
        .api(Method::PATCH, &member_path(&ada), Some(to_owner))
        .await;
    assert_eq!(reply.assert_status(200)["role"], "owner");
    assert_eq!(owners(&app).await, vec![ada.clone()]);
    let old = app.api(Method::GET, &member_path(&founder), None).await;
    assert_eq!(old.assert_status(200)["role"], "admin");
    // Now the old owner can be removed, and the new one cannot.
    app.api(Method::DELETE, &member_path(&ada), None)
        .await
        .assert_problem(409, "conflict");
    app.api(Method::DELETE, &member_path(&founder), None)
        .await
        .assert_status(204);
    assert_eq!(owners(&app).await, [ada]);
}

#[tokio::test]
async fn nobody_manages_a_member_above_their_own_role() {
    let app = spawn_app().await;
    let (_, admin) = app.create_token("admin", None).await;
    let (_, developer) = app.create_token("developer", None).await;
    let dev = add(&app, &admin, "dev@example.com", "developer").await;
    let dev = dev.assert_status(201)["id"].as_str().unwrap().to_string();
    // An admin may promote to admin, but a developer token cannot touch
    // members at all.
    app.api_as(
        &admin,
        Method::PATCH,
        &member_path(&dev),
        Some(json!({ "role": "admin" })),
    )
    .await
    .assert_status(200);
    for (method, path, body) in [
        (Method::GET, "/members".to_string(), None),
        (
            Method::POST,
            "/members".to_string(),
            Some(json!({ "email": "x@example.com", "role": "viewer" })),
        ),
        (Method::DELETE, member_path(&dev), None),
    ] {
        app.api_as(&developer, method, &path, body)
            .await
            .assert_problem(403, "forbidden");
    }
    let reply = app.api(Method::GET, &member_path(&dev), None).await;
    assert_eq!(reply.assert_status(200)["role"], "admin");
    app.api(Method::GET, "/members/mem_nope", None)
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn member_changes_are_audited_in_every_environment() {
    let app = spawn_app().await;
    let ada = add(&app, &app.api_token, "ada@example.com", "developer").await;
    let ada = ada.assert_status(201)["id"].as_str().unwrap().to_string();
    app.api(
        Method::PATCH,
        &member_path(&ada),
        Some(json!({ "role": "admin" })),
    )
    .await
    .assert_status(200);
    app.api(
        Method::PATCH,
        &member_path(&ada),
        Some(json!({ "role": "owner" })),
    )
    .await
    .assert_status(200);
    let bob = add(&app, &app.api_token, "bob@example.com", "viewer").await;
    let bob = bob.assert_status(201)["id"].as_str().unwrap().to_string();
    app.api(Method::DELETE, &member_path(&bob), None)
        .await
        .assert_status(204);
    for env in [&app.sandbox, &app.live] {
        let reply = app
            .api(Method::GET, &format!("/environments/{env}/events"), None)
            .await;
        let kinds: Vec<&str> = reply.assert_status(200)["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .filter(|k| k.starts_with("member.") || k.starts_with("organization."))
            .collect();
        assert_eq!(
            kinds,
            [
                "member.removed",
                "member.added",
                "organization.ownership_transferred",
                "member.updated",
                "member.added"
            ]
        );
        let transfer = reply.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"] == "organization.ownership_transferred")
            .unwrap()
            .clone();
        assert_eq!(transfer["subject"], ada.as_str());
        assert_eq!(transfer["actor"]["kind"], "api_token");
    }
}
