//! End users of an environment, as the management API shows them.

use std::sync::Arc;

use super::{ServiceError, ServiceResult};
use crate::clock::rfc3339;
use crate::domain::credential::{CredentialKind, Identity};
use crate::domain::email::EmailAddress;
use crate::domain::validation::ValidationErrors;
use crate::store::{CredentialRecord, UserQuery, UserRecord, UserStore};

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 200;

/// A credential the user has proven.
#[derive(Debug, Clone)]
pub struct VerifiedCredential {
    /// `None` where the user comes from the token alone (`GET /session`),
    /// as are the instants.
    pub id: Option<String>,
    /// `email`, `phone`, `wallet` or `passkey` (`domain::credential`).
    pub kind: String,
    pub value: String,
    /// A passkey's label.
    pub name: Option<String>,
    pub verified_at: Option<String>,
    pub last_used_at: Option<String>,
}

impl VerifiedCredential {
    pub fn from_record(c: &CredentialRecord) -> Self {
        VerifiedCredential {
            id: Some(c.id.clone()),
            kind: c.kind.clone(),
            value: c.value.clone(),
            name: c.name.clone(),
            verified_at: Some(rfc3339(c.verified_at)),
            last_used_at: c.last_used_at.map(rfc3339),
        }
    }
}

/// An end user of an environment.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub environment_id: String,
    /// The user's primary e-mail address (the one they signed up or first
    /// linked with); all of them are among `verified_credentials`.
    pub email: Option<String>,
    /// `None` where the user comes from the token alone (`GET /session`).
    pub created_at: Option<String>,
    pub verified_credentials: Vec<VerifiedCredential>,
}

impl User {
    /// The user with the credentials the store holds for them.
    pub fn from_record(u: &UserRecord, credentials: &[CredentialRecord]) -> Self {
        Self {
            id: u.id.clone(),
            environment_id: u.environment_id.clone(),
            email: u.email.clone(),
            created_at: Some(rfc3339(u.created_at)),
            verified_credentials: credentials
                .iter()
                .filter(|c| c.user_id == u.id)
                .map(VerifiedCredential::from_record)
                .collect(),
        }
    }
}

impl User {
    /// The user as a verified session token describes them (no database):
    /// only the credentials its claims name.
    pub fn from_claims(c: &crate::domain::claims::SessionClaims) -> Self {
        Self {
            id: c.sub.clone(),
            environment_id: c.environment_id.clone(),
            email: c.email.clone(),
            created_at: None,
            verified_credentials: named_credentials(&Identity {
                email: c.email.clone(),
                phone_number: c.phone_number.clone(),
                wallet: c.wallet.clone(),
            }),
        }
    }

    /// The user a sign-in found or made, with the credentials its token
    /// names (the sign-in reads no more of them).
    pub fn from_sign_in(u: &UserRecord, identity: &Identity) -> Self {
        Self {
            id: u.id.clone(),
            environment_id: u.environment_id.clone(),
            email: identity.email.clone(),
            created_at: Some(rfc3339(u.created_at)),
            verified_credentials: named_credentials(identity),
        }
    }
}

/// The credentials a token's claims name, without their ids and instants.
fn named_credentials(identity: &Identity) -> Vec<VerifiedCredential> {
    [
        (CredentialKind::Email, &identity.email),
        (CredentialKind::Phone, &identity.phone_number),
        (CredentialKind::Wallet, &identity.wallet),
    ]
    .into_iter()
    .filter_map(|(kind, value)| {
        Some(VerifiedCredential {
            id: None,
            kind: kind.as_str().into(),
            value: value.clone()?,
            name: None,
            verified_at: None,
            last_used_at: None,
        })
    })
    .collect()
}

/// One page of users.
#[derive(Debug, Clone)]
pub struct UserPage {
    pub data: Vec<User>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

pub struct Users {
    store: Arc<dyn UserStore>,
}

impl Users {
    pub fn new(store: Arc<dyn UserStore>) -> Self {
        Users { store }
    }

    pub async fn list(
        &self,
        environment_id: &str,
        email: Option<&str>,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> ServiceResult<UserPage> {
        let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(ValidationErrors::single(
                "limit",
                format!("must be between 1 and {MAX_PAGE_SIZE}"),
            )
            .into());
        }
        let email = email
            .map(|e| {
                EmailAddress::parse(e)
                    .map_err(|err| ValidationErrors::single("email", err.to_string()))
            })
            .transpose()?;
        let query = UserQuery {
            credential: email.map(|e| {
                (
                    CredentialKind::Email.as_str().to_string(),
                    e.as_str().to_string(),
                )
            }),
            after: cursor,
            limit: limit + 1,
        };
        let mut rows = self.store.list(environment_id, &query).await?;
        let next_cursor = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|u| u.id.clone())
        } else {
            None
        };
        // The page's credentials in one read: those of the users whose ids
        // lie between the page's first and last.
        let credentials = match (rows.first(), rows.last()) {
            (Some(first), Some(last)) => {
                self.store
                    .credentials_of_range(environment_id, &first.id, &last.id)
                    .await?
            }
            _ => Vec::new(),
        };
        Ok(UserPage {
            data: rows
                .iter()
                .map(|u| User::from_record(u, &credentials))
                .collect(),
            next_cursor,
        })
    }

    pub async fn get(&self, environment_id: &str, user_id: &str) -> ServiceResult<User> {
        let user = self
            .store
            .get(environment_id, user_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let credentials = self.store.credentials(environment_id, user_id).await?;
        Ok(User::from_record(&user, &credentials))
    }

    /// The user's verified credentials, oldest first (`GET /credentials`).
    pub async fn credentials(
        &self,
        environment_id: &str,
        user_id: &str,
    ) -> ServiceResult<Vec<VerifiedCredential>> {
        let credentials = self.store.credentials(environment_id, user_id).await?;
        Ok(credentials
            .iter()
            .map(VerifiedCredential::from_record)
            .collect())
    }
}
