//! The operator's commands (`portcullis token|env|members …`): the same
//! services the API calls, run on the database directly, for when the API
//! is locked out or no token is at hand. They act as the organization's
//! owner and are audited with the actor `cli`. Answers have the API's
//! shapes.

use std::sync::Arc;

use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::{Value, json};

use crate::app::{Wired, wire_initialized};
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::actor::Actor;
use crate::http::views::environments::EnvironmentInfo;
use crate::http::views::members::Member;
use crate::http::views::tokens::{ApiToken, ApiTokenWithSecret};
use crate::services::api_tokens::{ApiCaller, NewToken};
use crate::services::bootstrap::InitOutcome;
use crate::services::members::MemberUpdate;
use crate::services::{ServiceError, Services};

pub struct Operator {
    services: Services,
    caller: ApiCaller,
    actor: Actor,
}

/// A service's refusal as one line for the terminal (field errors named).
fn explain(e: ServiceError) -> String {
    match e {
        ServiceError::Validation(errors) => errors
            .0
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        ServiceError::NotFound => "not found".into(),
        other => other.to_string(),
    }
}

fn to_json(value: impl Serialize) -> Result<Value, String> {
    serde_json::to_value(value).map_err(|e| e.to_string())
}

impl Operator {
    /// Opens the database of `config` (its data directory or database URL).
    pub async fn open(config: &Config, clock: Arc<dyn Clock>) -> Result<Operator, String> {
        let (organization_id, Wired { services, workers }) =
            wire_initialized(config, clock).await?;
        // This process hears no one: it reads environments from the store.
        workers.changes.set_single_node();
        let who = std::env::var("USER").ok().filter(|u| !u.is_empty());
        Ok(Operator {
            services,
            caller: ApiCaller::operator(&organization_id),
            actor: Actor::cli(who),
        })
    }

    pub async fn create_token(
        &self,
        note: String,
        role: String,
        environment_id: Option<String>,
        expires_at: Option<String>,
    ) -> Result<Value, String> {
        let issued = self
            .services
            .api_tokens
            .create(
                &self.caller,
                NewToken {
                    note,
                    role,
                    environment_id,
                    expires_at,
                },
                &self.actor,
            )
            .await
            .map_err(explain)?;
        to_json(ApiTokenWithSecret::from(issued))
    }

    pub async fn list_tokens(&self) -> Result<Value, String> {
        let tokens = self
            .services
            .api_tokens
            .list(&self.caller)
            .await
            .map_err(explain)?;
        to_json(json!({ "tokens": tokens.into_iter().map(ApiToken::from).collect::<Vec<_>>() }))
    }

    pub async fn revoke_token(&self, token_id: &str) -> Result<Value, String> {
        self.services
            .api_tokens
            .delete(&self.caller, token_id, &self.actor)
            .await
            .map_err(explain)?;
        Ok(json!({ "revoked": token_id }))
    }

    pub async fn rotate_token(&self, token_id: &str, grace_seconds: i64) -> Result<Value, String> {
        let issued = self
            .services
            .api_tokens
            .rotate(&self.caller, token_id, grace_seconds, &self.actor)
            .await
            .map_err(explain)?;
        to_json(ApiTokenWithSecret::from(issued))
    }

    pub async fn set_locked(&self, environment_id: &str, locked: bool) -> Result<Value, String> {
        let env = self
            .services
            .locks
            .lock_environment(&self.caller, environment_id, locked, &self.actor)
            .await
            .map_err(explain)?;
        to_json(EnvironmentInfo::from(env))
    }

    pub async fn list_environments(&self) -> Result<Value, String> {
        let environments = self
            .services
            .locks
            .environments_of(&self.caller)
            .await
            .map_err(explain)?;
        let environments: Vec<EnvironmentInfo> = environments
            .into_iter()
            .map(EnvironmentInfo::from)
            .collect();
        to_json(json!({ "environments": environments }))
    }

    pub async fn list_members(&self) -> Result<Value, String> {
        let members = self
            .services
            .members
            .list(&self.caller)
            .await
            .map_err(explain)?;
        to_json(json!({ "members": members.into_iter().map(Member::from).collect::<Vec<_>>() }))
    }

    pub async fn add_member(
        &self,
        email: &str,
        name: Option<String>,
        role: &str,
    ) -> Result<Value, String> {
        let member = self
            .services
            .members
            .add(&self.caller, email, name, role, &self.actor)
            .await
            .map_err(explain)?;
        to_json(Member::from(member))
    }

    pub async fn update_member(
        &self,
        member_id: &str,
        update: MemberUpdate,
    ) -> Result<Value, String> {
        let member = self
            .services
            .members
            .update(&self.caller, member_id, update, &self.actor)
            .await
            .map_err(explain)?;
        to_json(Member::from(member))
    }

    pub async fn remove_member(&self, member_id: &str) -> Result<Value, String> {
        self.services
            .members
            .remove(&self.caller, member_id, &self.actor)
            .await
            .map_err(explain)?;
        Ok(json!({ "removed": member_id }))
    }

    pub async fn reset_member_totp(&self, member_id: &str) -> Result<Value, String> {
        // The member must exist in the organization (and be named right).
        self.services
            .members
            .get(&self.caller, member_id)
            .await
            .map_err(explain)?;
        let removed = self
            .services
            .member_totp
            .reset(member_id)
            .await
            .map_err(explain)?;
        Ok(json!({ "member_id": member_id, "totp_removed": removed }))
    }
}

/// What `portcullis init --json` prints: the new tenant's ids and the owner
/// token, shown this once.
#[derive(Serialize)]
pub struct InitReport<'a> {
    organization_id: &'a str,
    project_id: &'a str,
    environments: InitEnvironments<'a>,
    api_token: &'a str,
}

#[derive(Serialize)]
struct InitEnvironments<'a> {
    sandbox: &'a str,
    live: &'a str,
}

impl<'a> InitReport<'a> {
    pub fn of(outcome: &'a InitOutcome) -> Self {
        InitReport {
            organization_id: &outcome.organization_id,
            project_id: &outcome.project_id,
            environments: InitEnvironments {
                sandbox: &outcome.environments.sandbox,
                live: &outcome.environments.live,
            },
            api_token: outcome.api_token.expose_secret(),
        }
    }
}
