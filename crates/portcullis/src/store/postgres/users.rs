use async_trait::async_trait;

use super::{PgDb, sessions_sql, users_sql};
use crate::store::{
    Change, CredentialRecord, EventRecord, Revocation, StoreResult, UserQuery, UserRecord,
    UserStore,
};

#[async_trait]
impl UserStore for PgDb {
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
        let mut tx = self.write().await?;
        let (count, epoch) =
            sessions_sql::revoke_user_recorded(&mut tx, environment_id, user_id, r, event).await?;
        let change = Change::UserRevoked {
            user_id: user_id.to_string(),
            epoch,
            at_s: r.at.div_euclid(1000),
        };
        tx.publish(change);
        tx.commit().await?;
        Ok((count, epoch))
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
