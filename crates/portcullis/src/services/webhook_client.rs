//! Sending webhook deliveries over HTTP, guarded against server-side
//! request forgery: a host name is resolved by Portcullis, every address
//! it resolves to is checked, and the connection goes only to an address
//! that passed (reqwest connects to what the resolver returns). No
//! redirects are followed, no proxy from the environment is used.

use std::error::Error as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::domain::webhook_url;

/// What is kept of an answer's body.
pub const MAX_RESPONSE_BODY: usize = 4096;

/// Each attempt gets this long, connection included.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct WebhookClient {
    http: reqwest::Client,
    allow_private: bool,
}

const FORBIDDEN: &str = "the destination resolves only to private, loopback, link-local or \
                         metadata addresses";

struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| allow_private || !webhook_url::forbidden(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(std::io::Error::other(FORBIDDEN).into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

impl WebhookClient {
    pub fn new(allow_private: bool) -> Result<WebhookClient, String> {
        let http = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("Portcullis-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(WebhookClient {
            http,
            allow_private,
        })
    }

    /// POSTs one attempt; the answer's status and the start of its body,
    /// or why there was none (never the URL or a header: they may hold
    /// secrets).
    pub async fn post(
        &self,
        url: &str,
        webhook_id: &str,
        timestamp: i64,
        signatures: &str,
        body: String,
    ) -> Result<(u16, String), String> {
        let request = self
            .http
            .post(url)
            .header("webhook-id", webhook_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signatures);
        self.send(url, request, body).await
    }

    /// POSTs a JSON body (a JSON-RPC call, `eth_rpc.rs`) under the same
    /// guard, within `timeout`: the answer's status and the start of its
    /// body, or why there was none.
    pub async fn post_json(
        &self,
        url: &str,
        body: String,
        timeout: Duration,
    ) -> Result<(u16, String), String> {
        let request = self.http.post(url).timeout(timeout);
        self.send(url, request, body).await
    }

    async fn send(
        &self,
        url: &str,
        request: reqwest::RequestBuilder,
        body: String,
    ) -> Result<(u16, String), String> {
        // An address in the URL itself is not resolved: check it here.
        webhook_url::parse(url, self.allow_private).map_err(|e| format!("the URL {e}"))?;
        let sent = request
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        let mut response = sent.map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        let mut kept = Vec::new();
        while kept.len() < MAX_RESPONSE_BODY {
            match response.chunk().await {
                Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        kept.truncate(MAX_RESPONSE_BODY);
        Ok((status, String::from_utf8_lossy(&kept).into_owned()))
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs());
    }
    let mut source = e.source();
    while let Some(inner) = source {
        if inner.to_string().contains(FORBIDDEN) {
            return FORBIDDEN.to_string();
        }
        source = inner.source();
    }
    if e.is_connect() {
        "could not connect".to_string()
    } else {
        "the request failed".to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[tokio::test]
    async fn a_name_that_resolves_only_to_forbidden_addresses_is_refused() {
        let name = || Name::from_str("localhost").expect("a name");
        let guarded = GuardedResolver {
            allow_private: false,
        };
        let refused = guarded.resolve(name()).await;
        assert!(refused.is_err_and(|e| e.to_string().contains("private")));
        let open = GuardedResolver {
            allow_private: true,
        };
        let addrs: Vec<SocketAddr> = open.resolve(name()).await.expect("resolves").collect();
        assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()));
    }

    #[tokio::test]
    async fn an_address_in_the_url_is_checked_before_connecting() {
        let client = WebhookClient::new(false).expect("a client");
        let sent = client
            .post("https://127.0.0.1:9/hook", "evt_1", 0, "v1,x", "{}".into())
            .await;
        assert!(sent.is_err_and(|e| e.contains("private")));
    }
}
