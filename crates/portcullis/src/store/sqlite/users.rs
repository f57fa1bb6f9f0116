use async_trait::async_trait;

use super::{SqliteDb, sessions_sql, users_sql};
use crate::store::{
    CredentialRecord, EventRecord, Revocation, StoreResult, UserQuery, UserRecord, UserStore,
};

#[async_trait]
impl UserStore for SqliteDb {
    async fn get(&self, environment_id: &str, user_id: &str) -> StoreResult<Option<UserRecord>> {
        users_sql::user(&self.pool, environment_id, user_id).await
    }

    async fn list(&self, environment_id: &str, q: &UserQuery) -> StoreResult<Vec<UserRecord>> {
        users_sql::users(&self.pool, environment_id, q).await
    }

    async fn revoke_sessions(
        &self,
        environment_id: &str,
        user_id: &str,
        r: &Revocation,
        event: &EventRecord,
    ) -> StoreResult<(u64, i64)> {
        let (environment_id, user_id, r, event) = (
            environment_id.to_string(),
            user_id.to_string(),
            r.clone(),
            event.clone(),
        );
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    sessions_sql::revoke_user_recorded(c, &environment_id, &user_id, &r, &event)
                        .await
                })
            })
            .await
    }

    async fn credentials(
        &self,
        environment_id: &str,
        user_id: &str,
    ) -> StoreResult<Vec<CredentialRecord>> {
        users_sql::credentials(&self.pool, environment_id, user_id).await
    }

    async fn credentials_of_range(
        &self,
        environment_id: &str,
        first: &str,
        last: &str,
    ) -> StoreResult<Vec<CredentialRecord>> {
        users_sql::credentials_of_range(&self.pool, environment_id, first, last).await
    }

    async fn epochs(&self) -> StoreResult<Vec<(String, i64, i64)>> {
        users_sql::user_epochs(&self.pool).await
    }
}
