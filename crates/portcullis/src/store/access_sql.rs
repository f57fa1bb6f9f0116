//! Store code for API tokens, members and the environment lock that both
//! backends run as it is (like `shared.rs`, expanded per backend by a
//! macro). It expands next to `shared_queries!` and `outbox_queries!`,
//! whose imports (`StoreResult`, `db`, `insert_event`, …) it uses.

macro_rules! access_queries {
    ($conn:ty, $pool:ty) => {
        use $crate::store::{ApiTokenRecord, MemberChanges, MemberRecord};

        pub(super) async fn insert_token(conn: &mut $conn, t: &ApiTokenRecord) -> StoreResult<()> {
            ::sqlx::query(
                "INSERT INTO api_tokens (id, organization_id, environment_id, role, note, token_hash, \
                 created_at, expires_at, revoked_at, last_used_at, previous_hash, \
                 previous_expires_at, rotated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(&t.id)
            .bind(&t.organization_id)
            .bind(&t.environment_id)
            .bind(&t.role)
            .bind(&t.note)
            .bind(&t.token_hash)
            .bind(t.created_at)
            .bind(t.expires_at)
            .bind(t.revoked_at)
            .bind(t.last_used_at)
            .bind(&t.previous_hash)
            .bind(t.previous_expires_at)
            .bind(t.rotated_at)
            .execute(conn)
            .await
            .map_err(db)?;
            Ok(())
        }

        pub(super) async fn insert_token_recorded(
            conn: &mut $conn,
            t: &ApiTokenRecord,
            events: &[EventRecord],
        ) -> StoreResult<()> {
            insert_token(&mut *conn, t).await?;
            insert_events(conn, events).await
        }

        /// Writes `events` when the change they record happened.
        async fn recorded_if(
            conn: &mut $conn,
            changed: bool,
            events: &[EventRecord],
        ) -> StoreResult<bool> {
            if changed {
                insert_events(conn, events).await?;
            }
            Ok(changed)
        }

        pub(super) async fn find_token_by_hash(
            pool: &$pool,
            token_hash: &[u8],
        ) -> StoreResult<Option<ApiTokenRecord>> {
            ::sqlx::query_as::<_, ApiTokenRecord>(
                "SELECT * FROM api_tokens WHERE token_hash = $1 \
                 UNION ALL SELECT * FROM api_tokens WHERE previous_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await
            .map_err(db)
        }

        pub(super) async fn tokens(
            pool: &$pool,
            organization_id: &str,
            environment_id: Option<&str>,
        ) -> StoreResult<Vec<ApiTokenRecord>> {
            ::sqlx::query_as::<_, ApiTokenRecord>(
                "SELECT * FROM api_tokens WHERE organization_id = $1 AND revoked_at IS NULL \
                 AND ($2 IS NULL OR environment_id = $2) ORDER BY created_at, id",
            )
            .bind(organization_id)
            .bind(environment_id)
            .fetch_all(pool)
            .await
            .map_err(db)
        }

        pub(super) async fn token(
            pool: &$pool,
            organization_id: &str,
            token_id: &str,
        ) -> StoreResult<Option<ApiTokenRecord>> {
            ::sqlx::query_as::<_, ApiTokenRecord>(
                "SELECT * FROM api_tokens WHERE organization_id = $1 AND id = $2 \
                 AND revoked_at IS NULL",
            )
            .bind(organization_id)
            .bind(token_id)
            .fetch_optional(pool)
            .await
            .map_err(db)
        }

        pub(super) async fn revoke_token(
            conn: &mut $conn,
            organization_id: &str,
            token_id: &str,
            at: i64,
            events: &[EventRecord],
        ) -> StoreResult<bool> {
            let revoked = ::sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 \
                 WHERE organization_id = $2 AND id = $3 AND revoked_at IS NULL",
            )
            .bind(at)
            .bind(organization_id)
            .bind(token_id)
            .execute(&mut *conn)
            .await
            .map_err(db)?
            .rows_affected();
            recorded_if(conn, revoked == 1, events).await
        }

        pub(super) async fn rotate_token(
            conn: &mut $conn,
            organization_id: &str,
            token_id: &str,
            rotation: &$crate::store::TokenRotation,
            events: &[EventRecord],
        ) -> StoreResult<bool> {
            let rotated = ::sqlx::query(
                "UPDATE api_tokens SET previous_hash = token_hash, token_hash = $1, \
                 previous_expires_at = $2, rotated_at = $3, expires_at = $6 \
                 WHERE organization_id = $4 AND id = $5 AND revoked_at IS NULL",
            )
            .bind(&rotation.new_hash)
            .bind(rotation.previous_expires_at)
            .bind(rotation.at)
            .bind(organization_id)
            .bind(token_id)
            .bind(rotation.expires_at)
            .execute(&mut *conn)
            .await
            .map_err(db)?
            .rows_affected();
            recorded_if(conn, rotated == 1, events).await
        }

        pub(super) async fn insert_member(conn: &mut $conn, m: &MemberRecord) -> StoreResult<()> {
            ::sqlx::query(
                "INSERT INTO members (id, organization_id, email, name, role, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&m.id)
            .bind(&m.organization_id)
            .bind(&m.email)
            .bind(&m.name)
            .bind(&m.role)
            .bind(m.created_at)
            .bind(m.updated_at)
            .execute(conn)
            .await
            .map_err(db)?;
            Ok(())
        }

        pub(super) async fn members(
            pool: &$pool,
            organization_id: &str,
        ) -> StoreResult<Vec<MemberRecord>> {
            ::sqlx::query_as::<_, MemberRecord>(
                "SELECT * FROM members WHERE organization_id = $1 ORDER BY created_at, id",
            )
            .bind(organization_id)
            .fetch_all(pool)
            .await
            .map_err(db)
        }

        pub(super) async fn member(
            pool: &$pool,
            organization_id: &str,
            member_id: &str,
        ) -> StoreResult<Option<MemberRecord>> {
            ::sqlx::query_as::<_, MemberRecord>(
                "SELECT * FROM members WHERE organization_id = $1 AND id = $2",
            )
            .bind(organization_id)
            .bind(member_id)
            .fetch_optional(pool)
            .await
            .map_err(db)
        }

        pub(super) async fn update_member(
            conn: &mut $conn,
            organization_id: &str,
            member_id: &str,
            expected_role: &str,
            c: &MemberChanges,
            at: i64,
        ) -> StoreResult<Option<MemberRecord>> {
            ::sqlx::query_as::<_, MemberRecord>(
                "UPDATE members SET email = COALESCE($1, email), \
                 name = CASE WHEN $2 THEN $3 ELSE name END, role = COALESCE($4, role), \
                 updated_at = $5 \
                 WHERE organization_id = $6 AND id = $7 AND role = $8 RETURNING *",
            )
            .bind(&c.email)
            .bind(c.name.is_some())
            .bind(c.name.clone().flatten())
            .bind(&c.role)
            .bind(at)
            .bind(organization_id)
            .bind(member_id)
            .bind(expected_role)
            .fetch_optional(conn)
            .await
            .map_err(db)
        }

        pub(super) async fn insert_member_recorded(
            conn: &mut $conn,
            m: &MemberRecord,
            events: &[EventRecord],
        ) -> StoreResult<()> {
            insert_member(&mut *conn, m).await?;
            insert_events(conn, events).await
        }

        pub(super) async fn update_member_recorded(
            conn: &mut $conn,
            organization_id: &str,
            member_id: &str,
            expected_role: &str,
            c: &MemberChanges,
            at: i64,
            events: &[EventRecord],
        ) -> StoreResult<Option<MemberRecord>> {
            let updated =
                update_member(&mut *conn, organization_id, member_id, expected_role, c, at).await?;
            if updated.is_some() {
                insert_events(conn, events).await?;
            }
            Ok(updated)
        }

        /// `MemberStore::transfer_ownership`. The guarded update of the
        /// member comes first: on PostgreSQL it locks the member's row, so
        /// it cannot be removed or changed until this commits.
        pub(super) async fn transfer_ownership(
            conn: &mut $conn,
            organization_id: &str,
            member_id: &str,
            expected_role: &str,
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
            // The owner steps down first: one owner at any moment (the
            // unique index checks each statement).
            ::sqlx::query(
                "UPDATE members SET role = 'admin', updated_at = $1 \
                 WHERE organization_id = $2 AND role = 'owner' AND id <> $3",
            )
            .bind(at)
            .bind(organization_id)
            .bind(member_id)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            let promoted = ::sqlx::query_as::<_, MemberRecord>(
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
            conn: &mut $conn,
            organization_id: &str,
            member_id: &str,
            expected_role: &str,
            events: &[EventRecord],
        ) -> StoreResult<bool> {
            let deleted = ::sqlx::query(
                "DELETE FROM members WHERE organization_id = $1 AND id = $2 AND role = $3 \
                 AND role <> 'owner'",
            )
            .bind(organization_id)
            .bind(member_id)
            .bind(expected_role)
            .execute(&mut *conn)
            .await
            .map_err(db)?
            .rows_affected();
            recorded_if(conn, deleted == 1, events).await
        }

        pub(super) async fn set_locked(
            conn: &mut $conn,
            environment_id: &str,
            locked: bool,
            event: &EventRecord,
        ) -> StoreResult<bool> {
            let changed = ::sqlx::query(
                "UPDATE environments SET locked = $1 WHERE id = $2 AND locked <> $1",
            )
            .bind(locked)
            .bind(environment_id)
            .execute(&mut *conn)
            .await
            .map_err(db)?
            .rows_affected();
            recorded_if(conn, changed == 1, std::slice::from_ref(event)).await
        }

        pub(super) async fn lock_states(pool: &$pool) -> StoreResult<Vec<(String, bool)>> {
            ::sqlx::query_as("SELECT id, locked FROM environments")
                .fetch_all(pool)
                .await
                .map_err(db)
        }

        pub(super) async fn environments_of(
            pool: &$pool,
            organization_id: &str,
        ) -> StoreResult<Vec<EnvironmentRecord>> {
            ::sqlx::query_as::<_, EnvironmentRecord>(
                "SELECT * FROM environments WHERE organization_id = $1 ORDER BY created_at, id",
            )
            .bind(organization_id)
            .fetch_all(pool)
            .await
            .map_err(db)
        }
    };
}

pub(crate) use access_queries;
