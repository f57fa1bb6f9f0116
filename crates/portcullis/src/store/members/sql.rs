//! Members' SQL, written once for both backends. This file is
//! compiled twice, inside `sqlite/mod.rs` and `postgres/mod.rs`, where
//! `Conn`, `Pool` and the dialect macros (`lock!()`, `skip_locked!()`, …)
//! resolve for that backend.

use super::events_sql::{insert_events, recorded_if};
use super::member_access_sql::end_sessions_of_owner_and;
use super::{Conn, Pool, db};
use crate::domain::roles::Role;
use crate::store::{EventRecord, MemberChanges, MemberRecord, StoreError, StoreResult};

pub(super) async fn insert_member(conn: &mut Conn, m: &MemberRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO members (id, organization_id, email, name, role, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&m.id)
    .bind(&m.organization_id)
    .bind(&m.email)
    .bind(&m.name)
    .bind(m.role.as_str())
    .bind(m.created_at)
    .bind(m.updated_at)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}

pub(super) async fn members(pool: &Pool, organization_id: &str) -> StoreResult<Vec<MemberRecord>> {
    sqlx::query_as::<_, MemberRecord>(
        "SELECT * FROM members WHERE organization_id = $1 ORDER BY created_at, id",
    )
    .bind(organization_id)
    .fetch_all(pool)
    .await
    .map_err(db)
}

pub(super) async fn member(
    pool: &Pool,
    organization_id: &str,
    member_id: &str,
) -> StoreResult<Option<MemberRecord>> {
    sqlx::query_as::<_, MemberRecord>(
        "SELECT * FROM members WHERE organization_id = $1 AND id = $2",
    )
    .bind(organization_id)
    .bind(member_id)
    .fetch_optional(pool)
    .await
    .map_err(db)
}

pub(super) async fn member_ids_with_totp(
    pool: &Pool,
    organization_id: &str,
) -> StoreResult<Vec<String>> {
    sqlx::query_scalar::<_, String>(
        "SELECT t.member_id FROM member_totp t JOIN members m ON m.id = t.member_id \
         WHERE m.organization_id = $1 AND t.confirmed_at IS NOT NULL ORDER BY t.member_id",
    )
    .bind(organization_id)
    .fetch_all(pool)
    .await
    .map_err(db)
}

pub(super) async fn update_member(
    conn: &mut Conn,
    organization_id: &str,
    member_id: &str,
    expected_role: Role,
    c: &MemberChanges,
    at: i64,
) -> StoreResult<Option<MemberRecord>> {
    sqlx::query_as::<_, MemberRecord>(
        "UPDATE members SET email = COALESCE($1, email), \
         name = CASE WHEN $2 THEN $3 ELSE name END, role = COALESCE($4, role), \
         updated_at = $5 \
         WHERE organization_id = $6 AND id = $7 AND role = $8 RETURNING *",
    )
    .bind(&c.email)
    .bind(c.name.is_some())
    .bind(c.name.clone().flatten())
    .bind(c.role.map(Role::as_str))
    .bind(at)
    .bind(organization_id)
    .bind(member_id)
    .bind(expected_role.as_str())
    .fetch_optional(conn)
    .await
    .map_err(db)
}

pub(super) async fn insert_member_recorded(
    conn: &mut Conn,
    m: &MemberRecord,
    events: &[EventRecord],
) -> StoreResult<()> {
    insert_member(&mut *conn, m).await?;
    insert_events(conn, events).await
}

pub(super) async fn update_member_recorded(
    conn: &mut Conn,
    organization_id: &str,
    member_id: &str,
    expected_role: Role,
    c: &MemberChanges,
    at: i64,
    events: &[EventRecord],
) -> StoreResult<Option<MemberRecord>> {
    let updated =
        update_member(&mut *conn, organization_id, member_id, expected_role, c, at).await?;
    if updated.is_some() {
        if c.role.is_some_and(|role| role != expected_role) {
            end_sessions_of_owner_and(&mut *conn, organization_id, member_id, false).await?;
        }
        insert_events(conn, events).await?;
    }
    Ok(updated)
}

/// `MemberStore::transfer_ownership`. The guarded update of the
/// member comes first: on PostgreSQL it locks the member's row, so
/// it cannot be removed or changed until this commits.
pub(super) async fn transfer_ownership(
    conn: &mut Conn,
    organization_id: &str,
    member_id: &str,
    expected_role: Role,
    c: &MemberChanges,
    at: i64,
    events: &[EventRecord],
) -> StoreResult<Option<MemberRecord>> {
    if update_member(&mut *conn, organization_id, member_id, expected_role, c, at)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    // Both roles change: both members' dashboard sessions end.
    end_sessions_of_owner_and(&mut *conn, organization_id, member_id, true).await?;
    // The owner steps down first: one owner at any moment (the
    // unique index checks each statement).
    sqlx::query(
        "UPDATE members SET role = 'admin', updated_at = $1 \
         WHERE organization_id = $2 AND role = 'owner' AND id <> $3",
    )
    .bind(at)
    .bind(organization_id)
    .bind(member_id)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    let promoted = sqlx::query_as::<_, MemberRecord>(
        "UPDATE members SET role = 'owner', updated_at = $1 \
         WHERE organization_id = $2 AND id = $3 RETURNING *",
    )
    .bind(at)
    .bind(organization_id)
    .bind(member_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    // Without its new owner (removed meanwhile) the transaction
    // must not commit.
    let promoted = promoted.ok_or(StoreError::NotFound)?;
    insert_events(conn, events).await?;
    Ok(Some(promoted))
}

pub(super) async fn delete_member(
    conn: &mut Conn,
    organization_id: &str,
    member_id: &str,
    expected_role: Role,
    events: &[EventRecord],
) -> StoreResult<bool> {
    let deleted = sqlx::query(
        "DELETE FROM members WHERE organization_id = $1 AND id = $2 AND role = $3 \
         AND role <> 'owner'",
    )
    .bind(organization_id)
    .bind(member_id)
    .bind(expected_role.as_str())
    .execute(&mut *conn)
    .await
    .map_err(db)?
    .rows_affected();
    recorded_if(conn, deleted == 1, events).await
}
