//! Passkeys as MFA devices, with webauthn-rs. The relying party comes from
//! the environment's `passkeys` settings (or the public URL). Ceremony
//! state lives in the store, bound to the session that started it, for 5
//! minutes and one use, so a ceremony may start on one node and finish on
//! another.

use std::sync::Arc;

use serde::Serialize;
use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Url, Uuid,
    Webauthn, WebauthnBuilder,
};

use super::completion::Completion;
use super::elevation::Elevation;
use super::recovery_codes::Recovery;
use super::{ConfirmedDevice, MfaDevice, device_added_event, enrolment_allowed};
use crate::clock::{Clock, to_millis};
use crate::crypto;
use crate::domain::actor::Actor;
use crate::domain::claims::SessionClaims;
use crate::domain::settings::MfaMethod;
use crate::services::environments::EnvironmentRuntime;
use crate::services::events::Events;
use crate::services::{ServiceError, ServiceResult, new_id};
use crate::store::{ChallengeRecord, MfaDeviceRecord, MfaStore};

const CHALLENGE_LIFETIME_MS: i64 = 5 * 60 * 1000;
const REGISTER: &str = "register";
const ASSERT: &str = "assert";
const DEFAULT_RP_NAME: &str = "Portcullis";

/// A passkey assertion for `/mfa/verify` or `/mfa/step-up`: the challenge
/// from `/mfa/passkey/challenge` and what the authenticator answered.
#[derive(Debug, Clone)]
pub struct PasskeyAssertion {
    pub challenge_id: String,
    /// The `PublicKeyCredential` from `navigator.credentials.get()`.
    pub credential: PublicKeyCredential,
}

/// A registration ceremony begun: its id and the browser's options.
#[derive(Debug, Clone)]
pub struct PasskeyRegistrationOptions {
    pub challenge_id: String,
    /// For `navigator.credentials.create()`.
    pub options: CreationChallengeResponse,
}

/// An assertion ceremony begun: its id and the browser's options.
#[derive(Debug, Clone)]
pub struct PasskeyChallenge {
    pub challenge_id: String,
    /// For `navigator.credentials.get()`.
    pub options: RequestChallengeResponse,
}

fn webauthn_error(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::internal(format!("webauthn: {e}"))
}

/// The user handle WebAuthn keeps: the 128 bits of the user id (its
/// creation time in milliseconds and 80 random bits, `crypto::new_id`).
fn user_handle(user_id: &str) -> ServiceResult<Uuid> {
    let hex = user_id.strip_prefix("usr_").unwrap_or(user_id);
    let bytes: [u8; 16] = hex::decode(hex)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ServiceError::internal("a user id that is not 128 bits"))?;
    Ok(Uuid::from_bytes(bytes))
}

fn state_json<T: Serialize>(state: &T) -> ServiceResult<String> {
    serde_json::to_string(state).map_err(|e| ServiceError::caused("serializing", e))
}

/// RFC 8176: a passkey that may be synced to other devices is a software
/// key; one bound to its device, a hardware key.
fn passkey_amr(backup_eligible: bool) -> &'static str {
    if backup_eligible { "swk" } else { "hwk" }
}

/// What the browser sends to finish registering a passkey.
#[derive(Debug)]
pub struct PasskeyRegistrationFinish {
    pub challenge_id: String,
    /// The `PublicKeyCredential` from `navigator.credentials.create()`.
    pub credential: RegisterPublicKeyCredential,
    /// A name for the device list; default "Passkey".
    pub name: Option<String>,
}

pub struct Passkeys {
    clock: Arc<dyn Clock>,
    /// The relying party when the environment names none.
    public_url: String,
    store: Arc<dyn MfaStore>,
    events: Arc<Events>,
    elevation: Arc<Elevation>,
    recovery: Arc<Recovery>,
    completion: Arc<Completion>,
}

/// What the passkey service is built from.
pub struct PasskeysParts {
    pub clock: Arc<dyn Clock>,
    pub public_url: String,
    pub mfa_store: Arc<dyn MfaStore>,
    pub events: Arc<Events>,
    pub elevation: Arc<Elevation>,
    pub recovery: Arc<Recovery>,
    pub completion: Arc<Completion>,
}

impl Passkeys {
    pub fn new(p: PasskeysParts) -> Self {
        Passkeys {
            clock: p.clock,
            public_url: p.public_url,
            store: p.mfa_store,
            events: p.events,
            elevation: p.elevation,
            recovery: p.recovery,
            completion: p.completion,
        }
    }

    /// The environment's relying party. Without `passkeys.rp_id`, the
    /// public URL's host must be a domain name (not an IP address).
    fn webauthn(&self, env: &EnvironmentRuntime) -> ServiceResult<Webauthn> {
        let settings = &env.settings.passkeys;
        let public = Url::parse(&self.public_url).map_err(webauthn_error)?;
        let (rp_id, origins) = match &settings.rp_id {
            Some(rp_id) => (
                rp_id.clone(),
                settings
                    .origins
                    .iter()
                    .map(|o| Url::parse(o).map_err(webauthn_error))
                    .collect::<ServiceResult<Vec<_>>>()?,
            ),
            None => match public.domain() {
                Some(host) => (host.to_string(), vec![public.clone()]),
                // Passkeys are not set up for this environment.
                None => return Err(ServiceError::Forbidden),
            },
        };
        let first = origins.first().ok_or(ServiceError::Forbidden)?;
        let mut builder = WebauthnBuilder::new(&rp_id, first)
            .map_err(|_| ServiceError::Forbidden)?
            .rp_name(settings.rp_name.as_deref().unwrap_or(DEFAULT_RP_NAME));
        for origin in &origins[1..] {
            builder = builder.append_allowed_origin(origin);
        }
        builder.build().map_err(webauthn_error)
    }

    async fn save_challenge(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        purpose: &str,
        state: String,
    ) -> ServiceResult<String> {
        let id = new_id(self.clock.as_ref(), "chl")?;
        let now = to_millis(self.clock.now());
        self.store
            .insert_challenge(&ChallengeRecord {
                id: id.clone(),
                environment_id: env.id().to_string(),
                session_id: claims.sid.clone(),
                purpose: purpose.to_string(),
                state,
                created_at: now,
                expires_at: now + CHALLENGE_LIFETIME_MS,
            })
            .await?;
        Ok(id)
    }

    async fn take_challenge(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        challenge_id: &str,
        purpose: &str,
    ) -> ServiceResult<Option<String>> {
        let now = to_millis(self.clock.now());
        Ok(self
            .store
            .take_challenge(env.id(), challenge_id, &claims.sid, purpose, now)
            .await?)
    }

    /// Begins registering a passkey as an MFA device.
    pub async fn begin_registration(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
    ) -> ServiceResult<PasskeyRegistrationOptions> {
        let devices = self.store.devices(env.id(), &claims.sub).await?;
        enrolment_allowed(env, claims, MfaMethod::Passkey, &devices)?;
        let webauthn = self.webauthn(env)?;
        let exclude = devices
            .iter()
            .filter_map(|d| d.credential.as_deref())
            .filter_map(|c| serde_json::from_str::<Passkey>(c).ok())
            .map(|p| p.cred_id().clone())
            .collect::<Vec<_>>();
        let name = claims.account_name();
        let (options, state) = webauthn
            .start_passkey_registration(
                user_handle(&claims.sub)?,
                name,
                name,
                (!exclude.is_empty()).then_some(exclude),
            )
            .map_err(webauthn_error)?;
        let challenge_id = self
            .save_challenge(env, claims, REGISTER, state_json(&state)?)
            .await?;
        Ok(PasskeyRegistrationOptions {
            challenge_id,
            options,
        })
    }

    /// Finishes a registration: the passkey is a confirmed device at once.
    pub async fn finish_registration(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        registration: &PasskeyRegistrationFinish,
        elevated_token: Option<&str>,
        actor: &Actor,
    ) -> ServiceResult<ConfirmedDevice> {
        let (challenge_id, credential, name) = (
            registration.challenge_id.as_str(),
            &registration.credential,
            registration.name.as_deref(),
        );
        let state = self
            .take_challenge(env, claims, challenge_id, REGISTER)
            .await?
            .ok_or(ServiceError::InvalidCode)?;
        let state: PasskeyRegistration = serde_json::from_str(&state)
            .map_err(|e| ServiceError::caused("reading a stored ceremony state", e))?;
        let devices = self.store.devices(env.id(), &claims.sub).await?;
        enrolment_allowed(env, claims, MfaMethod::Passkey, &devices)?;
        let passkey = self
            .webauthn(env)?
            .finish_passkey_registration(credential, &state)
            .map_err(|e| {
                tracing::info!(error = %e, "a passkey registration was refused");
                ServiceError::InvalidCode
            })?;
        self.elevation
            .require_for_link(env, claims, &devices, elevated_token)
            .await?;
        let credential_json = state_json(&passkey)?;
        let backup_eligible = serde_json::from_str::<serde_json::Value>(&credential_json)
            .ok()
            .and_then(|v| v["cred"]["backup_eligible"].as_bool())
            .unwrap_or(false);
        let now = to_millis(self.clock.now());
        let name = name
            .map(|n| n.trim().chars().take(64).collect::<String>())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "Passkey".into());
        let device = MfaDeviceRecord {
            id: new_id(self.clock.as_ref(), "mfa")?,
            environment_id: env.id().to_string(),
            user_id: claims.sub.clone(),
            kind: "passkey".into(),
            name,
            secret_sealed: None,
            credential: Some(credential_json),
            credential_id: Some(crypto::b64url(passkey.cred_id().as_ref())),
            created_at: now,
            confirmed_at: Some(now),
            last_used_at: Some(now),
            last_used_step: None,
        };
        let event =
            device_added_event(&self.events, env, &claims.sub, &device.id, "passkey", actor)?;
        self.store.insert_device(&device, Some(&event)).await?;
        let first = !devices.iter().any(|d| d.confirmed_at.is_some());
        let recovery_codes = if first && env.settings.mfa.recovery_codes {
            Some(self.recovery.new_codes(env.id(), &claims.sub).await?)
        } else {
            None
        };
        let auth = if claims.is_partial() {
            Some(
                self.completion
                    .complete(env, claims, passkey_amr(backup_eligible))
                    .await?,
            )
        } else {
            None
        };
        Ok(ConfirmedDevice {
            device: MfaDevice::from_record(&device),
            recovery_codes,
            auth,
        })
    }

    /// WebAuthn request options for the caller's passkeys, for
    /// `/mfa/verify` or `/mfa/step-up`.
    pub async fn challenge(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
    ) -> ServiceResult<PasskeyChallenge> {
        let passkeys = self.passkeys_of(env, claims).await?;
        if passkeys.is_empty() {
            return Err(ServiceError::Conflict("the user has no passkey".into()));
        }
        let keys: Vec<Passkey> = passkeys.into_iter().map(|(_, p)| p).collect();
        let (options, state) = self
            .webauthn(env)?
            .start_passkey_authentication(&keys)
            .map_err(webauthn_error)?;
        let challenge_id = self
            .save_challenge(env, claims, ASSERT, state_json(&state)?)
            .await?;
        Ok(PasskeyChallenge {
            challenge_id,
            options,
        })
    }

    /// The caller's confirmed passkeys, with their device ids.
    async fn passkeys_of(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
    ) -> ServiceResult<Vec<(String, Passkey)>> {
        if !env.settings.mfa.methods.contains(&MfaMethod::Passkey) {
            return Ok(vec![]);
        }
        let devices = self.store.devices(env.id(), &claims.sub).await?;
        Ok(devices
            .iter()
            .filter(|d| d.kind == "passkey" && d.confirmed_at.is_some())
            .filter_map(|d| {
                let passkey = serde_json::from_str(d.credential.as_deref()?).ok()?;
                Some((d.id.clone(), passkey))
            })
            .collect())
    }

    /// Checks an assertion against a challenge of this session: the
    /// challenge is spent whatever the outcome.
    pub async fn prove(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        assertion: &PasskeyAssertion,
    ) -> ServiceResult<&'static str> {
        let state = self
            .take_challenge(env, claims, &assertion.challenge_id, ASSERT)
            .await?
            .ok_or(ServiceError::InvalidCode)?;
        let state: PasskeyAuthentication = serde_json::from_str(&state)
            .map_err(|e| ServiceError::caused("reading a stored ceremony state", e))?;
        let result = self
            .webauthn(env)?
            .finish_passkey_authentication(&assertion.credential, &state)
            .map_err(|e| {
                tracing::info!(error = %e, "a passkey assertion was refused");
                ServiceError::InvalidCode
            })?;
        let (device_id, mut passkey) = self
            .passkeys_of(env, claims)
            .await?
            .into_iter()
            .find(|(_, p)| p.cred_id() == result.cred_id())
            .ok_or(ServiceError::InvalidCode)?;
        passkey.update_credential(&result);
        let now = to_millis(self.clock.now());
        self.store
            .update_credential(&device_id, &state_json(&passkey)?, now)
            .await?;
        Ok(passkey_amr(result.backup_eligible()))
    }
}
