use async_trait::async_trait;

use super::{PgDb, db};
use crate::store::{
    EnvironmentRecord, NewTenant, OrganizationRecord, OrganizationStore, ProjectRecord,
    StoreResult, TenantRecord,
};

#[async_trait]
impl OrganizationStore for PgDb {
    async fn create_tenant(&self, t: &NewTenant) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let o = &t.organization;
        // Two nodes starting on an empty database: the second one's insert
        // fails here (a conflict), and it uses the first one's tenant.
        sqlx::query("INSERT INTO meta (key, value) VALUES ('first_tenant', $1)")
            .bind(&o.id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&o.id)
            .bind(&o.name)
            .bind(o.created_at)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let p = &t.project;
        sqlx::query(
            "INSERT INTO projects (id, organization_id, name, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&p.id)
        .bind(&p.organization_id)
        .bind(&p.name)
        .bind(p.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        for e in &t.environments {
            sqlx::query(
                "INSERT INTO environments (id, project_id, organization_id, kind, settings_json, locked, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&e.id)
            .bind(&e.project_id)
            .bind(&e.organization_id)
            .bind(&e.kind)
            .bind(&e.settings_json)
            .bind(e.locked)
            .bind(e.created_at)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        for k in &t.signing_keys {
            super::environments::insert_key(&mut tx, k).await?;
        }
        super::api_tokens::insert_token(&mut tx, &t.owner_token).await?;
        tx.commit().await.map_err(db)
    }

    async fn first_tenant(&self) -> StoreResult<Option<TenantRecord>> {
        let Some(organization) = sqlx::query_as::<_, OrganizationRecord>(
            "SELECT id, name, created_at FROM organizations ORDER BY created_at, id LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        else {
            return Ok(None);
        };
        let project = sqlx::query_as::<_, ProjectRecord>(
            "SELECT id, organization_id, name, created_at FROM projects WHERE organization_id = $1 \
             ORDER BY created_at, id LIMIT 1",
        )
        .bind(&organization.id)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        let environments = sqlx::query_as::<_, EnvironmentRecord>(
            "SELECT * FROM environments WHERE project_id = $1 ORDER BY kind",
        )
        .bind(&project.id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(Some(TenantRecord {
            organization,
            project,
            environments,
        }))
    }
}
