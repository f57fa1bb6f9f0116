//! The revocation feed (issue 18, point 1): `GET …/revocations?after=`
//! lists an environment's revocations in order, from a cursor, in bounded
//! pages; empty `after` gives the whole current state; a cursor older than
//! what is kept is 410.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

fn feed_path(env: &str, query: &str) -> String {
    format!("/environments/{env}/revocations{query}")
}

async fn feed(app: &TestApp, query: &str) -> Value {
    app.api(Method::GET, &feed_path(&app.sandbox, query), None)
        .await
        .assert_status(200)
        .clone()
}

fn sid(result: &Value) -> String {
    result["session"]["id"].as_str().unwrap().to_string()
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e[key].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn revocations_come_in_order_from_a_cursor_with_the_current_epochs() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let empty = feed(&app, "").await;
    assert_eq!(empty["sessions"], json!([]));
    assert_eq!(empty["users"], json!([]));
    assert_eq!(empty["environment_epoch"], 0);
    assert_eq!(empty["has_more"], false);
    let start = empty["next_cursor"].as_str().unwrap().to_string();

    let (_, laptop) = app.sign_in(&env, "ada@example.com").await;
    let (_, phone) = app.sign_in(&env, "ada@example.com").await;
    let (_, bob) = app.sign_in(&env, "bob@example.com").await;
    app.revoke_session(&env, &sid(&laptop))
        .await
        .assert_status(200);
    let bob_id = bob["user"]["id"].as_str().unwrap();
    app.revoke_user(&env, bob_id).await.assert_status(200);

    let page = feed(&app, &format!("?after={start}")).await;
    assert_eq!(ids(&page["sessions"], "session_id"), [sid(&laptop)]);
    assert_eq!(page["sessions"][0]["user_id"], laptop["user"]["id"]);
    assert_eq!(
        page["sessions"][0]["expires_at"],
        laptop["session"]["expires_at"]
    );
    assert_eq!(page["users"], json!([{"user_id": bob_id, "epoch": 1}]));
    assert_eq!(page["environment_epoch"], 0);
    assert_eq!(page["has_more"], false);
    // Revoking it again records nothing new.
    app.revoke_session(&env, &sid(&laptop))
        .await
        .assert_status(200);
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    let nothing = feed(&app, &format!("?after={cursor}")).await;
    assert_eq!(nothing["sessions"], json!([]));
    assert_eq!(nothing["next_cursor"], cursor.as_str());

    app.revoke_environment(&env).await.assert_status(200);
    app.revoke_session(&env, &sid(&phone))
        .await
        .assert_status(200);
    let next = feed(&app, &format!("?after={cursor}")).await;
    assert_eq!(ids(&next["sessions"], "session_id"), [sid(&phone)]);
    assert_eq!(next["environment_epoch"], 1);

    // Without a cursor: everything kept, the whole current state.
    let all = feed(&app, "").await;
    assert_eq!(
        ids(&all["sessions"], "session_id"),
        [sid(&laptop), sid(&phone)]
    );
    assert_eq!(all["users"], json!([{"user_id": bob_id, "epoch": 1}]));
    assert_eq!(all["next_cursor"], next["next_cursor"]);
    // The live environment's feed is its own.
    let live = app.api(Method::GET, &feed_path(&app.live, ""), None).await;
    assert_eq!(live.assert_status(200)["sessions"], json!([]));
}

#[tokio::test]
async fn pages_are_bounded_and_followed_to_the_end() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let mut revoked = vec![];
    for _ in 0..5 {
        let (_, r) = app.sign_in(&env, "ada@example.com").await;
        app.revoke_session(&env, &sid(&r)).await.assert_status(200);
        revoked.push(sid(&r));
    }
    let mut seen = vec![];
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let page = feed(&app, &format!("?after={cursor}&limit=2")).await;
        pages += 1;
        let got = ids(&page["sessions"], "session_id");
        assert!(got.len() <= 2, "{page}");
        seen.extend(got);
        cursor = page["next_cursor"].as_str().unwrap().to_string();
        if page["has_more"] == false {
            break;
        }
        assert!(pages < 10, "the pages end");
    }
    assert_eq!(seen, revoked);
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn an_expired_session_leaves_the_feed_and_old_cursors_are_gone() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let (_, old) = app.sign_in(&env, "ada@example.com").await;
    app.revoke_session(&env, &sid(&old))
        .await
        .assert_status(200);
    let first = feed(&app, "").await;
    assert_eq!(ids(&first["sessions"], "session_id"), [sid(&old)]);

    // Past its expiry the session is not listed; the cursor still moves.
    app.advance(time::Duration::hours(3));
    let later = feed(&app, "?after=0").await;
    assert_eq!(later["sessions"], json!([]));
    assert_eq!(later["next_cursor"], first["next_cursor"]);

    // A month on, the entry is pruned: its cursor is too old; no cursor
    // is never too old. (A user's revocation, which no expiry hides.)
    app.advance(time::Duration::days(31));
    let (_, bob) = app.sign_in(&env, "bob@example.com").await;
    let bob_id = bob["user"]["id"].as_str().unwrap();
    app.revoke_user(&env, bob_id).await.assert_status(200);
    let path = feed_path(&env, "?after=0");
    eventually_async("the old entry is pruned", || async {
        app.advance(time::Duration::minutes(1));
        let r = app.api(Method::GET, &path, None).await;
        (r.status.as_u16() == 410).then_some(r)
    })
    .await
    .assert_problem(410, "cursor_expired");
    let bob_only = json!([{"user_id": bob_id, "epoch": 1}]);
    let all = feed(&app, "").await;
    assert_eq!(all["users"], bob_only, "{all}");
    let kept = first["next_cursor"].as_str().unwrap();
    let from_kept = feed(&app, &format!("?after={kept}")).await;
    assert_eq!(from_kept["users"], bob_only);
    assert_eq!(from_kept["next_cursor"], all["next_cursor"]);
}

#[tokio::test]
async fn bad_cursors_and_limits_are_refused_naming_the_field() {
    let app = spawn_app().await;
    for (query, field) in [
        ("?after=abc", "after"),
        ("?after=-1", "after"),
        ("?after=99", "after"),
        ("?limit=0", "limit"),
        ("?limit=1001", "limit"),
    ] {
        let r = app
            .api(Method::GET, &feed_path(&app.sandbox, query), None)
            .await;
        r.assert_problem(400, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field, "{query}");
    }
    app.api(Method::GET, &feed_path(&app.sandbox, "?since=1"), None)
        .await
        .assert_problem(400, "validation_failed");
}

#[tokio::test]
async fn viewers_read_it_and_it_stays_open_while_locked() {
    let app = spawn_app().await;
    let (_, viewer) = app.create_token("viewer", Some(&app.sandbox)).await;
    app.api_as(&viewer, Method::GET, &feed_path(&app.sandbox, ""), None)
        .await
        .assert_status(200);
    app.api_as(&viewer, Method::GET, &feed_path(&app.live, ""), None)
        .await
        .assert_problem(403, "forbidden");
    app.set_locked(&app.sandbox, true).await.assert_status(200);
    app.api_as(&viewer, Method::GET, &feed_path(&app.sandbox, ""), None)
        .await
        .assert_status(200);
    app.get(&format!("/api/v1{}", feed_path(&app.sandbox, "")), None)
        .await
        .assert_problem(401, "missing_credentials");
}
