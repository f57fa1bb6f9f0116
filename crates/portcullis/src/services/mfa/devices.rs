//! A user's MFA devices: which a sign-in asks for, the list, and removing
//! them (by the user, with `credential:unlink`, or by an operator).

use std::sync::Arc;

use super::elevation::Elevation;
use super::{MfaDevice, device_removed_event, usable};
use crate::domain::actor::Actor;
use crate::domain::claims::SessionClaims;
use crate::domain::events;
use crate::domain::mfa::{self, SignInOutcome};
use crate::services::environments::{EnvironmentRuntime, Environments};
use crate::services::events::Events;
use crate::services::users::Users;
use crate::services::{ServiceError, ServiceResult};
use crate::store::MfaStore;

pub struct MfaDevices {
    store: Arc<dyn MfaStore>,
    environments: Arc<Environments>,
    events: Arc<Events>,
    elevation: Arc<Elevation>,
    users: Arc<Users>,
}

impl MfaDevices {
    pub fn new(
        store: Arc<dyn MfaStore>,
        environments: Arc<Environments>,
        events: Arc<Events>,
        elevation: Arc<Elevation>,
        users: Arc<Users>,
    ) -> Self {
        MfaDevices {
            store,
            environments,
            events,
            elevation,
            users,
        }
    }

    /// How a primary sign-in of this user (`None`: a new user) ends.
    pub async fn sign_in_outcome(
        &self,
        env: &EnvironmentRuntime,
        user_id: Option<&str>,
    ) -> ServiceResult<SignInOutcome> {
        let devices = match user_id {
            Some(id) => self.store.devices(env.id(), id).await?,
            None => vec![],
        };
        let settings = &env.settings.mfa;
        let has_device = usable(settings, &devices).next().is_some();
        Ok(mfa::sign_in_outcome(settings, has_device))
    }

    pub async fn list(&self, environment_id: &str, user_id: &str) -> ServiceResult<Vec<MfaDevice>> {
        let devices = self.store.devices(environment_id, user_id).await?;
        Ok(devices.iter().map(MfaDevice::from_record).collect())
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
        let devices = self.store.devices(env.id(), &claims.sub).await?;
        if !devices.iter().any(|d| d.id == device_id) {
            return Err(ServiceError::NotFound);
        }
        self.elevation
            .require(env, claims, "credential:unlink", elevated_token)
            .await?;
        let event = device_removed_event(&self.events, env, &claims.sub, device_id, actor)?;
        if !self
            .store
            .delete_device(env.id(), &claims.sub, device_id, &event)
            .await?
        {
            return Err(ServiceError::NotFound);
        }
        Ok(())
    }

    /// Deletes one device of a user (management API).
    pub async fn delete_user_device(
        &self,
        environment_id: &str,
        user_id: &str,
        device_id: &str,
        actor: &Actor,
    ) -> ServiceResult<()> {
        let env = self.environments.open(environment_id).await?;
        let event = device_removed_event(&self.events, &env, user_id, device_id, actor)?;
        if self
            .store
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
        self.users.get(environment_id, user_id).await?;
        let env = self.environments.open(environment_id).await?;
        let event = self.events.new_event(
            &env,
            events::USER_MFA_RESET,
            actor,
            Some(user_id),
            Some(serde_json::json!({ "user_id": user_id })),
        )?;
        Ok(self.store.reset(environment_id, user_id, &event).await?)
    }
}
