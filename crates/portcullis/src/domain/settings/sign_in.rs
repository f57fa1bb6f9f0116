//! Which sign-in methods an environment offers (`sign_in` in the security
//! settings; API.md, docs/sign-in.md), and their limits.

use serde::{Deserialize, Serialize};

use crate::domain::phone::is_calling_code;
use crate::domain::validation::ValidationErrors;

pub const DEFAULT_SMS_MAX_PER_HOUR: u32 = 100;
pub const MAX_SMS_MAX_PER_HOUR: u32 = 1_000_000;
pub const MAX_CALLING_CODES: usize = 250;

/// Absent in settings stored before it existed: the defaults then (e-mail
/// on, every other method off).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInSettings {
    #[serde(default)]
    pub email: EmailSignInSettings,
    #[serde(default)]
    pub sms: SmsSignInSettings,
    #[serde(default)]
    pub wallet: WalletSignInSettings,
}

/// Sign-In with Ethereum (EIP-4361).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WalletSignInSettings {
    pub enabled: bool,
}

/// A chain whose contract wallets (EIP-1271) may sign in: the JSON-RPC
/// endpoint Portcullis asks `isValidSignature` (`chains` in the settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChainSettings {
    /// EIP-155 chain id (1 for Ethereum mainnet).
    pub chain_id: u64,
    /// `https://…` (http and private addresses only with
    /// `--allow-private-webhook-urls`, as for webhooks). It may hold a
    /// provider's API key: any member who can read the settings sees it.
    pub rpc_url: String,
}

/// The largest chain id (EIP-155 ids must fit JavaScript's safe integers).
pub const MAX_CHAIN_ID: u64 = (1 << 53) - 1;
pub const MAX_CHAINS: usize = 20;

/// `chains`: ids unique and in range, URLs that parse (the rules that need
/// the server's configuration are checked where the settings are set).
pub(super) fn validate_chains(chains: &[ChainSettings], errors: &mut ValidationErrors) {
    if chains.len() > MAX_CHAINS {
        errors.push("chains", format!("at most {MAX_CHAINS} chains"));
    }
    for (i, chain) in chains.iter().enumerate() {
        if !(1..=MAX_CHAIN_ID).contains(&chain.chain_id) {
            errors.push(
                format!("chains[{i}].chain_id"),
                format!("must be between 1 and {MAX_CHAIN_ID}"),
            );
        } else if chains[..i].iter().any(|c| c.chain_id == chain.chain_id) {
            errors.push(format!("chains[{i}].chain_id"), "is listed twice");
        }
        if let Err(e) = crate::domain::webhook_url::parse(&chain.rpc_url, true) {
            errors.push(format!("chains[{i}].rpc_url"), e.to_string());
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailSignInSettings {
    pub enabled: bool,
}

impl Default for EmailSignInSettings {
    fn default() -> Self {
        EmailSignInSettings { enabled: true }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsSignInSettings {
    pub enabled: bool,
    /// Country calling codes numbers may have (`1`, `44`, …); empty: any.
    /// Codes cost money per message and some destinations are favoured by
    /// SMS pumping fraud: list only the countries your users are in.
    #[serde(default)]
    pub allowed_country_codes: Vec<u16>,
    /// Codes the environment sends per clock hour, all numbers together
    /// (1 to 1,000,000): the bound on what an attack can cost.
    #[serde(default = "default_sms_max_per_hour")]
    pub max_per_hour: u32,
}

fn default_sms_max_per_hour() -> u32 {
    DEFAULT_SMS_MAX_PER_HOUR
}

impl Default for SmsSignInSettings {
    fn default() -> Self {
        SmsSignInSettings {
            enabled: false,
            allowed_country_codes: Vec::new(),
            max_per_hour: DEFAULT_SMS_MAX_PER_HOUR,
        }
    }
}

impl SmsSignInSettings {
    /// Whether a number with this calling code may get a code.
    pub fn admits(&self, calling_code: u16) -> bool {
        self.allowed_country_codes.is_empty() || self.allowed_country_codes.contains(&calling_code)
    }
}

impl SignInSettings {
    pub(super) fn validate(&self, errors: &mut ValidationErrors) {
        if !self.email.enabled && !self.sms.enabled && !self.wallet.enabled {
            errors.push(
                "sign_in",
                "at least one sign-in method must be enabled, or no one can sign in",
            );
        }
        let codes = &self.sms.allowed_country_codes;
        if codes.len() > MAX_CALLING_CODES {
            errors.push(
                "sign_in.sms.allowed_country_codes",
                format!("at most {MAX_CALLING_CODES} codes"),
            );
        }
        for (i, code) in codes.iter().enumerate() {
            if !is_calling_code(*code) {
                errors.push(
                    format!("sign_in.sms.allowed_country_codes[{i}]"),
                    format!("{code} is not a country calling code"),
                );
            } else if codes[..i].contains(code) {
                errors.push(
                    format!("sign_in.sms.allowed_country_codes[{i}]"),
                    format!("{code} is listed twice"),
                );
            }
        }
        if !(1..=MAX_SMS_MAX_PER_HOUR).contains(&self.sms.max_per_hour) {
            errors.push(
                "sign_in.sms.max_per_hour",
                format!("must be between 1 and {MAX_SMS_MAX_PER_HOUR}"),
            );
        }
    }
}

/// `chains`' RPC URLs under the server's rule for outgoing requests: https
/// to public addresses, unless private ones are allowed
/// (`--allow-private-webhook-urls`, as for webhooks).
pub fn validate_rpc_urls(
    chains: &[ChainSettings],
    allow_private: bool,
) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    for (i, chain) in chains.iter().enumerate() {
        if let Err(e) = crate::domain::webhook_url::parse(&chain.rpc_url, allow_private) {
            errors.push(format!("chains[{i}].rpc_url"), e.to_string());
        }
    }
    errors.into_result()
}
