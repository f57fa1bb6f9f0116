//! TOTP devices (RFC 6238, SHA-1, 6 digits, 30 s): enrolment with a
//! secret sealed at rest and shown once, confirmation by a first code, and
//! codes as a second factor, each step usable once.

use std::sync::Arc;

use totp_rs::{Algorithm, Builder, Totp};

use super::attempts::CodeAttempts;
use super::completion::Completion;
use super::elevation::Elevation;
use super::recovery_codes::Recovery;
use super::{ConfirmedDevice, MfaDevice, TotpSetup, device_added_event, enrolment_allowed};
use crate::clock::{Clock, to_millis};
use crate::crypto::{self, MasterKey};
use crate::domain::actor::Actor;
use crate::domain::claims::SessionClaims;
use crate::domain::mfa::{self, TOTP_SECRET_BYTES, TOTP_STEP_S, TotpRefusal};
use crate::domain::settings::MfaMethod;
use crate::domain::validation::ValidationErrors;
use crate::services::environments::EnvironmentRuntime;
use crate::services::events::Events;
use crate::services::{ServiceError, ServiceResult, new_id};
use crate::store::{MfaDeviceRecord, MfaStore};

const TOTP_SEAL_PURPOSE: &str = "totp-secret";
const TOTP_ISSUER: &str = "Portcullis";

pub struct TotpDevices {
    clock: Arc<dyn Clock>,
    master_key: MasterKey,
    store: Arc<dyn MfaStore>,
    events: Arc<Events>,
    elevation: Arc<Elevation>,
    recovery: Arc<Recovery>,
    completion: Arc<Completion>,
    attempts: Arc<CodeAttempts>,
}

/// What the TOTP service is built from.
pub struct TotpParts {
    pub clock: Arc<dyn Clock>,
    pub master_key: MasterKey,
    pub mfa_store: Arc<dyn MfaStore>,
    pub events: Arc<Events>,
    pub elevation: Arc<Elevation>,
    pub recovery: Arc<Recovery>,
    pub completion: Arc<Completion>,
    pub attempts: Arc<CodeAttempts>,
}

impl TotpDevices {
    pub fn new(p: TotpParts) -> Self {
        TotpDevices {
            clock: p.clock,
            master_key: p.master_key,
            store: p.mfa_store,
            events: p.events,
            elevation: p.elevation,
            recovery: p.recovery,
            completion: p.completion,
            attempts: p.attempts,
        }
    }

    /// Begins TOTP enrolment: a new secret, sealed at rest, shown once.
    pub async fn begin(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
    ) -> ServiceResult<TotpSetup> {
        let devices = self.store.devices(env.id(), &claims.sub).await?;
        enrolment_allowed(env, claims, MfaMethod::Totp, &devices)?;
        if devices
            .iter()
            .any(|d| d.kind == "totp" && d.confirmed_at.is_some())
        {
            return Err(ServiceError::Conflict("one TOTP device per user".into()));
        }
        let device_id = new_id(self.clock.as_ref(), "mfa")?;
        let secret = crypto::random_bytes::<TOTP_SECRET_BYTES>()?.to_vec();
        let totp = totp_for(secret.clone(), claims.account_name())?;
        let otpauth_uri = totp
            .to_url()
            .map_err(|e| ServiceError::internal(format!("otpauth URI: {e}")))?;
        let sealed = self
            .master_key
            .seal(&format!("{TOTP_SEAL_PURPOSE}:{device_id}"), &secret)?;
        self.store
            .insert_device(
                &MfaDeviceRecord {
                    id: device_id.clone(),
                    environment_id: env.id().to_string(),
                    user_id: claims.sub.clone(),
                    kind: "totp".into(),
                    name: "Authenticator app".into(),
                    secret_sealed: Some(sealed),
                    credential: None,
                    credential_id: None,
                    created_at: to_millis(self.clock.now()),
                    confirmed_at: None,
                    last_used_at: None,
                    last_used_step: None,
                },
                None,
            )
            .await?;
        Ok(TotpSetup {
            device_id,
            secret: totp.secret().to_base32().into(),
            qr_svg: qr_svg(&otpauth_uri)?.into(),
            otpauth_uri: otpauth_uri.into(),
        })
    }

    /// Activates a pending TOTP device with its first right code. The
    /// user's first device brings recovery codes; a session waiting for a
    /// first device is completed.
    pub async fn confirm(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        device_id: &str,
        code: &str,
        elevated_token: Option<&str>,
        actor: &Actor,
    ) -> ServiceResult<ConfirmedDevice> {
        let code = mfa::normalize_totp_code(code)
            .ok_or_else(|| ValidationErrors::single("code", "must be 6 digits"))?;
        let devices = self.store.devices(env.id(), &claims.sub).await?;
        let settings = &env.settings.mfa;
        let device = devices
            .iter()
            .find(|d| d.id == device_id && d.kind == "totp")
            .ok_or(ServiceError::NotFound)?;
        if device.confirmed_at.is_some() {
            return Err(ServiceError::Conflict(
                "the device is already confirmed".into(),
            ));
        }
        // The policy may have changed since the enrolment began.
        enrolment_allowed(env, claims, MfaMethod::Totp, &devices)?;
        self.attempts.spend(&claims.sub).await?;
        let totp = self.totp_of(device, claims)?;
        let now = self.clock.now();
        let step = mfa::accepted_step(now.unix_timestamp(), None, |s| {
            totp_matches(&totp, s, &code)
        })
        .map_err(|_| ServiceError::InvalidCode)?;
        self.elevation
            .require_for_link(env, claims, &devices, elevated_token)
            .await?;
        let event = device_added_event(&self.events, env, &claims.sub, device_id, "totp", actor)?;
        if !self
            .store
            .confirm_device(device_id, to_millis(now), step, &event)
            .await?
        {
            return Err(ServiceError::Conflict(
                "the device is already confirmed".into(),
            ));
        }
        self.attempts.clear(&claims.sub).await?;
        let first = !devices.iter().any(|d| d.confirmed_at.is_some());
        let recovery_codes = if first && settings.recovery_codes {
            Some(self.recovery.new_codes(env.id(), &claims.sub).await?)
        } else {
            None
        };
        let auth = if claims.is_partial() {
            Some(self.completion.complete(env, claims, "otp").await?)
        } else {
            None
        };
        let mut device = device.clone();
        device.confirmed_at = Some(to_millis(now));
        device.last_used_at = device.confirmed_at;
        Ok(ConfirmedDevice {
            device: MfaDevice::from_record(&device),
            recovery_codes,
            auth,
        })
    }

    /// Checks a code of the caller's confirmed device and uses its step;
    /// counts a wrong one (the caller clears the counter once the factor is
    /// proved).
    pub async fn prove(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        code: &str,
    ) -> ServiceResult<()> {
        let settings = &env.settings.mfa;
        let code = mfa::normalize_totp_code(code)
            .ok_or_else(|| ValidationErrors::single("code", "must be 6 digits"))?;
        if !settings.methods.contains(&MfaMethod::Totp) {
            return Err(ServiceError::InvalidCode);
        }
        self.attempts.spend(&claims.sub).await?;
        let devices = self.store.devices(env.id(), &claims.sub).await?;
        let device = devices
            .iter()
            .find(|d| d.kind == "totp" && d.confirmed_at.is_some())
            .ok_or(ServiceError::InvalidCode)?;
        let totp = self.totp_of(device, claims)?;
        let now = self.clock.now();
        let step = mfa::accepted_step(now.unix_timestamp(), device.last_used_step, |s| {
            totp_matches(&totp, s, &code)
        })
        .map_err(|refusal| {
            if refusal == TotpRefusal::Replayed {
                tracing::info!(device_id = %device.id, "a TOTP code was replayed");
            }
            ServiceError::InvalidCode
        })?;
        if !self
            .store
            .use_step(&device.id, step, to_millis(now))
            .await?
        {
            return Err(ServiceError::InvalidCode);
        }
        Ok(())
    }

    fn totp_of(&self, device: &MfaDeviceRecord, claims: &SessionClaims) -> ServiceResult<Totp> {
        let sealed = device
            .secret_sealed
            .as_deref()
            .ok_or_else(|| ServiceError::internal("a TOTP device without a secret"))?;
        let secret = self
            .master_key
            .open(&format!("{TOTP_SEAL_PURPOSE}:{}", device.id), sealed)?;
        totp_for(secret, claims.account_name())
    }
}

pub(crate) fn totp_for(secret: Vec<u8>, account: &str) -> ServiceResult<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(mfa::TOTP_DIGITS as u8)
        .with_skew(0)
        .with_step_duration(TOTP_STEP_S as u64)
        .with_secret(secret)
        .with_issuer(Some(TOTP_ISSUER))
        .with_account_name(account.replace(':', "_"))
        .build()
        .map_err(|e| ServiceError::internal(format!("TOTP parameters: {e}")))
}

/// The code of `step` equals `code`, compared in constant time.
pub(crate) fn totp_matches(totp: &Totp, step: i64, code: &str) -> bool {
    let Ok(t) = u64::try_from(step * TOTP_STEP_S) else {
        return false;
    };
    crypto::constant_time_eq(totp.generate(t).to_string().as_bytes(), code.as_bytes())
}

pub(crate) fn qr_svg(data: &str) -> ServiceResult<String> {
    let code = qrcode::QrCode::new(data.as_bytes())
        .map_err(|e| ServiceError::internal(format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build())
}
