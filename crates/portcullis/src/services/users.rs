//! End users of an environment, as the management API shows them.

use std::sync::Arc;

use super::{ServiceError, ServiceResult};
use crate::clock::rfc3339;
use crate::domain::email::EmailAddress;
use crate::domain::validation::ValidationErrors;
use crate::store::{UserQuery, UserRecord, UserStore};

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 200;

/// A credential the user has proven.
#[derive(Debug, Clone)]
pub struct VerifiedCredential {
    /// `email` (later also `phone`, `wallet`, `passkey`).
    pub kind: String,
    pub value: String,
}

/// An end user of an environment.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub environment_id: String,
    pub email: Option<String>,
    /// `None` where the user comes from the token alone (`GET /session`).
    pub created_at: Option<String>,
    pub verified_credentials: Vec<VerifiedCredential>,
}

impl User {
    pub fn from_record(u: &UserRecord) -> Self {
        Self {
            id: u.id.clone(),
            environment_id: u.environment_id.clone(),
            email: u.email.clone(),
            created_at: Some(rfc3339(u.created_at)),
            verified_credentials: verified_credentials(u.email.as_ref()),
        }
    }
}

impl User {
    /// The user as a verified session token describes them (no database).
    pub fn from_claims(c: &crate::domain::claims::SessionClaims) -> Self {
        Self {
            id: c.sub.clone(),
            environment_id: c.environment_id.clone(),
            email: c.email.clone(),
            created_at: None,
            verified_credentials: verified_credentials(c.email.as_ref()),
        }
    }
}

fn verified_credentials(email: Option<&String>) -> Vec<VerifiedCredential> {
    email
        .iter()
        .map(|e| VerifiedCredential {
            kind: "email".into(),
            value: e.to_string(),
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
            email: email.map(|e| e.as_str().to_string()),
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
        Ok(UserPage {
            data: rows.iter().map(User::from_record).collect(),
            next_cursor,
        })
    }

    pub async fn get(&self, environment_id: &str, user_id: &str) -> ServiceResult<User> {
        self.store
            .get(environment_id, user_id)
            .await?
            .map(|u| User::from_record(&u))
            .ok_or(ServiceError::NotFound)
    }
}
