//! The follower's reading of the whole state, against a feed scripted in
//! the test (a real local HTTP server; the follower against the real
//! Portcullis is in the server's black-box tests, `verify_follow.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use portcullis_verify::{Claims, FollowOptions, RevocationCheck, RevocationFollower};
use serde_json::json;

#[derive(Default)]
struct Script {
    second_page_requests: AtomicUsize,
}

#[derive(serde::Deserialize)]
struct After {
    #[serde(default)]
    after: String,
}

/// Two pages of state; the first request for the second one fails.
async fn feed(State(script): State<Arc<Script>>, Query(q): Query<After>) -> Response {
    let session = |id: &str| json!({"session_id": id, "expires_at": "2099-01-01T00:00:00Z"});
    match q.after.as_str() {
        "" => Json(json!({
            "sessions": [session("ses_1")], "users": [], "environment_epoch": 0,
            "next_cursor": "1", "has_more": true,
        }))
        .into_response(),
        "1" if script.second_page_requests.fetch_add(1, Ordering::SeqCst) == 0 => {
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
        "1" => Json(json!({
            "sessions": [session("ses_2")], "users": [], "environment_epoch": 0,
            "next_cursor": "2", "has_more": false,
        }))
        .into_response(),
        _ => Json(json!({
            "sessions": [], "users": [], "environment_epoch": 0,
            "next_cursor": q.after, "has_more": false,
        }))
        .into_response(),
    }
}

fn claims(sid: &str) -> Claims {
    serde_json::from_value(json!({
        "iss": "http://x/sdk/v1/env_test", "sub": "usr_1", "aud": "env_test",
        "sid": sid, "environment_id": "env_test", "iat": 0, "nbf": 0, "exp": 0,
        "jti": "j", "scope": "user:basic", "amr": [], "env_epoch": 0, "user_epoch": 0,
    }))
    .expect("claims")
}

#[tokio::test]
async fn a_failure_half_way_through_the_whole_state_starts_it_over() {
    let script = Arc::new(Script::default());
    let base = "/api/v1/environments/env_test/revocations";
    let app = Router::new()
        .route(base, get(feed))
        // No stream here: the follower polls.
        .route(
            &format!("{base}/stream"),
            get(|| async { StatusCode::NOT_FOUND }),
        )
        .with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let options = FollowOptions {
        poll_interval: Duration::from_millis(20),
        ..FollowOptions::default()
    };
    let follower = RevocationFollower::start(&url, "env_test", "token", options).expect("start");
    tokio::time::timeout(Duration::from_secs(10), follower.synced())
        .await
        .expect("synced within 10 s");
    assert!(
        script.second_page_requests.load(Ordering::SeqCst) >= 2,
        "the failed page was asked again"
    );
    // Synced means the whole state: both pages, the first read again.
    assert_eq!(follower.is_revoked(&claims("ses_1")), Ok(true));
    assert_eq!(follower.is_revoked(&claims("ses_2")), Ok(true));
    assert_eq!(follower.is_revoked(&claims("ses_3")), Ok(false));
}
