//! The security advisor: gathers one environment's facts (settings,
//! origins and webhooks from its runtime; the organization's API tokens and
//! members from the store) and asks the rules of `domain::advisor`.
//! Read-only: it changes nothing, so it answers for a locked environment
//! too.

use std::collections::HashSet;
use std::sync::Arc;

use super::ServiceResult;
use super::api_tokens::ApiCaller;
use super::environments::EnvironmentRuntime;
use crate::clock::{Clock, to_millis};
use crate::domain::advisor::{self, AdvisorInput, Finding, MemberFacts, TokenFacts};
use crate::domain::roles::Role;
use crate::store::{ApiTokenRecord, ApiTokenStore, MemberStore};

pub struct SecurityAdvisor {
    clock: Arc<dyn Clock>,
    members: Arc<dyn MemberStore>,
    tokens: Arc<dyn ApiTokenStore>,
}

impl SecurityAdvisor {
    pub fn new(
        clock: Arc<dyn Clock>,
        members: Arc<dyn MemberStore>,
        tokens: Arc<dyn ApiTokenStore>,
    ) -> Self {
        SecurityAdvisor {
            clock,
            members,
            tokens,
        }
    }

    /// The environment's findings, most severe first (empty: nothing to
    /// advise). The caller has been authorized for `env`. Members and API
    /// tokens are named only to a caller who may list them (an `admin`
    /// reaching the whole organization); others see them counted.
    pub async fn findings(
        &self,
        caller: &ApiCaller,
        env: &EnvironmentRuntime,
    ) -> ServiceResult<Vec<Finding>> {
        let findings = advisor::findings(&self.input(env).await?);
        let sees_all = caller.role.allows(Role::Admin) && caller.environment_id.is_none();
        Ok(match sees_all {
            true => findings,
            false => advisor::redacted(findings),
        })
    }

    async fn input(&self, env: &EnvironmentRuntime) -> ServiceResult<AdvisorInput> {
        let now = to_millis(self.clock.now());
        let organization_id = &env.record.organization_id;
        // Every token of the organization that reaches this environment
        // and still works.
        let tokens = self
            .tokens
            .list(organization_id, None)
            .await?
            .iter()
            .filter(|t| t.environment_id.as_deref().is_none_or(|id| id == env.id()))
            .filter(|t| t.expires_at.is_none_or(|at| at > now))
            .map(token_facts)
            .collect();
        let with_totp: HashSet<String> = self
            .members
            .ids_with_totp(organization_id)
            .await?
            .into_iter()
            .collect();
        let members = self
            .members
            .list(organization_id)
            .await?
            .into_iter()
            .map(|m| MemberFacts {
                has_totp: with_totp.contains(&m.id),
                email: m.email,
                role: m.role,
            })
            .collect();
        Ok(AdvisorInput {
            live: env.is_live(),
            settings: env.settings.clone(),
            allows_every_origin: env.origins.allows_all(),
            origin_warnings: env.origin_warnings(),
            subscribed_revocation_events: advisor::REVOCATION_EVENTS
                .into_iter()
                .filter(|kind| env.has_subscriber(kind))
                .collect(),
            tokens,
            members,
            now,
        })
    }
}

fn token_facts(t: &ApiTokenRecord) -> TokenFacts {
    TokenFacts {
        id: t.id.clone(),
        note: t.note.clone(),
        created_at: t.created_at,
        rotated_at: t.rotated_at,
    }
}
