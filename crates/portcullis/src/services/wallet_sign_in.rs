//! Sign-In with Ethereum (EIP-4361; docs/sign-in.md, "Wallets"): `nonce`
//! writes the message for an address and chain, bound to a single-use
//! nonce that lives 10 minutes; `verify` checks the signed message against
//! this request's origin, the nonce, its times and the signature (an
//! account's `personal_sign`, or a contract wallet's EIP-1271 answer), and
//! signs the wallet's user in. The nonce is a verification (`vrf_` +
//! nonce): one try spent per verify, used up by the statement that stores
//! the session, so a signature signs in once.

use std::sync::Arc;

use super::code_sign_in::{CodeSignIn, check_enabled};
use super::environments::EnvironmentRuntime;
use super::eth_rpc::{EthRpc, RpcError};
use super::rate_limit::{Bucket, RateLimits};
use super::sessions::ClientInfo;
use super::signed_in::SignedIn;
use super::{ServiceError, ServiceResult};
use crate::clock::{Clock, rfc3339};
use crate::domain::credential::CredentialKind;
use crate::domain::ethereum::{
    Address, SignatureError, personal_message_hash, recover_personal_signer,
};
use crate::domain::settings::MAX_CHAIN_ID;
use crate::domain::siwe::SiweMessage;
use crate::domain::validation::ValidationErrors;
use crate::domain::verification::CODE_LIFETIME;

/// What the message asks the user to sign.
pub const STATEMENT: &str = "Sign in with your Ethereum account.";
/// A message issued this far ahead of the server's clock is refused.
const ISSUED_AT_LEEWAY: time::Duration = time::Duration::seconds(60);
/// The longest contract-wallet signature passed on to the chain.
const MAX_CONTRACT_SIGNATURE_BYTES: usize = 2048;

/// A message to sign.
#[derive(Debug, Clone)]
pub struct WalletNonce {
    pub nonce: String,
    pub message: String,
    pub expires_at: String,
}

impl From<RpcError> for ServiceError {
    fn from(e: RpcError) -> Self {
        tracing::warn!(error = %e, "a contract wallet's signature could not be checked");
        ServiceError::Unavailable
    }
}

/// The domain (authority) and URI a message for this request must name:
/// the browser's `Origin`, which the SDK gate has admitted, or, for a
/// native app (no `Origin`), the server's public URL.
fn expected_origin(origin: Option<&str>, public_url: &str) -> Option<(String, String)> {
    let base = origin.unwrap_or(public_url);
    let url = url::Url::parse(base).ok()?;
    let host = url.host_str()?;
    let domain = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    Some((domain, url.origin().ascii_serialization()))
}

fn destination(chain_id: u64, address: &Address) -> String {
    format!("{chain_id}:{}", address.checksummed())
}

pub struct WalletSignIn {
    clock: Arc<dyn Clock>,
    codes: Arc<CodeSignIn>,
    rate_limits: Arc<RateLimits>,
    rpc: Arc<EthRpc>,
    public_url: String,
}

impl WalletSignIn {
    pub fn new(
        clock: Arc<dyn Clock>,
        codes: Arc<CodeSignIn>,
        rate_limits: Arc<RateLimits>,
        rpc: Arc<EthRpc>,
        public_url: String,
    ) -> Self {
        WalletSignIn {
            clock,
            codes,
            rate_limits,
            rpc,
            public_url,
        }
    }

    pub async fn nonce(
        &self,
        env: &EnvironmentRuntime,
        address: &str,
        chain_id: u64,
        origin: Option<&str>,
        client: &ClientInfo,
    ) -> ServiceResult<WalletNonce> {
        check_enabled(env, CredentialKind::Wallet)?;
        let address = Address::parse(address)
            .map_err(|e| ValidationErrors::single("address", e.to_string()))?;
        if !(1..=MAX_CHAIN_ID).contains(&chain_id) {
            return Err(ValidationErrors::single(
                "chain_id",
                format!("must be between 1 and {MAX_CHAIN_ID}"),
            )
            .into());
        }
        let (domain, uri) = expected_origin(origin, &self.public_url)
            .ok_or_else(|| ServiceError::internal("the public URL has no host"))?;
        let ip = client.ip_address.as_deref().unwrap_or("unknown");
        self.rate_limits
            .check_all(&[
                (Bucket::WalletNoncePerIp, format!("{}|{ip}", env.id())),
                (
                    Bucket::WalletNoncePerAddress,
                    format!("{}|{}", env.id(), address.checksummed()),
                ),
            ])
            .await?;

        let mut new = self.codes.fresh_code()?;
        // The nonce is the verification's id without its prefix: letters
        // and digits, 80 random bits (EIP-4361 asks for at least 8
        // alphanumerics).
        let nonce = new
            .verification_id
            .strip_prefix("vrf_")
            .unwrap_or(&new.verification_id)
            .to_string();
        new.code = nonce.clone();
        let now = self
            .clock
            .now()
            .replace_nanosecond(0)
            .unwrap_or(self.clock.now());
        let message = SiweMessage {
            scheme: None,
            domain,
            address,
            statement: Some(STATEMENT.into()),
            uri,
            chain_id,
            nonce: nonce.clone(),
            issued_at: now,
            expiration_time: Some(now + CODE_LIFETIME),
            not_before: None,
            request_id: None,
            resources: vec![],
        };
        self.codes
            .store(
                env,
                CredentialKind::Wallet,
                &destination(chain_id, &address),
                &new,
            )
            .await?;
        Ok(WalletNonce {
            nonce,
            message: message.to_text(),
            expires_at: rfc3339(new.expires_at),
        })
    }

    pub async fn verify(
        &self,
        env: &EnvironmentRuntime,
        message: &str,
        signature: &str,
        origin: Option<&str>,
        client: &ClientInfo,
    ) -> ServiceResult<SignedIn> {
        check_enabled(env, CredentialKind::Wallet)?;
        let parsed = SiweMessage::parse(message)
            .map_err(|e| ValidationErrors::single("message", e.to_string()))?;
        let (domain, uri) = expected_origin(origin, &self.public_url)
            .ok_or_else(|| ServiceError::internal("the public URL has no host"))?;
        if parsed.domain != domain {
            return Err(ValidationErrors::single(
                "message",
                format!("its domain must be {domain}, the origin this request comes from"),
            )
            .into());
        }
        if parsed.uri != uri {
            return Err(ValidationErrors::single(
                "message",
                format!("its URI must be {uri}, the origin this request comes from"),
            )
            .into());
        }
        let signature_bytes = signature
            .strip_prefix("0x")
            .and_then(|h| hex::decode(h).ok())
            .filter(|b| !b.is_empty() && b.len() <= MAX_CONTRACT_SIGNATURE_BYTES)
            .ok_or_else(|| {
                ValidationErrors::single("signature", "must be 0x and the signature in hex")
            })?;

        // The nonce: one try spent, refused if unknown, used, expired, of
        // another environment or superseded by a newer one for the address.
        let verification_id = format!("vrf_{}", parsed.nonce);
        let verification = self
            .codes
            .attempt(
                env,
                CredentialKind::Wallet,
                &verification_id,
                &parsed.nonce,
                client,
            )
            .await?;
        if verification.destination != destination(parsed.chain_id, &parsed.address) {
            return Err(ServiceError::InvalidCode);
        }
        let now = self.clock.now();
        let expired = parsed.expiration_time.is_some_and(|t| t <= now);
        let early = parsed.not_before.is_some_and(|t| t > now);
        if expired || early || parsed.issued_at > now + ISSUED_AT_LEEWAY {
            return Err(ServiceError::InvalidCode);
        }
        if !self
            .signed_by_address(env, &parsed, message, signature, &signature_bytes)
            .await?
        {
            return Err(ServiceError::InvalidCode);
        }
        self.codes
            .finish(
                env,
                CredentialKind::Wallet,
                &verification,
                &parsed.address.checksummed(),
                vec!["pop".into()],
                client,
            )
            .await
    }

    /// Whether the message's address signed it: an account's recovered
    /// signature, or, failing that and with an RPC endpoint for the chain,
    /// the contract's own answer.
    async fn signed_by_address(
        &self,
        env: &EnvironmentRuntime,
        parsed: &SiweMessage,
        message: &str,
        signature: &str,
        signature_bytes: &[u8],
    ) -> ServiceResult<bool> {
        match recover_personal_signer(message.as_bytes(), signature) {
            Ok(signer) if signer == parsed.address => return Ok(true),
            Err(SignatureError::HighS) => {
                return Err(ValidationErrors::single(
                    "signature",
                    SignatureError::HighS.to_string(),
                )
                .into());
            }
            _ => {}
        }
        let Some(chain) = env
            .settings
            .chains
            .iter()
            .find(|c| c.chain_id == parsed.chain_id)
        else {
            return Err(ServiceError::InvalidCodeBecause(format!(
                "the signature is not the address's; contract wallets (EIP-1271) need an RPC \
                 URL for chain {} in the environment's `chains` setting",
                parsed.chain_id
            )));
        };
        let hash = personal_message_hash(message.as_bytes());
        Ok(self
            .rpc
            .is_valid_signature(&chain.rpc_url, &parsed.address, &hash, signature_bytes)
            .await?)
    }
}
