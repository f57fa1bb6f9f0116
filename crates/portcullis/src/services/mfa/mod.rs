//! Multi-factor authentication, one service per capability:
//! - `devices.rs`: the user's devices (list, remove, reset) and whether a
//!   sign-in needs a second factor;
//! - `totp.rs`, `passkeys.rs`, `recovery_codes.rs`: enrolling and proving
//!   each kind of factor;
//! - `second_factor.rs`: a factor that completes a partial session
//!   (`completion.rs`) or steps up to an elevated token;
//! - `elevation.rs`: the elevated token a sensitive action requires;
//! - `attempts.rs`: the wrong-code counter all codes share.
//!
//! Rules (when a sign-in is partial, who may enrol, which TOTP step a code
//! proves) are in `domain::mfa`; these modules apply them to the store.

pub mod attempts;
pub mod completion;
pub mod devices;
pub mod elevation;
pub mod passkeys;
pub mod recovery_codes;
pub mod second_factor;
pub mod totp;

use serde::Serialize;

use super::auth_result::{AuthResult, MfaStatus};
use super::environments::EnvironmentRuntime;
use super::events::Events;
use super::{ServiceError, ServiceResult};
use crate::clock::rfc3339;
use crate::domain::actor::Actor;
use crate::domain::claims::SessionClaims;
use crate::domain::events;
use crate::domain::mfa::{self, EnrolRefusal, SignInOutcome};
use crate::domain::settings::{MfaMethod, MfaSettings};
use crate::domain::validation::ValidationErrors;
use crate::store::{EventRecord, MfaDeviceRecord};
use passkeys::PasskeyAssertion;

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

impl MfaDeviceInfo {
    pub(crate) fn from_record(d: &MfaDeviceRecord) -> Self {
        Self {
            id: d.id.clone(),
            kind: d.kind.clone(),
            name: d.name.clone(),
            confirmed: d.confirmed_at.is_some(),
            created_at: rfc3339(d.created_at),
            last_used_at: d.last_used_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MfaDeviceList {
    pub data: Vec<MfaDeviceInfo>,
}

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

/// These answers carry secrets shown once (a TOTP secret, recovery codes,
/// tokens): their `Debug` says which fields there are, never the values,
/// so a stray `{:?}` cannot put them in a log.
macro_rules! redacted_debug {
    ($($t:ty),*) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($t), " { <redacted> }"))
            }
        }
    )*};
}
redacted_debug!(
    TotpEnrollment,
    ConfirmedDevice,
    RecoveryCodes,
    ElevatedToken
);

/// A second factor, as the SDK sends it.
pub enum SecondFactor {
    TotpCode(String),
    RecoveryCode(String),
    Passkey(Box<PasskeyAssertion>),
}

impl SecondFactor {
    /// Exactly one of the three.
    pub fn from_fields(
        code: Option<String>,
        recovery_code: Option<String>,
        assertion: Option<PasskeyAssertion>,
    ) -> ServiceResult<Self> {
        match (code, recovery_code, assertion) {
            (Some(code), None, None) => Ok(SecondFactor::TotpCode(code)),
            (None, Some(code), None) => Ok(SecondFactor::RecoveryCode(code)),
            (None, None, Some(assertion)) => Ok(SecondFactor::Passkey(Box::new(assertion))),
            _ => Err(ValidationErrors::single(
                "",
                "send exactly one of code, recovery_code and assertion",
            )
            .into()),
        }
    }
}

fn method_of(kind: &str) -> Option<MfaMethod> {
    match kind {
        "totp" => Some(MfaMethod::Totp),
        "passkey" => Some(MfaMethod::Passkey),
        _ => None,
    }
}

fn method_name(m: MfaMethod) -> String {
    match m {
        MfaMethod::Totp => "totp".into(),
        MfaMethod::Passkey => "passkey".into(),
    }
}

/// The user's confirmed devices of methods the environment allows.
pub(crate) fn usable<'a>(
    settings: &'a MfaSettings,
    devices: &'a [MfaDeviceRecord],
) -> impl Iterator<Item = &'a MfaDeviceRecord> + 'a {
    devices.iter().filter(|d| {
        d.confirmed_at.is_some()
            && method_of(&d.kind).is_some_and(|m| settings.methods.contains(&m))
    })
}

/// The kinds of the user's confirmed devices.
pub fn confirmed_kinds(devices: &[MfaDeviceRecord]) -> Vec<String> {
    let mut kinds: Vec<String> = devices
        .iter()
        .filter(|d| d.confirmed_at.is_some())
        .map(|d| d.kind.clone())
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

/// What the auth result says about MFA, from the kinds of the user's
/// confirmed devices.
pub fn mfa_status(settings: &MfaSettings, kinds: &[String], outcome: SignInOutcome) -> MfaStatus {
    let methods: Vec<String> = kinds
        .iter()
        .filter(|k| method_of(k).is_some_and(|m| settings.methods.contains(&m)))
        .cloned()
        .collect();
    MfaStatus {
        required: outcome.is_partial(),
        enrolled: !methods.is_empty(),
        methods,
        available_methods: settings.methods.iter().copied().map(method_name).collect(),
    }
}

/// Whether the caller may enrol a device of `method` now (policy and
/// partial session); `devices` are the user's.
pub(crate) fn enrolment_allowed(
    env: &EnvironmentRuntime,
    claims: &SessionClaims,
    method: MfaMethod,
    devices: &[MfaDeviceRecord],
) -> ServiceResult<()> {
    let settings = &env.settings.mfa;
    let has_device = usable(settings, devices).next().is_some();
    mfa::may_enrol(settings, method, claims.is_partial(), has_device).map_err(|refusal| {
        match refusal {
            EnrolRefusal::NotAllowed => ServiceError::Forbidden,
            EnrolRefusal::MfaRequired => ServiceError::MfaRequired,
        }
    })
}

pub(crate) fn device_added_event(
    log: &Events,
    env: &EnvironmentRuntime,
    user_id: &str,
    device_id: &str,
    kind: &str,
    actor: &Actor,
) -> ServiceResult<EventRecord> {
    log.new_event(
        env,
        events::USER_MFA_DEVICE_ADDED,
        actor,
        Some(device_id),
        Some(serde_json::json!({ "user_id": user_id, "device_id": device_id, "kind": kind })),
    )
}

pub(crate) fn device_removed_event(
    log: &Events,
    env: &EnvironmentRuntime,
    user_id: &str,
    device_id: &str,
    actor: &Actor,
) -> ServiceResult<EventRecord> {
    log.new_event(
        env,
        events::USER_MFA_DEVICE_REMOVED,
        actor,
        Some(device_id),
        Some(serde_json::json!({ "user_id": user_id, "device_id": device_id })),
    )
}
