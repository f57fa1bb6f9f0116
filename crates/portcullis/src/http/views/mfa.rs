//! MFA devices, enrolment and elevated tokens as the API shows them, and
//! the passkey ceremonies' request bodies.

use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};

use super::auth::AuthResult;
use super::shown;
use crate::services::mfa::{self as plain, passkeys};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MfaDeviceInfo {
    pub id: String,
    /// `totp` or `passkey`.
    pub kind: String,
    pub name: String,
    /// False until the first correct code (`…/confirm`).
    pub confirmed: bool,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MfaDeviceList {
    pub data: Vec<MfaDeviceInfo>,
}

// No `Debug` for the answers that hold a secret in the clear.
/// A TOTP device waiting for its first code. The secret is shown here once.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct TotpEnrollment {
    pub device_id: String,
    /// Base32, for typing into an authenticator app.
    pub secret: String,
    pub otpauth_uri: String,
    /// The `otpauth_uri` as a QR code.
    pub qr_svg: String,
}

#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct ConfirmedDevice {
    pub device: MfaDeviceInfo,
    /// With the user's first device (when the environment uses them): 10
    /// single-use codes, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
    /// When the caller's session was waiting for a first device: the
    /// session, now complete, with its new token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthResult>,
}

#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct ElevatedToken {
    pub elevated_token: String,
    pub scope: String,
    pub expires_at: String,
}

/// A passkey assertion for `/mfa/verify` or `/mfa/step-up`: the challenge
/// from `/mfa/passkey/challenge` and what the authenticator answered.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyAssertion {
    pub challenge_id: String,
    /// The `PublicKeyCredential` from `navigator.credentials.get()`.
    #[schema(value_type = Object)]
    pub credential: PublicKeyCredential,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PasskeyRegistrationOptions {
    pub challenge_id: String,
    /// For `navigator.credentials.create()`.
    #[schema(value_type = Object)]
    pub options: CreationChallengeResponse,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PasskeyChallenge {
    pub challenge_id: String,
    /// For `navigator.credentials.get()`.
    #[schema(value_type = Object)]
    pub options: RequestChallengeResponse,
}

/// What the browser sends to finish registering a passkey.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyRegistrationFinish {
    pub challenge_id: String,
    /// The `PublicKeyCredential` from `navigator.credentials.create()`.
    #[schema(value_type = Object)]
    pub credential: RegisterPublicKeyCredential,
    /// A name for the device list; default "Passkey".
    pub name: Option<String>,
}

impl From<plain::MfaDevice> for MfaDeviceInfo {
    fn from(d: plain::MfaDevice) -> Self {
        MfaDeviceInfo {
            id: d.id,
            kind: d.kind,
            name: d.name,
            confirmed: d.confirmed,
            created_at: d.created_at,
            last_used_at: d.last_used_at,
        }
    }
}

impl From<Vec<plain::MfaDevice>> for MfaDeviceList {
    fn from(devices: Vec<plain::MfaDevice>) -> Self {
        MfaDeviceList {
            data: devices.into_iter().map(MfaDeviceInfo::from).collect(),
        }
    }
}

impl From<plain::TotpSetup> for TotpEnrollment {
    fn from(t: plain::TotpSetup) -> Self {
        TotpEnrollment {
            secret: shown(&t.secret),
            otpauth_uri: shown(&t.otpauth_uri),
            qr_svg: shown(&t.qr_svg),
            device_id: t.device_id,
        }
    }
}

impl From<plain::ConfirmedDevice> for ConfirmedDevice {
    fn from(c: plain::ConfirmedDevice) -> Self {
        ConfirmedDevice {
            device: c.device.into(),
            recovery_codes: c
                .recovery_codes
                .map(|codes| codes.iter().map(shown).collect()),
            auth: c.auth.map(AuthResult::from),
        }
    }
}

impl From<plain::RecoveryCodes> for RecoveryCodes {
    fn from(r: plain::RecoveryCodes) -> Self {
        RecoveryCodes {
            recovery_codes: r.recovery_codes.iter().map(shown).collect(),
        }
    }
}

impl From<plain::ElevatedToken> for ElevatedToken {
    fn from(e: plain::ElevatedToken) -> Self {
        ElevatedToken {
            elevated_token: shown(&e.elevated_token),
            scope: e.scope,
            expires_at: e.expires_at,
        }
    }
}

impl From<PasskeyAssertion> for passkeys::PasskeyAssertion {
    fn from(a: PasskeyAssertion) -> Self {
        passkeys::PasskeyAssertion {
            challenge_id: a.challenge_id,
            credential: a.credential,
        }
    }
}

impl From<PasskeyRegistrationFinish> for passkeys::PasskeyRegistrationFinish {
    fn from(f: PasskeyRegistrationFinish) -> Self {
        passkeys::PasskeyRegistrationFinish {
            challenge_id: f.challenge_id,
            credential: f.credential,
            name: f.name,
        }
    }
}

impl From<passkeys::PasskeyRegistrationOptions> for PasskeyRegistrationOptions {
    fn from(o: passkeys::PasskeyRegistrationOptions) -> Self {
        PasskeyRegistrationOptions {
            challenge_id: o.challenge_id,
            options: o.options,
        }
    }
}

impl From<passkeys::PasskeyChallenge> for PasskeyChallenge {
    fn from(c: passkeys::PasskeyChallenge) -> Self {
        PasskeyChallenge {
            challenge_id: c.challenge_id,
            options: c.options,
        }
    }
}
