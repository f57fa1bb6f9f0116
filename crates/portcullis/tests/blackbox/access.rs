//! Issue 7, point 3: the route × role table of docs/access.md, walked
//! whole: every management route must have a row, every role gets the
//! answer its cell says, and the `locked` column holds while the
//! environment is locked.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::json;

use crate::harness::*;

const ROLES: [&str; 4] = ["viewer", "developer", "admin", "owner"];

pub(crate) struct Row {
    pub(crate) method: Method,
    /// Under `/api/v1`, with `{…}` placeholders.
    pub(crate) path: String,
    /// Per role, in `ROLES` order.
    allowed: [bool; 4],
    /// `423`, `open` or `-`.
    pub(crate) locked: String,
}

pub(crate) fn table() -> Vec<Row> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/access.md"))
        .expect("docs/access.md");
    let start = doc
        .find("| method | path | viewer | developer | admin | owner | locked |")
        .expect("the route × role table");
    doc[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            assert_eq!(cells.len(), 7, "a row has 7 cells: {line}");
            let allowed = [2, 3, 4, 5].map(|i| match cells[i] {
                "yes" => true,
                "no" => false,
                other => panic!("{other:?} is neither yes nor no: {line}"),
            });
            Row {
                method: cells[0].parse().expect("a method"),
                path: cells[1].trim_matches('`').to_string(),
                allowed,
                locked: cells[6].to_string(),
            }
        })
        .collect()
}

/// The path with the test's environment and ids of the right shape that
/// name nothing (the role is checked before any id is looked up).
fn concrete(path: &str, env: &str) -> String {
    let mut out = path.replace("{environment_id}", env);
    for (placeholder, prefix) in [
        ("{origin_id}", "ori"),
        ("{user_id}", "usr"),
        ("{session_id}", "ses"),
        ("{device_id}", "mfa"),
        ("{webhook_id}", "whk"),
        ("{delivery_id}", "dlv"),
        ("{token_id}", "tok"),
        ("{member_id}", "mem"),
    ] {
        out = out.replace(placeholder, &format!("{prefix}_{}", "0".repeat(32)));
    }
    assert!(
        !out.contains('{'),
        "a placeholder the test does not know: {path}"
    );
    out
}

/// A body for the writes: empty, since the role is decided first.
fn body(method: &Method) -> Option<serde_json::Value> {
    matches!(*method, Method::POST | Method::PATCH).then(|| json!({}))
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_table_says() {
    let app = spawn_app().await;
    let rows = table();

    // Every management operation of /openapi.json has exactly one row.
    let doc = app.get("/openapi.json", None).await;
    let mut operations = BTreeSet::new();
    for (path, item) in doc.assert_status(200)["paths"].as_object().unwrap() {
        let Some(path) = path.strip_prefix("/api/v1") else {
            continue;
        };
        for method in item.as_object().unwrap().keys() {
            operations.insert((method.to_uppercase(), path.to_string()));
        }
    }
    let listed: BTreeSet<_> = rows
        .iter()
        .map(|r| (r.method.to_string(), r.path.clone()))
        .collect();
    assert_eq!(listed.len(), rows.len(), "a route is listed twice");
    assert_eq!(
        operations, listed,
        "docs/access.md must list every management route, and only those"
    );

    let mut tokens = Vec::new();
    for role in ROLES {
        tokens.push(app.create_token(role, None).await.1);
    }
    let env = app.sandbox.clone();
    for row in &rows {
        let path = concrete(&row.path, &env);
        for (i, role) in ROLES.iter().enumerate() {
            let reply = app
                .api_as(&tokens[i], row.method.clone(), &path, body(&row.method))
                .await;
            if row.allowed[i] {
                assert!(
                    reply.status != 403 && reply.status != 401,
                    "{role} is refused {} {path}: {} {}",
                    row.method,
                    reply.status,
                    reply.text
                );
            } else {
                reply.assert_problem(403, "forbidden");
            }
            if row.path.ends_with("/lock") && row.allowed[i] {
                app.set_locked(&env, false).await.assert_status(200);
            }
        }
    }

    // The `locked` column, with the environment locked.
    app.set_locked(&env, true).await.assert_status(200);
    for row in &rows {
        let path = concrete(&row.path, &env);
        let reply = app
            .api_as(&tokens[3], row.method.clone(), &path, body(&row.method))
            .await;
        match row.locked.as_str() {
            "423" => reply.assert_problem(423, "environment_locked"),
            "open" | "-" => assert_ne!(
                reply.status, 423,
                "{} {path} should stay open while locked: {}",
                row.method, reply.text
            ),
            other => panic!("{other:?} in the locked column of {}", row.path),
        }
        // A role that may not call a route learns nothing about the lock.
        if !row.allowed[0] {
            app.api_as(&tokens[0], row.method.clone(), &path, body(&row.method))
                .await
                .assert_problem(403, "forbidden");
        }
        if row.path.ends_with("/unlock") {
            app.set_locked(&env, true).await.assert_status(200);
        }
    }
}
