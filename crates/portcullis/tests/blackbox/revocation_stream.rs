//! The revocation stream (issue 18, point 2): the feed's entries as
//! Server-Sent Events as they happen, on every node, resumable with
//! `Last-Event-ID`, with heartbeat comments while idle.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::harness::*;

/// One Server-Sent Event, or a comment line.
#[derive(Debug)]
enum Sse {
    Event {
        name: String,
        id: Option<String>,
        data: Value,
    },
    Comment(String),
}

/// Reads an event stream as it arrives.
struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    async fn open(app: &TestApp, env: &str, last_event_id: Option<&str>) -> EventStream {
        let mut req = app
            .client
            .get(format!(
                "{}/api/v1/environments/{env}/revocations/stream",
                app.base
            ))
            .bearer_auth(&app.api_token);
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let response = req.send().await.expect("the stream opens");
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(
            response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("text/event-stream")
        );
        EventStream {
            response,
            buffer: String::new(),
        }
    }

    /// The next event or comment, within a deadline.
    async fn next(&mut self) -> Sse {
        tokio::time::timeout(Duration::from_secs(5), self.read())
            .await
            .expect("an event within 5 s (the stream looks again by itself only every 10 s)")
    }

    async fn read(&mut self) -> Sse {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                return parse(&block);
            }
            let chunk = self
                .response
                .chunk()
                .await
                .expect("the stream reads")
                .expect("the stream stays open");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next event, skipping heartbeat comments.
    async fn next_event(&mut self) -> (String, Option<String>, Value) {
        loop {
            if let Sse::Event { name, id, data } = self.next().await {
                return (name, id, data);
            }
        }
    }
}

fn parse(block: &str) -> Sse {
    let (mut name, mut id, mut data) = (String::from("message"), None, String::new());
    for line in block.lines() {
        if let Some(comment) = line.strip_prefix(':') {
            return Sse::Comment(comment.trim().to_string());
        }
        match line.split_once(':') {
            Some(("event", v)) => name = v.trim().to_string(),
            Some(("id", v)) => id = Some(v.trim().to_string()),
            Some(("data", v)) => data.push_str(v.trim_start()),
            _ => {}
        }
    }
    Sse::Event {
        name,
        id,
        data: serde_json::from_str(&data).unwrap_or(Value::String(data)),
    }
}

fn session_ids(page: &Value) -> Vec<&str> {
    page["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_stream_sends_the_state_then_each_revocation_as_it_happens() {
    let app = spawn_app_with(|c| c.stream_heartbeat_interval = Duration::from_millis(200)).await;
    let env = app.sandbox.clone();
    let (_, before) = app.sign_in(&env, "ada@example.com").await;
    let before_id = before["session"]["id"].as_str().unwrap();
    app.revoke_session(&env, before_id).await.assert_status(200);

    let mut stream = EventStream::open(&app, &env, None).await;
    let (name, first_id, state) = stream.next_event().await;
    assert_eq!(name, "revocations");
    assert_eq!(session_ids(&state), [before_id], "the current state first");
    assert_eq!(first_id.as_deref(), state["next_cursor"].as_str());

    // Idle: a heartbeat comment keeps proxies from closing it.
    loop {
        if let Sse::Comment(text) = stream.next().await {
            assert_eq!(text, "heartbeat");
            break;
        }
    }

    let (_, now) = app.sign_in(&env, "bob@example.com").await;
    let now_id = now["session"]["id"].as_str().unwrap();
    app.revoke_session(&env, now_id).await.assert_status(200);
    let (name, id, page) = stream.next_event().await;
    assert_eq!(name, "revocations");
    assert_eq!(session_ids(&page), [now_id]);
    assert_ne!(id, first_id);
    app.revoke_environment(&env).await.assert_status(200);
    let (_, resumed_from, page) = stream.next_event().await;
    assert_eq!(page["environment_epoch"], 1);
    assert_eq!(page["sessions"], serde_json::json!([]));

    // A client that reconnects with Last-Event-ID gets what came after.
    drop(stream);
    let mut again = EventStream::open(&app, &env, id.as_deref()).await;
    let (_, id_again, page) = again.next_event().await;
    assert_eq!(page["environment_epoch"], 1);
    assert_eq!(page["sessions"], serde_json::json!([]));
    assert_eq!(id_again, resumed_from);
}

#[tokio::test]
async fn a_bad_or_too_old_cursor_is_a_plain_answer() {
    let app = spawn_app().await;
    let path = format!(
        "/environments/{}/revocations/stream?after=nope",
        app.sandbox
    );
    let r = app.api(Method::GET, &path, None).await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_one_node_reaches_a_stream_on_the_other() {
    let nodes = spawn_nodes(2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let env = a.sandbox.clone();
    let mut stream = EventStream::open(b, &env, None).await;
    let (_, _, state) = stream.next_event().await;
    assert_eq!(state["sessions"], serde_json::json!([]));
    let (_, result) = a.sign_in(&env, "ada@example.com").await;
    let sid = result["session"]["id"].as_str().unwrap();
    a.revoke_session(&env, sid).await.assert_status(200);
    let (_, _, page) = stream.next_event().await;
    assert_eq!(session_ids(&page), [sid]);
    let user = result["user"]["id"].as_str().unwrap();
    a.revoke_user(&env, user).await.assert_status(200);
    let (_, _, page) = stream.next_event().await;
    assert_eq!(page["users"][0]["user_id"], user);
}
