//! A partial session completed by its second factor: a new token for the
//! same session, answered as a sign-in is.

use std::sync::Arc;

use super::{confirmed_kinds, mfa_status};
use crate::domain::claims::SessionClaims;
use crate::domain::mfa::SignInOutcome;
use crate::services::ServiceResult;
use crate::services::environments::EnvironmentRuntime;
use crate::services::sessions::Sessions;
use crate::services::signed_in::SignedIn;
use crate::services::users::Users;
use crate::store::MfaStore;

pub struct Completion {
    store: Arc<dyn MfaStore>,
    sessions: Arc<Sessions>,
    users: Arc<Users>,
}

impl Completion {
    pub fn new(store: Arc<dyn MfaStore>, sessions: Arc<Sessions>, users: Arc<Users>) -> Self {
        Completion {
            store,
            sessions,
            users,
        }
    }

    /// The session after its second factor: `user:basic`, `amr` with `mfa`
    /// and the factor, and a new token for the same session.
    pub async fn complete(
        &self,
        env: &EnvironmentRuntime,
        claims: &SessionClaims,
        factor_amr: &str,
    ) -> ServiceResult<SignedIn> {
        let (token, session) = self
            .sessions
            .complete_second_factor(env, claims, factor_amr)
            .await?;
        let user = self.users.get(env.id(), &claims.sub).await?;
        let devices = self.store.devices(env.id(), &claims.sub).await?;
        Ok(SignedIn {
            token: Some(token),
            session,
            user,
            mfa: mfa_status(
                &env.settings.mfa,
                &confirmed_kinds(&devices),
                SignInOutcome::Complete,
            ),
        })
    }
}
