//! Asking a contract wallet whether a signature is its own (EIP-1271):
//! `eth_call` of `isValidSignature(bytes32,bytes)` at the chain's JSON-RPC
//! endpoint (the environment's `chains` setting), through the webhooks'
//! guarded HTTP client (no redirects, no private addresses unless the
//! server allows them).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::webhook_client::WebhookClient;
use crate::domain::ethereum::{Address, eip1271_call_data, eip1271_says_valid};

/// An RPC call gets this long.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// No usable answer: unreachable, too slow, not JSON-RPC, or an error
    /// other than a revert. Never the URL (it may hold an API key).
    #[error("the chain's RPC endpoint gave no usable answer: {0}")]
    Unavailable(String),
}

pub struct EthRpc {
    http: Arc<WebhookClient>,
}

/// `0x` and hex digits, as bytes.
fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    hex::decode(text.strip_prefix("0x")?).ok()
}

impl EthRpc {
    pub fn new(http: Arc<WebhookClient>) -> Self {
        EthRpc { http }
    }

    /// Whether `contract` says `signature` is its signature of `hash`. A
    /// revert, or an address without code (an empty answer), is a no.
    pub async fn is_valid_signature(
        &self,
        rpc_url: &str,
        contract: &Address,
        hash: &[u8; 32],
        signature: &[u8],
    ) -> Result<bool, RpcError> {
        let call = json!({
            "jsonrpc": "2.0",
            "id": 1,
            "method": "eth_call",
            "params": [{
                "to": contract.checksummed(),
                "data": format!("0x{}", hex::encode(eip1271_call_data(hash, signature))),
            }, "latest"],
        });
        let (status, body) = self
            .http
            .post_json(rpc_url, call.to_string(), RPC_TIMEOUT)
            .await
            .map_err(RpcError::Unavailable)?;
        let answer: Value = serde_json::from_str(&body)
            .map_err(|_| RpcError::Unavailable(format!("HTTP {status}, not JSON-RPC")))?;
        if let Some(result) = answer.get("result").and_then(Value::as_str) {
            let returned = hex_bytes(result)
                .ok_or_else(|| RpcError::Unavailable("the result is not hex".into()))?;
            return Ok(eip1271_says_valid(&returned));
        }
        let error = answer.get("error").cloned().unwrap_or(Value::Null);
        let message = error["message"].as_str().unwrap_or_default();
        // Geth and most nodes: code 3 (or -32000) "execution reverted".
        if error["code"] == 3 || message.contains("revert") {
            return Ok(false);
        }
        Err(RpcError::Unavailable(format!(
            "HTTP {status}, JSON-RPC error {}",
            error["code"]
        )))
    }
}
