use async_trait::async_trait;

use super::{SqliteDb, tenant_sql};
use crate::store::{NewTenant, OrganizationStore, StoreResult, TenantRecord};

#[async_trait]
impl OrganizationStore for SqliteDb {
    async fn create_tenant(&self, t: &NewTenant) -> StoreResult<()> {
        let t = t.clone();
        self.writer
            .transaction(move |c| Box::pin(async move { tenant_sql::insert_tenant(c, &t).await }))
            .await
    }

    async fn first_tenant(&self) -> StoreResult<Option<TenantRecord>> {
        tenant_sql::first_tenant(&self.pool).await
    }
}
