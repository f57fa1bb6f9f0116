//! Management API calls the tests repeat, made with the owner token:
//! API tokens, locks, revocations, origins and webhooks.

use reqwest::Method;
use serde_json::json;

use super::app::TestApp;
use super::http::Reply;

impl TestApp {
    /// A new API token (created with the owner token) with `role`, limited
    /// to `env` when given: `(id, secret)`.
    pub async fn create_token(&self, role: &str, env: Option<&str>) -> (String, String) {
        let mut body = json!({ "note": format!("a {role} token for a test"), "role": role });
        if let Some(env) = env {
            body["environment_id"] = json!(env);
        }
        let reply = self.api(Method::POST, "/tokens", Some(body)).await;
        let created = reply.assert_status(201);
        (
            created["id"].as_str().unwrap().to_string(),
            created["secret"].as_str().unwrap().to_string(),
        )
    }

    /// A new API token (created with the owner token) with `role` that
    /// expires at `expires_at` (RFC 3339): `(id, secret)`.
    pub async fn create_expiring_token(&self, role: &str, expires_at: &str) -> (String, String) {
        let body = json!({ "note": format!("an expiring {role} token"), "role": role,
                           "expires_at": expires_at });
        let reply = self.api(Method::POST, "/tokens", Some(body)).await;
        let created = reply.assert_status(201);
        (
            created["id"].as_str().unwrap().to_string(),
            created["secret"].as_str().unwrap().to_string(),
        )
    }

    /// Locks (`true`) or unlocks an environment with the owner token.
    pub async fn set_locked(&self, env: &str, locked: bool) -> Reply {
        let action = if locked { "lock" } else { "unlock" };
        self.api(Method::POST, &format!("/environments/{env}/{action}"), None)
            .await
    }

    /// `POST …/sessions/{id}/revoke` with the owner token.
    pub async fn revoke_session(&self, env: &str, session_id: &str) -> Reply {
        self.api(
            Method::POST,
            &format!("/environments/{env}/sessions/{session_id}/revoke"),
            None,
        )
        .await
    }

    /// `POST …/users/{id}/sessions/revoke` with the owner token.
    pub async fn revoke_user(&self, env: &str, user_id: &str) -> Reply {
        self.api(
            Method::POST,
            &format!("/environments/{env}/users/{user_id}/sessions/revoke"),
            None,
        )
        .await
    }

    /// `POST …/sessions/revoke` (the whole environment) with the owner token.
    pub async fn revoke_environment(&self, env: &str) -> Reply {
        self.api(
            Method::POST,
            &format!("/environments/{env}/sessions/revoke"),
            None,
        )
        .await
    }

    /// Adds an allowed origin to `env` with the owner token.
    pub async fn add_origin(&self, env: &str, origin: &str) -> Reply {
        self.api(
            Method::POST,
            &format!("/environments/{env}/origins"),
            Some(json!({ "origin": origin })),
        )
        .await
    }

    /// Registers a webhook to `url` for `events` (empty: all); returns its
    /// id and secret.
    pub async fn create_webhook(&self, env: &str, url: &str, events: &[&str]) -> (String, String) {
        let r = self
            .api(
                Method::POST,
                &format!("/environments/{env}/webhooks"),
                Some(json!({ "url": url, "events": events })),
            )
            .await;
        let body = r.assert_status(201);
        (
            body["id"].as_str().expect("id").to_string(),
            body["secret"].as_str().expect("secret").to_string(),
        )
    }
}
