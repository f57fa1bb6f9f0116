use async_trait::async_trait;

use super::{PgDb, db, tenant_sql};
use crate::store::{NewTenant, OrganizationStore, StoreResult, TenantRecord};

#[async_trait]
impl OrganizationStore for PgDb {
    async fn create_tenant(&self, t: &NewTenant) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        tenant_sql::insert_tenant(&mut tx, t).await?;
        tx.commit().await.map_err(db)
    }

    async fn first_tenant(&self) -> StoreResult<Option<TenantRecord>> {
        tenant_sql::first_tenant(&self.pool).await
    }
}
