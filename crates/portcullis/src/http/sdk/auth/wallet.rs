use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiJson, Client};
use crate::http::sdk::{SdkEnvironment, cookies};
use crate::http::views::auth::AuthResult;
use crate::services::Services;
use crate::services::wallet_sign_in::WalletNonce;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WalletNonceRequest {
    /// `0x` and 40 hex digits; mixed case must be the EIP-55 checksum.
    pub address: String,
    /// EIP-155 chain id (1 for Ethereum mainnet).
    pub chain_id: u64,
}

/// The Sign-In with Ethereum message to sign with `personal_sign`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WalletNonceAnswer {
    pub nonce: String,
    /// The EIP-4361 message, to be signed as it is.
    pub message: String,
    /// When the nonce dies (RFC 3339); the message's Expiration Time.
    pub expires_at: String,
}

impl From<WalletNonce> for WalletNonceAnswer {
    fn from(n: WalletNonce) -> Self {
        WalletNonceAnswer {
            nonce: n.nonce,
            message: n.message,
            expires_at: n.expires_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WalletVerify {
    /// The message `nonce` answered, as signed.
    pub message: String,
    /// `0x` and the signature in hex: 65 bytes (r, s, v) from an account,
    /// or a contract wallet's own (EIP-1271).
    pub signature: String,
}

/// The browser's `Origin`, if any: the message names it (or, without one,
/// the server's public URL).
fn origin(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| *o != "null")
}

/// A single-use nonce and the message that carries it, for an address and
/// chain; valid 10 minutes. 403 `forbidden` while wallet sign-in is off.
#[utoipa::path(post, path = "/auth/wallet/nonce", tag = "sdk",
    params(("environment_id" = String, Path)),
    request_body = WalletNonceRequest,
    responses(
        (status = 200, body = WalletNonceAnswer),
        (status = 403, description = "wallet sign-in is off", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn wallet_nonce(
    State(services): State<Arc<Services>>,
    SdkEnvironment(env): SdkEnvironment,
    Client(client): Client,
    headers: HeaderMap,
    ApiJson(body): ApiJson<WalletNonceRequest>,
) -> ApiResult<Json<WalletNonceAnswer>> {
    let nonce = services
        .wallet_sign_in
        .nonce(
            &env,
            &body.address,
            body.chain_id,
            origin(&headers),
            &client,
        )
        .await?;
    Ok(Json(nonce.into()))
}

/// Trades the signed message for a session and its JWT (`amr` `["pop"]`,
/// claim `wallet`: the EIP-55 address); in cookie mode as
/// `email/verify` does. 400 `validation_failed` for a malformed message or
/// signature, or a message naming another origin; 400 `invalid_code` for
/// an unknown, used or expired nonce, a message bound to another address
/// or chain, or a signature that is not the address's; 503 `unavailable`
/// when the chain's RPC endpoint cannot answer for a contract wallet.
#[utoipa::path(post, path = "/auth/wallet/verify", tag = "sdk",
    params(("environment_id" = String, Path)),
    request_body = WalletVerify,
    responses(
        (status = 200, body = AuthResult),
        (status = 400, description = "invalid_code or validation_failed", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "wallet sign-in is off", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn wallet_verify(
    State(services): State<Arc<Services>>,
    SdkEnvironment(env): SdkEnvironment,
    Client(client): Client,
    headers: HeaderMap,
    ApiJson(body): ApiJson<WalletVerify>,
) -> ApiResult<Response> {
    let signed = services
        .wallet_sign_in
        .verify(
            &env,
            &body.message,
            &body.signature,
            origin(&headers),
            &client,
        )
        .await?;
    Ok(cookies::auth_answer(&services, &env, signed))
}
