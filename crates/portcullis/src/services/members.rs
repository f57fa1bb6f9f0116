//! Organization members and their roles: exactly one owner, ownership moves
//! by transfer (the old owner becomes `admin`), nobody acts above their own
//! role (`domain::roles`).

use serde_json::json;

use std::sync::Arc;

use super::api_tokens::ApiCaller;
use super::events::Events;
use super::{ServiceError, ServiceResult, new_id};
use crate::clock::{Clock, rfc3339, to_millis};
use crate::crypto;
use crate::domain::actor::Actor;
use crate::domain::email::EmailAddress;
use crate::domain::events;
use crate::domain::roles::{self, Role, RoleChange};
use crate::domain::validation::ValidationErrors;
use crate::store::{EventRecord, MemberChanges, MemberRecord, MemberStore};

/// Ids of members: `mem_` + 32 hex digits.
pub const MEMBER_ID_PREFIX: &str = "mem";
pub const MAX_NAME_CHARS: usize = 200;

/// A member of the organization.
#[derive(Debug, Clone)]
pub struct Member {
    /// `mem_…`
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    /// `owner`, `admin`, `developer` or `viewer`
    pub role: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&MemberRecord> for Member {
    fn from(m: &MemberRecord) -> Self {
        Member {
            id: m.id.clone(),
            email: m.email.clone(),
            name: m.name.clone(),
            role: m.role.as_str().to_string(),
            created_at: rfc3339(m.created_at),
            updated_at: rfc3339(m.updated_at),
        }
    }
}

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
        .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS || n.chars().any(char::is_control))
    {
        errors.push(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters, without control characters"),
        );
    }
    name
}

/// What member events carry.
fn member_data(m: &MemberRecord) -> serde_json::Value {
    json!({ "id": m.id, "email": m.email, "name": m.name, "role": m.role })
}

/// The fields a member update sets, for its event.
fn changes_data(c: &MemberChanges) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    if let Some(email) = &c.email {
        out.insert("email".into(), json!(email));
    }
    if let Some(name) = &c.name {
        out.insert("name".into(), json!(name));
    }
    if let Some(role) = &c.role {
        out.insert("role".into(), json!(role));
    }
    serde_json::Value::Object(out)
}

pub struct Members {
    clock: Arc<dyn Clock>,
    store: Arc<dyn MemberStore>,
    events: Arc<Events>,
}

impl Members {
    pub fn new(clock: Arc<dyn Clock>, store: Arc<dyn MemberStore>, events: Arc<Events>) -> Self {
        Members {
            clock,
            store,
            events,
        }
    }

    /// Member events go to every environment of the organization.
    async fn member_events(
        &self,
        member: &MemberRecord,
        kind: &str,
        actor: &Actor,
        data: serde_json::Value,
    ) -> ServiceResult<Vec<EventRecord>> {
        self.events
            .in_reach(&member.organization_id, None, kind, actor, &member.id, data)
            .await
    }

    pub async fn list(&self, caller: &ApiCaller) -> ServiceResult<Vec<Member>> {
        caller.authorize_organization()?;
        let members = self.store.list(&caller.organization_id).await?;
        Ok(members.iter().map(Member::from).collect())
    }

    pub async fn get(&self, caller: &ApiCaller, member_id: &str) -> ServiceResult<Member> {
        Ok(Member::from(&self.record(caller, member_id).await?))
    }

    async fn record(&self, caller: &ApiCaller, member_id: &str) -> ServiceResult<MemberRecord> {
        caller.authorize_organization()?;
        if !crypto::is_id(MEMBER_ID_PREFIX, member_id) {
            return Err(ServiceError::NotFound);
        }
        self.store
            .get(&caller.organization_id, member_id)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    pub async fn add(
        &self,
        caller: &ApiCaller,
        email: &str,
        name: Option<String>,
        role: &str,
        actor: &Actor,
    ) -> ServiceResult<Member> {
        caller.authorize_organization()?;
        caller.require_current_secret()?;
        let mut errors = ValidationErrors::default();
        let email = parse_email(email, &mut errors);
        let name = parse_name(name, &mut errors);
        let role = parse_role(role, &mut errors);
        errors.into_result().map_err(ServiceError::Validation)?;
        let (Some(email), Some(role)) = (email, role) else {
            return Err(ServiceError::internal("validated member"));
        };
        roles::check_grant(caller.role, role, false)?;
        let now = to_millis(self.clock.now());
        let member = MemberRecord {
            id: new_id(self.clock.as_ref(), MEMBER_ID_PREFIX)?,
            organization_id: caller.organization_id.clone(),
            email,
            name,
            role,
            created_at: now,
            updated_at: now,
        };
        let events = self
            .member_events(&member, events::MEMBER_ADDED, actor, member_data(&member))
            .await?;
        self.store.insert(&member, &events).await?;
        Ok(Member::from(&member))
    }

    /// Changes a member's e-mail, name or role. Making a member `owner`
    /// transfers ownership (only the owner may): in one transaction, with
    /// the other changes, the old owner becomes `admin`.
    pub async fn update(
        &self,
        caller: &ApiCaller,
        member_id: &str,
        update: MemberUpdate,
        actor: &Actor,
    ) -> ServiceResult<Member> {
        let current = self.record(caller, member_id).await?;
        caller.require_current_secret()?;
        let current_role = current.role;
        let mut errors = ValidationErrors::default();
        let email = update.email.and_then(|e| parse_email(&e, &mut errors));
        let name = update.name.map(|n| parse_name(n, &mut errors));
        let role = update.role.and_then(|r| parse_role(&r, &mut errors));
        errors.into_result().map_err(ServiceError::Validation)?;
        let new_role = role.unwrap_or(current_role);
        // Even a change of address needs the right to manage this member.
        let change = roles::check_role_change(caller.role, current_role, new_role)?;
        let now = to_millis(self.clock.now());
        let transfer = change == RoleChange::TransferOwnership;
        let changes = MemberChanges {
            email,
            name,
            role: match transfer {
                false => role,
                true => None,
            },
        };
        let (kind, data) = match transfer {
            true => (
                events::ORGANIZATION_OWNERSHIP_TRANSFERRED,
                json!({ "to": member_data(&current), "changes": changes_data(&changes) }),
            ),
            false => (
                events::MEMBER_UPDATED,
                json!({ "member": member_data(&current), "changes": changes_data(&changes) }),
            ),
        };
        let events = self.member_events(&current, kind, actor, data).await?;
        let store = &self.store;
        let org = &caller.organization_id;
        let updated = match transfer {
            true => {
                store
                    .transfer_ownership(org, member_id, current.role, &changes, now, &events)
                    .await
            }
            false => {
                store
                    .update(org, member_id, current.role, &changes, now, &events)
                    .await
            }
        };
        updated?
            .map(|m| Member::from(&m))
            .ok_or_else(|| ServiceError::Conflict("the member changed meanwhile; retry".into()))
    }

    pub async fn remove(
        &self,
        caller: &ApiCaller,
        member_id: &str,
        actor: &Actor,
    ) -> ServiceResult<()> {
        let current = self.record(caller, member_id).await?;
        caller.require_current_secret()?;
        let role = current.role;
        roles::check_removal(caller.role, role, false)?;
        let events = self
            .member_events(
                &current,
                events::MEMBER_REMOVED,
                actor,
                member_data(&current),
            )
            .await?;
        match self
            .store
            .delete(&caller.organization_id, member_id, current.role, &events)
            .await?
        {
            true => Ok(()),
            false => Err(ServiceError::Conflict(
                "the member changed meanwhile; retry".into(),
            )),
        }
    }
}
