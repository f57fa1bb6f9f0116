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

use secrecy::SecretString;

use super::environments::EnvironmentRuntime;
use super::events::Events;
use super::signed_in::{MfaStatus, SignedIn};
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

/// An MFA device of a user (never its secret).
#[derive(Debug, Clone)]
pub struct MfaDevice {
    pub id: String,
    /// `totp` or `passkey`.
    pub kind: String,
    pub name: String,
    /// False until the first correct code (`…/confirm`).
    pub confirmed: bool,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl MfaDevice {
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

/// A TOTP device waiting for its first code. The secret (and the URI and
/// QR code that carry it) is shown once: `Debug` never prints it.
#[derive(Debug, Clone)]
pub struct TotpSetup {
    pub device_id: String,
    /// Base32, for typing into an authenticator app.
    pub secret: SecretString,
    pub otpauth_uri: SecretString,
    /// The `otpauth_uri` as a QR code.
    pub qr_svg: SecretString,
}

/// A device just confirmed, with what the confirmation brought.
#[derive(Debug, Clone)]
pub struct ConfirmedDevice {
    pub device: MfaDevice,
    /// With the user's first device (when the environment uses them): 10
    /// single-use codes, shown once.
    pub recovery_codes: Option<Vec<SecretString>>,
    /// When the caller's session was waiting for a first device: the
    /// session, now complete, with its new token.
    pub auth: Option<SignedIn>,
}

/// New recovery codes, shown once.
#[derive(Debug, Clone)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<SecretString>,
}

/// A token for one sensitive action.
#[derive(Debug, Clone)]
pub struct ElevatedToken {
    pub elevated_token: SecretString,
    pub scope: String,
    pub expires_at: String,
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::sessions::Session;
    use crate::services::users::User;

    const SECRET: &str = "JBSWY3DPEHPK3PXP";

    fn device() -> MfaDevice {
        MfaDevice {
            id: "mfa_1".into(),
            kind: "totp".into(),
            name: "Phone".into(),
            confirmed: true,
            created_at: "2026-01-01T00:00:00Z".into(),
            last_used_at: None,
        }
    }

    fn signed_in(token: &str) -> SignedIn {
        SignedIn {
            token: Some(token.into()),
            session: Session::from_claims(
                &SessionClaims {
                    sub: "usr_1".into(),
                    sid: "ses_1".into(),
                    environment_id: "env_1".into(),
                    ..SessionClaims::empty()
                },
                None,
            ),
            user: User {
                id: "usr_1".into(),
                environment_id: "env_1".into(),
                email: None,
                created_at: None,
                verified_credentials: vec![],
            },
            mfa: MfaStatus {
                required: false,
                enrolled: true,
                methods: vec![],
                available_methods: vec![],
            },
        }
    }

    #[test]
    fn debug_never_shows_what_is_shown_once() {
        let setup = TotpSetup {
            device_id: "mfa_1".into(),
            secret: SECRET.into(),
            otpauth_uri: format!("otpauth://totp/x?secret={SECRET}").into(),
            qr_svg: format!("<svg>{SECRET}</svg>").into(),
        };
        let confirmed = ConfirmedDevice {
            device: device(),
            recovery_codes: Some(vec![SECRET.into()]),
            auth: Some(signed_in(SECRET)),
        };
        let codes = RecoveryCodes {
            recovery_codes: vec![SECRET.into()],
        };
        let elevated = ElevatedToken {
            elevated_token: SECRET.into(),
            scope: "credential:link".into(),
            expires_at: "2026-01-01T00:05:00Z".into(),
        };
        for shown in [
            format!("{setup:?}"),
            format!("{confirmed:?}"),
            format!("{codes:?}"),
            format!("{elevated:?}"),
            format!("{:?}", signed_in(SECRET)),
        ] {
            assert!(!shown.contains(SECRET), "{shown}");
        }
    }
}
