use async_trait::async_trait;

use super::{PgDb, tenant_sql};
use crate::store::{NewTenant, OrganizationStore, StoreResult, TenantRecord};

#[async_trait]
impl OrganizationStore for PgDb {
    async fn create_tenant(&self, t: &NewTenant) -> StoreResult<()> {
        let mut tx = self.write().await?;
        tenant_sql::insert_tenant(&mut tx, t).await?;
        tx.commit().await
    }

    async fn first_tenant(&self) -> StoreResult<Option<TenantRecord>> {
        tenant_sql::first_tenant(&self.pool).await
    }
}
