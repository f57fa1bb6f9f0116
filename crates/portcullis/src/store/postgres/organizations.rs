use async_trait::async_trait;

use super::{PgDb, db, queries};
use crate::store::{NewTenant, OrganizationStore, StoreResult, TenantRecord};

#[async_trait]
impl OrganizationStore for PgDb {
    async fn create_tenant(&self, t: &NewTenant) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        queries::insert_tenant(&mut tx, t).await?;
        tx.commit().await.map_err(db)
    }

    async fn first_tenant(&self) -> StoreResult<Option<TenantRecord>> {
        queries::first_tenant(&self.pool).await
    }
}
