//! Members' access to the dashboard: a 6-digit code by e-mail (the same
//! code rules and rate limits as end users' codes), then the member's TOTP
//! code when they have one, then a session held in a cookie. The cookie's
//! value is a random secret stored only as its SHA-256; the CSRF token of
//! each change is a MAC of that hash, so it is tied to the session.

use secrecy::SecretString;

use std::sync::Arc;

use super::email_sign_in::{check_start_limits, code_message};
use super::member_totp::MemberTotp;
use super::rate_limit::{Bucket, RateLimits};
use super::sessions::ClientInfo;
use super::{ServiceError, ServiceResult, new_id};
use crate::clock::{Clock, to_millis};
use crate::crypto::{self, MasterKey};
use crate::domain::email::EmailAddress;
use crate::domain::member_session::{self, ABSOLUTE_TIMEOUT_MS, SessionFacts, SessionState};
use crate::domain::roles::Role;
use crate::domain::validation::ValidationErrors;
use crate::domain::verification::{
    CODE_DIGITS, CODE_LIFETIME, MAX_ATTEMPTS, counts_against_address_limit, normalize_code,
};
use crate::mail::MailTransport;
use crate::store::{
    MemberAccessStore, MemberSessionView, MemberSignInRecord, MemberStore, NewMemberSession,
    OrganizationStore, SessionStage, SignInAttempt,
};

const CODE_MAC_PURPOSE: &str = "portcullis/member-code/v1";
const CSRF_PURPOSE: &str = "portcullis/dashboard-csrf/v1";

/// A signed-in (or signing-in) member, as each dashboard request sees them.
#[derive(Debug, Clone)]
pub struct MemberSession {
    id_hash: Vec<u8>,
    pub member_id: String,
    pub organization_id: String,
    pub email: String,
    pub role: Role,
    pub state: SessionState,
    pub has_totp: bool,
    /// The organization requires every member to have TOTP.
    pub require_member_mfa: bool,
    /// For every change the session makes (form field or header).
    pub csrf_token: String,
}

/// A session begun: the cookie's value (shown once), and where it stands.
pub struct SessionBegun {
    pub cookie_value: SecretString,
    pub session: MemberSession,
}

pub struct MemberAccess {
    clock: Arc<dyn Clock>,
    master_key: MasterKey,
    organizations: Arc<dyn OrganizationStore>,
    members: Arc<dyn MemberStore>,
    store: Arc<dyn MemberAccessStore>,
    totp: Arc<MemberTotp>,
    rate_limits: Arc<RateLimits>,
    mail: Arc<dyn MailTransport>,
    mail_from: lettre::message::Mailbox,
}

/// What member access is built from.
pub struct MemberAccessParts {
    pub clock: Arc<dyn Clock>,
    pub master_key: MasterKey,
    pub organizations: Arc<dyn OrganizationStore>,
    pub members: Arc<dyn MemberStore>,
    pub store: Arc<dyn MemberAccessStore>,
    pub totp: Arc<MemberTotp>,
    pub rate_limits: Arc<RateLimits>,
    pub mail: Arc<dyn MailTransport>,
    pub mail_from: lettre::message::Mailbox,
}

fn code_mac(master: &MasterKey, sign_in_id: &str, code: &str) -> Vec<u8> {
    master.mac(CODE_MAC_PURPOSE, format!("{sign_in_id}:{code}").as_bytes())
}

/// The rate limits' scope of the dashboard's codes.
fn scope(organization_id: &str) -> String {
    format!("dashboard|{organization_id}")
}

impl MemberAccess {
    pub fn new(p: MemberAccessParts) -> Self {
        MemberAccess {
            clock: p.clock,
            master_key: p.master_key,
            organizations: p.organizations,
            members: p.members,
            store: p.store,
            totp: p.totp,
            rate_limits: p.rate_limits,
            mail: p.mail,
            mail_from: p.mail_from,
        }
    }

    /// The organization the dashboard administers: the installation's.
    async fn organization_id(&self) -> ServiceResult<String> {
        Ok(self
            .organizations
            .first_tenant()
            .await?
            .ok_or_else(|| ServiceError::internal("no organization yet"))?
            .organization
            .id)
    }

    /// Mails a code if a member has this address. The answer is the same
    /// either way: a sign-in id to send the code with.
    pub async fn start(&self, email: &str, client: &ClientInfo) -> ServiceResult<String> {
        let email = EmailAddress::parse(email)
            .map_err(|e| ValidationErrors::single("email", e.to_string()))?;
        let organization_id = self.organization_id().await?;
        let ip = client.ip_address.as_deref().unwrap_or("unknown");
        check_start_limits(&self.rate_limits, &scope(&organization_id), &email, ip).await?;
        let member = self
            .members
            .list(&organization_id)
            .await?
            .into_iter()
            .find(|m| m.email == email.as_str());
        let now = to_millis(self.clock.now());
        let id = new_id(self.clock.as_ref(), "msi")?;
        let code = crypto::random_digits(CODE_DIGITS)?;
        self.store
            .insert_sign_in(&MemberSignInRecord {
                code_mac: code_mac(&self.master_key, &id, &code),
                id: id.clone(),
                organization_id,
                email: email.as_str().to_string(),
                member_id: member.as_ref().map(|m| m.id.clone()),
                attempts: 0,
                created_at: now,
                expires_at: now + CODE_LIFETIME.whole_milliseconds() as i64,
                consumed_at: None,
            })
            .await?;
        if member.is_some() {
            // Sent apart from the answer, so a member's address does not
            // answer later than a stranger's (the time an SMTP exchange
            // takes would tell them apart). A failure is logged.
            let message = code_message(&self.mail_from, &email, &code)?;
            let mail = self.mail.clone();
            tokio::spawn(async move {
                if let Err(e) = mail.send(message).await {
                    tracing::warn!(error = %e, "a member's sign-in code could not be mailed");
                }
            });
        }
        Ok(id)
    }

    /// Trades a right code for a session: complete, or waiting for the
    /// member's TOTP code when they have TOTP.
    pub async fn verify(
        &self,
        sign_in_id: &str,
        code: &str,
        client: &ClientInfo,
    ) -> ServiceResult<SessionBegun> {
        let code = normalize_code(code).ok_or_else(|| {
            ValidationErrors::single("code", format!("must be {CODE_DIGITS} digits"))
        })?;
        let organization_id = self.organization_id().await?;
        let scope = scope(&organization_id);
        let ip = client.ip_address.as_deref().unwrap_or("unknown");
        self.rate_limits
            .check(Bucket::VerifyPerIp, &format!("{scope}|{ip}"))
            .await?;
        let now = to_millis(self.clock.now());
        let mac = code_mac(&self.master_key, sign_in_id, &code);
        let attempt = self
            .store
            .attempt_sign_in(&organization_id, sign_in_id, MAX_ATTEMPTS, now, &mac)
            .await?;
        let (sign_in, accepted) = match attempt {
            SignInAttempt::Refused => return Err(ServiceError::InvalidCode),
            SignInAttempt::Wrong(s) => (s, false),
            SignInAttempt::Matched(s) => (s, true),
        };
        // As for end users: every attempt but a right first one counts
        // against the address's hourly limit.
        if counts_against_address_limit(accepted, sign_in.attempts) {
            self.rate_limits
                .check(
                    Bucket::VerifyPerAddress,
                    &format!("{scope}|{}", sign_in.email),
                )
                .await?;
        }
        let member_id = match (accepted, sign_in.member_id) {
            (true, Some(member_id)) => member_id,
            _ => return Err(ServiceError::InvalidCode),
        };
        let member = self
            .members
            .get(&organization_id, &member_id)
            .await?
            .ok_or(ServiceError::InvalidCode)?;
        let has_totp = self.totp.has_totp(&member.id).await?;
        let secret = crypto::new_secret("")?;
        let id_hash = crypto::sha256(secret.as_bytes());
        let stage = match has_totp {
            true => SessionStage::Totp,
            false => SessionStage::SignedIn,
        };
        let begun = self
            .store
            .begin_session(
                sign_in_id,
                &NewMemberSession {
                    id_hash: id_hash.clone(),
                    member_id: member.id.clone(),
                    role: member.role,
                    stage,
                    created_at: now,
                    expires_at: now + ABSOLUTE_TIMEOUT_MS,
                },
                now,
            )
            .await?;
        if !begun {
            return Err(ServiceError::InvalidCode);
        }
        let session = self
            .load(&id_hash)
            .await?
            .ok_or_else(|| ServiceError::internal("a member session vanished as it began"))?;
        Ok(SessionBegun {
            cookie_value: secret.into(),
            session,
        })
    }

    /// The session a cookie holds, if it is still on. An ended one is
    /// deleted.
    pub async fn session(&self, cookie_value: &str) -> ServiceResult<Option<MemberSession>> {
        let id_hash = crypto::sha256(cookie_value.as_bytes());
        let Some(session) = self.load(&id_hash).await? else {
            return Ok(None);
        };
        if session.state == SessionState::Ended {
            self.store.end_session(&id_hash).await?;
            return Ok(None);
        }
        Ok(Some(session))
    }

    async fn load(&self, id_hash: &[u8]) -> ServiceResult<Option<MemberSession>> {
        let Some(view) = self.store.session(id_hash).await? else {
            return Ok(None);
        };
        let now = to_millis(self.clock.now());
        let state = member_session::state(&facts(&view), now);
        if state != SessionState::Ended && member_session::needs_touch(view.last_seen_at, now) {
            self.store.touch_session(id_hash, now).await?;
        }
        Ok(Some(MemberSession {
            csrf_token: crypto::b64url(&self.master_key.mac(CSRF_PURPOSE, id_hash)),
            id_hash: id_hash.to_vec(),
            member_id: view.member_id,
            organization_id: view.organization_id,
            email: view.email,
            role: view.member_role,
            state,
            has_totp: view.has_totp,
            require_member_mfa: view.require_member_mfa,
        }))
    }

    /// The second step of a sign-in: the member's TOTP code. The session
    /// goes on under a new id, whose cookie value this returns: the value
    /// that waited for the code never opens a signed-in session.
    pub async fn complete_with_totp(
        &self,
        session: &MemberSession,
        code: &str,
    ) -> ServiceResult<SecretString> {
        if session.state != SessionState::AwaitingTotp {
            return Err(ServiceError::Conflict("the sign-in is complete".into()));
        }
        self.totp.prove(&session.member_id, code).await?;
        let now = to_millis(self.clock.now());
        let secret = crypto::new_secret("")?;
        let new_hash = crypto::sha256(secret.as_bytes());
        match self
            .store
            .complete_session(&session.id_hash, &new_hash, now)
            .await?
        {
            true => Ok(secret.into()),
            false => Err(ServiceError::Conflict("the sign-in is complete".into())),
        }
    }

    pub async fn sign_out(&self, session: &MemberSession) -> ServiceResult<()> {
        Ok(self.store.end_session(&session.id_hash).await?)
    }

    /// Does `token` belong to this session? Compared in constant time.
    pub fn csrf_matches(&self, session: &MemberSession, token: &str) -> bool {
        crypto::constant_time_eq(session.csrf_token.as_bytes(), token.as_bytes())
    }

    /// The owner turns the requirement of TOTP for every member on or off.
    pub async fn set_require_member_mfa(
        &self,
        session: &MemberSession,
        on: bool,
    ) -> ServiceResult<()> {
        if session.role != Role::Owner {
            return Err(ServiceError::Forbidden);
        }
        Ok(self
            .store
            .set_require_member_mfa(&session.organization_id, on)
            .await?)
    }
}

fn facts(view: &MemberSessionView) -> SessionFacts {
    SessionFacts {
        role_at_sign_in: view.role,
        role_now: view.member_role,
        awaiting_totp: view.stage == SessionStage::Totp,
        created_at: view.created_at,
        last_seen_at: view.last_seen_at,
        expires_at: view.expires_at,
        require_member_mfa: view.require_member_mfa,
        has_totp: view.has_totp,
    }
}
