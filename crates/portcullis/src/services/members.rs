//! Organization members and their roles: exactly one owner, ownership moves
//! by transfer (the old owner becomes `admin`), nobody acts above their own
//! role (`domain::roles`).

use super::api_tokens::ApiCaller;
use super::{ServiceError, ServiceResult, Services};
use crate::clock::to_millis;
use crate::crypto;
use crate::domain::email::EmailAddress;
use crate::domain::roles::{self, Role, RoleChange};
use crate::domain::validation::ValidationErrors;
use crate::store::{MemberChanges, MemberRecord, StoreError};

/// Ids of members: `mem_` + 32 hex digits.
pub const MEMBER_ID_PREFIX: &str = "mem";
pub const MAX_NAME_CHARS: usize = 200;

/// A member update as the caller asks for it; `None` leaves a field.
#[derive(Debug, Clone, Default)]
pub struct MemberUpdate {
    pub email: Option<String>,
    /// `Some(None)` clears the name.
    pub name: Option<Option<String>>,
    pub role: Option<String>,
}

fn parse_role(text: &str, errors: &mut ValidationErrors) -> Option<Role> {
    let role = Role::parse(text);
    if role.is_none() {
        errors.push("role", "must be owner, admin, developer or viewer");
    }
    role
}

fn parse_email(text: &str, errors: &mut ValidationErrors) -> Option<String> {
    match EmailAddress::parse(text) {
        Ok(e) => Some(e.as_str().to_string()),
        Err(e) => {
            errors.push("email", e.to_string());
            None
        }
    }
}

fn parse_name(name: Option<String>, errors: &mut ValidationErrors) -> Option<String> {
    let name = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if name
        .as_deref()
        .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS)
    {
        errors.push(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        );
    }
    name
}

fn duplicate(e: StoreError) -> ServiceError {
    match e {
        StoreError::Conflict(_) => {
            ServiceError::Conflict("the organization has a member with this e-mail".into())
        }
        other => other.into(),
    }
}

impl Services {
    pub async fn list_members(&self, caller: &ApiCaller) -> ServiceResult<Vec<MemberRecord>> {
        caller.authorize_organization()?;
        Ok(self.store.members.list(&caller.organization_id).await?)
    }

    pub async fn get_member(
        &self,
        caller: &ApiCaller,
        member_id: &str,
    ) -> ServiceResult<MemberRecord> {
        caller.authorize_organization()?;
        if !crypto::is_id(MEMBER_ID_PREFIX, member_id) {
            return Err(ServiceError::NotFound);
        }
        self.store
            .members
            .get(&caller.organization_id, member_id)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    pub async fn add_member(
        &self,
        caller: &ApiCaller,
        email: &str,
        name: Option<String>,
        role: &str,
    ) -> ServiceResult<MemberRecord> {
        caller.authorize_organization()?;
        let mut errors = ValidationErrors::default();
        let email = parse_email(email, &mut errors);
        let name = parse_name(name, &mut errors);
        let role = parse_role(role, &mut errors);
        errors.into_result().map_err(ServiceError::Validation)?;
        let (Some(email), Some(role)) = (email, role) else {
            return Err(ServiceError::Internal("validated member".into()));
        };
        roles::check_grant(caller.role, role, false)?;
        let now = to_millis(self.clock.now());
        let member = MemberRecord {
            id: crypto::new_id(MEMBER_ID_PREFIX)?,
            organization_id: caller.organization_id.clone(),
            email,
            name,
            role: role.as_str().to_string(),
            created_at: now,
            updated_at: now,
        };
        self.store
            .members
            .insert(&member)
            .await
            .map_err(duplicate)?;
        Ok(member)
    }

    /// Changes a member's e-mail, name or role. Making a member `owner`
    /// transfers ownership (only the owner may): the old owner becomes
    /// `admin`.
    pub async fn update_member(
        &self,
        caller: &ApiCaller,
        member_id: &str,
        update: MemberUpdate,
    ) -> ServiceResult<MemberRecord> {
        let current = self.get_member(caller, member_id).await?;
        let current_role = Role::parse(&current.role)
            .ok_or_else(|| ServiceError::Internal("unknown role".into()))?;
        let mut errors = ValidationErrors::default();
        let email = update.email.and_then(|e| parse_email(&e, &mut errors));
        let name = update.name.map(|n| parse_name(n, &mut errors));
        let role = update.role.and_then(|r| parse_role(&r, &mut errors));
        errors.into_result().map_err(ServiceError::Validation)?;
        let new_role = role.unwrap_or(current_role);
        // Even a change of address needs the right to manage this member.
        let change = roles::check_role_change(caller.role, current_role, new_role)?;
        let now = to_millis(self.clock.now());
        let changes = MemberChanges {
            email,
            name,
            role: match change {
                RoleChange::Plain => role.map(|r| r.as_str().to_string()),
                RoleChange::TransferOwnership => None,
            },
        };
        let updated = self
            .store
            .members
            .update(
                &caller.organization_id,
                member_id,
                &current.role,
                &changes,
                now,
            )
            .await
            .map_err(duplicate)?
            .ok_or_else(|| ServiceError::Conflict("the member changed meanwhile; retry".into()))?;
        if change == RoleChange::TransferOwnership {
            self.store
                .members
                .transfer_ownership(&caller.organization_id, member_id, now)
                .await?;
            return self.get_member(caller, member_id).await;
        }
        Ok(updated)
    }

    pub async fn remove_member(&self, caller: &ApiCaller, member_id: &str) -> ServiceResult<()> {
        let current = self.get_member(caller, member_id).await?;
        let role = Role::parse(&current.role)
            .ok_or_else(|| ServiceError::Internal("unknown role".into()))?;
        roles::check_removal(caller.role, role, false)?;
        match self
            .store
            .members
            .delete(&caller.organization_id, member_id, &current.role)
            .await?
        {
            true => Ok(()),
            false => Err(ServiceError::Conflict(
                "the member changed meanwhile; retry".into(),
            )),
        }
    }
}
