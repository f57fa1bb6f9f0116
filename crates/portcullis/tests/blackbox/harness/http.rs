//! Requests to the server under test and their replies, read whole.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::app::TestApp;

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// Asserts a problem+json error with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(self.body["code"], code, "body: {}", self.text);
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        assert_eq!(self.body["status"], status);
    }

    /// The `Retry-After` header, in seconds.
    #[track_caller]
    pub fn retry_after(&self) -> i64 {
        self.headers["retry-after"]
            .to_str()
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no Retry-After in seconds: {:?}", self.headers))
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        &self.body
    }
}

impl Reply {
    /// A response header as text, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        read(req.send().await.expect("request sent")).await
    }

    pub async fn raw(&self, req: reqwest::RequestBuilder) -> Reply {
        read(req.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> Reply {
        self.request(Method::GET, path, bearer, None).await
    }

    pub async fn post(&self, path: &str, bearer: Option<&str>, body: Value) -> Reply {
        self.request(Method::POST, path, bearer, Some(body)).await
    }

    /// A management API call with the owner token.
    pub async fn api(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.request(
            method,
            &format!("/api/v1{path}"),
            Some(&self.api_token),
            body,
        )
        .await
    }

    /// A management API call with another token.
    pub async fn api_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        self.request(method, &format!("/api/v1{path}"), Some(token), body)
            .await
    }

    /// A browser's CORS preflight for `method` on `path`.
    pub async fn preflight(&self, path: &str, origin: &str, method: &str) -> Reply {
        self.raw(
            self.client
                .request(Method::OPTIONS, format!("{}{path}", self.base))
                .header("origin", origin)
                .header("access-control-request-method", method)
                .header(
                    "access-control-request-headers",
                    "authorization, content-type",
                ),
        )
        .await
    }

    /// A request as a browser page on `origin` sends it.
    pub async fn browser_request(
        &self,
        method: Method,
        path: &str,
        origin: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("origin", origin);
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        self.raw(req).await
    }
}

async fn read(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    // An event stream does not end: its status and headers are the reply
    // (revocation_stream.rs reads streams as they come).
    let streaming = headers
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    let text = if streaming {
        String::new()
    } else {
        resp.text().await.unwrap_or_default()
    };
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}
