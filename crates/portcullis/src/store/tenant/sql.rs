//! The tenant's SQL (organizations, projects, `meta`), written once for both backends. This file is
//! compiled twice, inside `sqlite/mod.rs` and `postgres/mod.rs`, where
//! `Conn`, `Pool` and the dialect macros (`lock!()`, `skip_locked!()`, …)
//! resolve for that backend.

use super::api_tokens_sql::insert_token;
use super::environments_sql::insert_key;
use super::members_sql::insert_member;
use super::{Conn, Pool, db};
use crate::store::{
    EnvironmentRecord, NewTenant, OrganizationRecord, ProjectRecord, StoreError, StoreResult,
    TenantRecord,
};

/// The first tenant, all or nothing. Two nodes starting on an empty
/// database: the second one's first insert fails (a conflict) and it
/// uses the first one's tenant.
pub(super) async fn insert_tenant(conn: &mut Conn, t: &NewTenant) -> StoreResult<()> {
    let o = &t.organization;
    sqlx::query("INSERT INTO meta (key, value) VALUES ('first_tenant', $1)")
        .bind(&o.id)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(&o.id)
        .bind(&o.name)
        .bind(o.created_at)
        .execute(&mut *conn)
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
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    for e in &t.environments {
        let settings_json = serde_json::to_string(&e.settings)
            .map_err(|e| StoreError::Database(format!("serializing settings: {e}")))?;
        sqlx::query(
            "INSERT INTO environments (id, project_id, organization_id, kind, settings_json, \
             locked, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&e.id)
        .bind(&e.project_id)
        .bind(&e.organization_id)
        .bind(&e.kind)
        .bind(settings_json)
        .bind(e.locked)
        .bind(e.created_at)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    for k in &t.signing_keys {
        insert_key(&mut *conn, k).await?;
    }
    insert_member(&mut *conn, &t.owner).await?;
    insert_token(conn, &t.owner_token).await
}

pub(super) async fn first_tenant(pool: &Pool) -> StoreResult<Option<TenantRecord>> {
    let Some(organization) = sqlx::query_as::<_, OrganizationRecord>(
        "SELECT id, name, created_at FROM organizations ORDER BY created_at, id LIMIT 1",
    )
    .fetch_optional(pool)
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
    .fetch_one(pool)
    .await
    .map_err(db)?;
    let environments = sqlx::query_as::<_, EnvironmentRecord>(
        "SELECT * FROM environments WHERE project_id = $1 ORDER BY kind",
    )
    .bind(&project.id)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(Some(TenantRecord {
        organization,
        project,
        environments,
    }))
}

pub(super) async fn meta(pool: &Pool, key: &str) -> StoreResult<Option<String>> {
    sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
        .bind(key)
        .fetch_optional(pool)
        .await
        .map_err(db)
}

/// Sets `key` unless it is set; returns what is stored.
pub(super) async fn init_meta(conn: &mut Conn, key: &str, value: &str) -> StoreResult<String> {
    sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(key)
        .bind(value)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
        .bind(key)
        .fetch_one(conn)
        .await
        .map_err(db)
}
