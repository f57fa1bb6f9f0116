//! Multi-factor authentication: TOTP enrolment and confirmation, recovery
//! codes, the second factor that completes a partial session, step-up to
//! elevated tokens, and the checks that sensitive actions make.
//!
//! Rules (when a sign-in is partial, who may enrol, which TOTP step a code
//! proves) are in `domain::mfa`; this module applies them to the store.

use super::events::Actor;
use crate::domain::events;
use crate::store::EventRecord;
use serde::Serialize;
use totp_rs::{Algorithm, Builder, Totp};

use super::email_auth::{AuthResult, MfaStatus};
use super::environments::EnvironmentRuntime;
use super::passkeys::PasskeyAssertion;
use super::sessions::SessionInfo;
use super::users::UserInfo;
use super::{ServiceError, ServiceResult, Services};
use crate::clock::{rfc3339, to_millis};
use crate::crypto;
use crate::domain::claims::{SCOPE_REQUIRES_ADDITIONAL_AUTH, SCOPE_USER_BASIC, SessionClaims};
use crate::domain::mfa::{
    self, ELEVATED_TOKEN_LIFETIME_S, ELEVATED_TOKEN_TYP, EnrolRefusal, FAILURE_WINDOW_MS,
    LONGEST_FAILURE_WINDOW_MS, MAX_CODE_FAILURES, RECOVERY_CODE_COUNT, SignInOutcome,
    TOTP_SECRET_BYTES, TOTP_STEP_S, TotpRefusal,
};
use crate::domain::settings::{ACTION_SCOPES, MfaMethod, MfaSettings};
use crate::domain::validation::ValidationErrors;
use crate::store::{CodeAttempt, MfaDeviceRecord};

const RECOVERY_MAC_PURPOSE: &str = "portcullis/recovery-code/v1";
const TOTP_SEAL_PURPOSE: &str = "totp-secret";
const TOTP_ISSUER: &str = "Portcullis";

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
    pub(super) fn from_record(d: &MfaDeviceRecord) -> Self {
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
pub(super) fn usable<'a>(
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

/// How authenticators show the user: their e-mail address, else their id.
pub(super) fn account_name(claims: &SessionClaims) -> &str {
    claims.email.as_deref().unwrap_or(&claims.sub)
}

pub fn is_partial(claims: &SessionClaims) -> bool {
    claims.has_scope(SCOPE_REQUIRES_ADDITIONAL_AUTH) && !claims.has_scope(SCOPE_USER_BASIC)
}

fn totp_for(secret: Vec<u8>, account: &str) -> ServiceResult<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(mfa::TOTP_DIGITS as u8)
        .with_skew(0)
        .with_step_duration(TOTP_STEP_S as u64)
        .with_secret(secret)
        .with_issuer(Some(TOTP_ISSUER))
        .with_account_name(account.replace(':', "_"))
        .build()
        .map_err(|e| ServiceError::Internal(format!("TOTP parameters: {e}")))
}

/// The code of `step` equals `code`, compared in constant time.
fn totp_matches(totp: &Totp, step: i64, code: &str) -> bool {
    let Ok(t) = u64::try_from(step * TOTP_STEP_S) else {
        return false;
    };
    crypto::constant_time_eq(totp.generate(t).to_string().as_bytes(), code.as_bytes())
}

fn qr_svg(data: &str) -> ServiceResult<String> {
    let code = qrcode::QrCode::new(data.as_bytes())
        .map_err(|e| ServiceError::Internal(format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build())
}

impl Services {
    /// How a primary sign-in of this user (`None`: a new user) ends.
    pub async fn sign_in_mfa(
        &self,
        env: &EnvironmentRuntime,
        user_id: Option<&str>,
    ) -> ServiceResult<SignInOutcome> {
        let devices = match user_id {
            Some(id) => self.store.mfa.devices(env.id(), id).await?,
            None => vec![],
        };
        let settings = &env.settings.mfa;
        let has_device = usable(settings, &devices).next().is_some();
        Ok(mfa::sign_in_outcome(settings, has_device))
    }

    pub async fn mfa_devices(
        &self,
        environment_id: &str,
        user_id: &str,
    ) -> ServiceResult<MfaDeviceList> {
        let devices = self.store.mfa.devices(environment_id, user_id).await?;
        Ok(MfaDeviceList {
            data: devices.iter().map(MfaDeviceInfo::from_record).collect(),
        })
    }

    /// Whether the caller may enrol a device of `method` now (policy and
    /// partial session); `devices` are the user's.
    pub(super) fn enrolment_allowed(
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        method: MfaMethod,
        devices: &[MfaDeviceRecord],
    ) -> ServiceResult<()> {
        let settings = &env.settings.mfa;
        let has_device = usable(settings, devices).next().is_some();
        mfa::may_enrol(settings, method, is_partial(claims), has_device).map_err(|refusal| {
            match refusal {
                EnrolRefusal::NotAllowed => ServiceError::Forbidden,
                EnrolRefusal::MfaRequired => ServiceError::MfaRequired,
            }
        })
    }

    /// Linking another device to a user who has one is `credential:link`:
    /// with action enforcement on for it, it needs an elevated token, so a
    /// stolen session cannot add a factor of its own and step up with it.
    pub(super) async fn require_link_elevation(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        devices: &[MfaDeviceRecord],
        elevated_token: Option<&str>,
    ) -> ServiceResult<()> {
        if usable(&env.settings.mfa, devices).next().is_none() {
            return Ok(());
        }
        self.require_elevation(env, claims, "credential:link", elevated_token)
            .await
    }

    /// Begins TOTP enrolment: a new secret, sealed at rest, shown once.
    pub async fn begin_totp(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
    ) -> ServiceResult<TotpEnrollment> {
        let devices = self.store.mfa.devices(env.id(), &claims.sub).await?;
        Self::enrolment_allowed(env, claims, MfaMethod::Totp, &devices)?;
        if devices
            .iter()
            .any(|d| d.kind == "totp" && d.confirmed_at.is_some())
        {
            return Err(ServiceError::Conflict("one TOTP device per user".into()));
        }
        let device_id = self.new_id("mfa")?;
        let secret = crypto::random_bytes::<TOTP_SECRET_BYTES>()?.to_vec();
        let totp = totp_for(secret.clone(), account_name(claims))?;
        let otpauth_uri = totp
            .to_url()
            .map_err(|e| ServiceError::Internal(format!("otpauth URI: {e}")))?;
        let sealed = self
            .master_key
            .seal(&format!("{TOTP_SEAL_PURPOSE}:{device_id}"), &secret)?;
        self.store
            .mfa
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
        Ok(TotpEnrollment {
            device_id,
            secret: totp.secret().to_base32(),
            qr_svg: qr_svg(&otpauth_uri)?,
            otpauth_uri,
        })
    }

    /// Activates a pending TOTP device with its first right code. The
    /// user's first device brings recovery codes; a session waiting for a
    /// first device is completed.
    pub async fn confirm_totp(
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
        let devices = self.store.mfa.devices(env.id(), &claims.sub).await?;
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
        Self::enrolment_allowed(env, claims, MfaMethod::Totp, &devices)?;
        self.spend_code_attempt(&claims.sub).await?;
        let totp = self.totp_of(device, claims)?;
        let now = self.clock.now();
        let step = mfa::accepted_step(now.unix_timestamp(), None, |s| {
            totp_matches(&totp, s, &code)
        })
        .map_err(|_| ServiceError::InvalidCode)?;
        self.require_link_elevation(env, claims, &devices, elevated_token)
            .await?;
        let event = self.device_added_event(env, &claims.sub, device_id, "totp", actor)?;
        if !self
            .store
            .mfa
            .confirm_device(device_id, to_millis(now), step, &event)
            .await?
        {
            return Err(ServiceError::Conflict(
                "the device is already confirmed".into(),
            ));
        }
        self.store.mfa.clear_code_attempts(&claims.sub).await?;
        let first = !devices.iter().any(|d| d.confirmed_at.is_some());
        let recovery_codes = if first && settings.recovery_codes {
            Some(self.new_recovery_codes(env.id(), &claims.sub).await?)
        } else {
            None
        };
        let auth = if is_partial(claims) {
            Some(self.complete_session(env, claims, "otp").await?)
        } else {
            None
        };
        let mut device = device.clone();
        device.confirmed_at = Some(to_millis(now));
        device.last_used_at = device.confirmed_at;
        Ok(ConfirmedDevice {
            device: MfaDeviceInfo::from_record(&device),
            recovery_codes,
            auth,
        })
    }

    /// The second factor of a session: completes it (a new token, same
    /// session) and answers as a sign-in does.
    pub async fn verify_mfa(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        factor: SecondFactor,
    ) -> ServiceResult<AuthResult> {
        let amr = self.prove_factor(env, claims, &factor).await?;
        self.complete_session(env, claims, amr).await
    }

    /// An elevated token for one action, after a second factor.
    pub async fn step_up(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        scope: &str,
        factor: SecondFactor,
    ) -> ServiceResult<ElevatedToken> {
        if !ACTION_SCOPES.contains(&scope) {
            return Err(ValidationErrors::single(
                "scope",
                format!("must be one of {}", ACTION_SCOPES.join(", ")),
            )
            .into());
        }
        let amr = self.prove_factor(env, claims, &factor).await?;
        let now_s = self.clock.now().unix_timestamp();
        let exp = (now_s + ELEVATED_TOKEN_LIFETIME_S).min(claims.exp);
        let elevated = SessionClaims {
            iat: now_s,
            nbf: now_s,
            exp,
            jti: self.new_id("jti")?,
            scope: scope.to_string(),
            amr: vec!["mfa".into(), amr.into()],
            ..claims.clone()
        };
        let token = env
            .active_key()?
            .sign_jwt_of_type(&elevated, ELEVATED_TOKEN_TYP)?;
        Ok(ElevatedToken {
            elevated_token: token,
            scope: scope.to_string(),
            expires_at: rfc3339(exp * 1000),
        })
    }

    /// Lets `scope` through for this session: when the environment enforces
    /// MFA for it, only with an elevated token of this session and scope,
    /// which is spent here.
    pub async fn require_elevation(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        scope: &str,
        elevated_token: Option<&str>,
    ) -> ServiceResult<()> {
        let enforcement = &env.settings.mfa.action_enforcement;
        if !enforcement.enabled || !enforcement.scopes.iter().any(|s| s == scope) {
            return Ok(());
        }
        let token = elevated_token.ok_or(ServiceError::ElevatedTokenRequired)?;
        let elevated = self.check_elevated_token(env, token).map_err(|e| match e {
            ServiceError::Unavailable => ServiceError::Unavailable,
            _ => ServiceError::ElevatedTokenRequired,
        })?;
        if elevated.scope != scope || elevated.sid != claims.sid || elevated.sub != claims.sub {
            return Err(ServiceError::ElevatedTokenRequired);
        }
        self.spend_elevated(&elevated).await
    }

    /// Spends an elevated token; a second use is refused.
    pub async fn spend_elevated(&self, elevated: &SessionClaims) -> ServiceResult<()> {
        if self
            .store
            .mfa
            .spend_elevated_token(&elevated.jti, elevated.exp * 1000)
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::ElevatedTokenRequired)
        }
    }

    /// Removes one of the caller's devices (`credential:unlink`).
    pub async fn remove_own_device(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        device_id: &str,
        elevated_token: Option<&str>,
        actor: &Actor,
    ) -> ServiceResult<()> {
        // Not found comes before the elevated token, so that a token is not
        // spent on a device that is not there.
        let devices = self.store.mfa.devices(env.id(), &claims.sub).await?;
        if !devices.iter().any(|d| d.id == device_id) {
            return Err(ServiceError::NotFound);
        }
        self.require_elevation(env, claims, "credential:unlink", elevated_token)
            .await?;
        let event = self.device_removed_event(env, &claims.sub, device_id, actor)?;
        if !self
            .store
            .mfa
            .delete_device(env.id(), &claims.sub, device_id, &event)
            .await?
        {
            return Err(ServiceError::NotFound);
        }
        Ok(())
    }

    pub(super) fn device_added_event(
        &self,
        env: &EnvironmentRuntime,
        user_id: &str,
        device_id: &str,
        kind: &str,
        actor: &Actor,
    ) -> ServiceResult<EventRecord> {
        self.new_event(
            env,
            events::USER_MFA_DEVICE_ADDED,
            actor,
            Some(device_id),
            Some(serde_json::json!({ "user_id": user_id, "device_id": device_id, "kind": kind })),
        )
    }

    fn device_removed_event(
        &self,
        env: &EnvironmentRuntime,
        user_id: &str,
        device_id: &str,
        actor: &Actor,
    ) -> ServiceResult<EventRecord> {
        self.new_event(
            env,
            events::USER_MFA_DEVICE_REMOVED,
            actor,
            Some(device_id),
            Some(serde_json::json!({ "user_id": user_id, "device_id": device_id })),
        )
    }

    /// New recovery codes for the caller (`credential:link`); the unused
    /// old ones die.
    pub async fn regenerate_recovery_codes(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        elevated_token: Option<&str>,
    ) -> ServiceResult<RecoveryCodes> {
        if !env.settings.mfa.recovery_codes {
            return Err(ServiceError::Forbidden);
        }
        let devices = self.store.mfa.devices(env.id(), &claims.sub).await?;
        if usable(&env.settings.mfa, &devices).next().is_none() {
            return Err(ServiceError::Conflict(
                "recovery codes need an enrolled device".into(),
            ));
        }
        self.require_elevation(env, claims, "credential:link", elevated_token)
            .await?;
        Ok(RecoveryCodes {
            recovery_codes: self.new_recovery_codes(env.id(), &claims.sub).await?,
        })
    }

    /// Deletes one device of a user (management API).
    pub async fn delete_user_device(
        &self,
        environment_id: &str,
        user_id: &str,
        device_id: &str,
        actor: &Actor,
    ) -> ServiceResult<()> {
        let env = self.open_environment(environment_id).await?;
        let event = self.device_removed_event(&env, user_id, device_id, actor)?;
        if self
            .store
            .mfa
            .delete_device(environment_id, user_id, device_id, &event)
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::NotFound)
        }
    }

    /// Deletes every device and recovery code of a user (management API).
    /// Their sessions stay as they are: revoke them separately if needed.
    pub async fn reset_user_mfa(
        &self,
        environment_id: &str,
        user_id: &str,
        actor: &Actor,
    ) -> ServiceResult<u64> {
        self.user(environment_id, user_id).await?;
        let env = self.open_environment(environment_id).await?;
        let event = self.new_event(
            &env,
            events::USER_MFA_RESET,
            actor,
            Some(user_id),
            Some(serde_json::json!({ "user_id": user_id })),
        )?;
        Ok(self
            .store
            .mfa
            .reset(environment_id, user_id, &event)
            .await?)
    }

    async fn spend_code_attempt(&self, user_id: &str) -> ServiceResult<()> {
        let now = to_millis(self.clock.now());
        match self
            .store
            .mfa
            .spend_code_attempt(
                user_id,
                now,
                FAILURE_WINDOW_MS,
                MAX_CODE_FAILURES,
                LONGEST_FAILURE_WINDOW_MS,
            )
            .await?
        {
            CodeAttempt::Allowed => Ok(()),
            CodeAttempt::LockedUntil(until) => Err(ServiceError::RateLimited {
                retry_after_secs: u64::try_from((until - now).max(1000) / 1000).unwrap_or(1),
            }),
        }
    }

    fn totp_of(&self, device: &MfaDeviceRecord, claims: &SessionClaims) -> ServiceResult<Totp> {
        let sealed = device
            .secret_sealed
            .as_deref()
            .ok_or_else(|| ServiceError::Internal("a TOTP device without a secret".into()))?;
        let secret = self
            .master_key
            .open(&format!("{TOTP_SEAL_PURPOSE}:{}", device.id), sealed)?;
        totp_for(secret, account_name(claims))
    }

    /// Checks a second factor of the caller; counts wrong codes. Returns
    /// the `amr` value (RFC 8176) the factor adds.
    async fn prove_factor(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        factor: &SecondFactor,
    ) -> ServiceResult<&'static str> {
        let settings = &env.settings.mfa;
        match factor {
            SecondFactor::Passkey(assertion) => {
                if !settings.methods.contains(&MfaMethod::Passkey) {
                    return Err(ServiceError::InvalidCode);
                }
                return self.prove_passkey(env, claims, assertion).await;
            }
            SecondFactor::TotpCode(code) => {
                let code = mfa::normalize_totp_code(code)
                    .ok_or_else(|| ValidationErrors::single("code", "must be 6 digits"))?;
                if !settings.methods.contains(&MfaMethod::Totp) {
                    return Err(ServiceError::InvalidCode);
                }
                self.spend_code_attempt(&claims.sub).await?;
                let devices = self.store.mfa.devices(env.id(), &claims.sub).await?;
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
                    .mfa
                    .use_step(&device.id, step, to_millis(now))
                    .await?
                {
                    return Err(ServiceError::InvalidCode);
                }
            }
            SecondFactor::RecoveryCode(code) => {
                let code = mfa::normalize_recovery_code(code).ok_or_else(|| {
                    ValidationErrors::single("recovery_code", "is not a recovery code")
                })?;
                if !settings.recovery_codes {
                    return Err(ServiceError::InvalidCode);
                }
                self.spend_code_attempt(&claims.sub).await?;
                // Recovery codes stand in for a device: with none left (all
                // removed), they prove nothing.
                let devices = self.store.mfa.devices(env.id(), &claims.sub).await?;
                if usable(settings, &devices).next().is_none() {
                    return Err(ServiceError::InvalidCode);
                }
                let mac = self.recovery_mac(&claims.sub, &code);
                let unused = self
                    .store
                    .mfa
                    .unused_recovery_codes(env.id(), &claims.sub)
                    .await?;
                let found = unused
                    .iter()
                    .fold(None, |found, c| {
                        if crypto::constant_time_eq(&c.code_mac, &mac) {
                            Some(c)
                        } else {
                            found
                        }
                    })
                    .ok_or(ServiceError::InvalidCode)?;
                let now = to_millis(self.clock.now());
                if !self.store.mfa.use_recovery_code(&found.id, now).await? {
                    return Err(ServiceError::InvalidCode);
                }
            }
        }
        self.store.mfa.clear_code_attempts(&claims.sub).await?;
        Ok("otp")
    }

    fn recovery_mac(&self, user_id: &str, normalized_code: &str) -> Vec<u8> {
        self.master_key.mac(
            RECOVERY_MAC_PURPOSE,
            format!("{user_id}:{normalized_code}").as_bytes(),
        )
    }

    pub(super) async fn new_recovery_codes(
        &self,
        environment_id: &str,
        user_id: &str,
    ) -> ServiceResult<Vec<String>> {
        let mut shown = Vec::with_capacity(RECOVERY_CODE_COUNT);
        let mut stored = Vec::with_capacity(RECOVERY_CODE_COUNT);
        for _ in 0..RECOVERY_CODE_COUNT {
            let code = mfa::recovery_code_from(&crypto::random_bytes::<20>()?);
            let normalized = mfa::normalize_recovery_code(&code)
                .ok_or_else(|| ServiceError::Internal("a malformed recovery code".into()))?;
            stored.push((self.new_id("rc")?, self.recovery_mac(user_id, &normalized)));
            shown.push(code);
        }
        let now = to_millis(self.clock.now());
        self.store
            .mfa
            .replace_recovery_codes(environment_id, user_id, &stored, now)
            .await?;
        Ok(shown)
    }

    /// The session after its second factor: `user:basic`, `amr` with `mfa`
    /// and the factor, and a new token for the same session.
    pub(super) async fn complete_session(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        factor_amr: &str,
    ) -> ServiceResult<AuthResult> {
        let mut amr = claims.amr.clone();
        for value in ["mfa", factor_amr] {
            if !amr.iter().any(|a| a == value) {
                amr.push(value.to_string());
            }
        }
        let amr_json =
            serde_json::to_string(&amr).map_err(|e| ServiceError::Internal(e.to_string()))?;
        if !self
            .store
            .sessions
            .complete_mfa(env.id(), &claims.sid, SCOPE_USER_BASIC, &amr_json)
            .await?
        {
            return Err(ServiceError::SessionRevoked);
        }
        let now_s = self.clock.now().unix_timestamp();
        let completed = SessionClaims {
            iat: now_s,
            nbf: now_s,
            jti: self.new_id("jti")?,
            scope: SCOPE_USER_BASIC.to_string(),
            amr,
            ..claims.clone()
        };
        let token = env.active_key()?.sign_jwt(&completed)?;
        let view = self
            .store
            .sessions
            .get(env.id(), &claims.sid)
            .await?
            .ok_or(ServiceError::SessionRevoked)?;
        let user = self.user(env.id(), &claims.sub).await?;
        let devices = self.store.mfa.devices(env.id(), &claims.sub).await?;
        Ok(AuthResult {
            token: Some(token),
            session: SessionInfo::from_view(&view, None),
            user: UserInfo::from_record(&user),
            mfa: mfa_status(
                &env.settings.mfa,
                &confirmed_kinds(&devices),
                SignInOutcome::Complete,
            ),
        })
    }
}
