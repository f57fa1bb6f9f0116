//! Store code that both backends run as it is, written once. sqlx's
//! executors are not generic over databases without a wall of bounds, so a
//! macro expands these functions for each backend's connection and pool
//! types (`shared_queries!(sqlx::SqliteConnection, sqlx::SqlitePool, "", "")`).
//! What the dialects force stays in `sqlite/` and `postgres/`.
//!
//! `$lock` is appended to the reads that decide a revocation (`FOR UPDATE`,
//! and `FOR UPDATE OF s` for `$lock_session`'s join) on PostgreSQL; both
//! are empty on SQLite, whose single writer already orders every write.
//! `$skip_locked` (`FOR UPDATE SKIP LOCKED` on PostgreSQL) is appended to
//! the read that claims background work: a row another node is claiming
//! is passed over, not waited for.

macro_rules! shared_queries {
    ($conn:ty, $pool:ty, $lock:literal, $lock_session:literal, $skip_locked:literal, $order:literal) => {
        use ::sqlx::AssertSqlSafe;
        use $crate::store::sql::{
            ADD_TO_COUNT, FROM_JOINED, MINUTE_MS, REVOKED, SELECT_VIEW, ViewRow, alive,
            alive_of_one_user,
        };
        use $crate::store::{
            EnvironmentRecord, NewTenant, OrganizationRecord, ProjectRecord,
            Revocation, SessionFilter, SessionView, SigningKeyRecord, StoreError, StoreResult,
            TenantRecord, UserQuery, UserRecord, VerificationRecord, db, Attempt,
            CodeAttempt, MfaDeviceRecord, RecoveryCodeRecord, ChallengeRecord, OriginRecord,
        };

        pub(super) async fn insert_key(conn: &mut $conn, k: &SigningKeyRecord) -> StoreResult<()> {
            ::sqlx::query(
                "INSERT INTO signing_keys (kid, environment_id, algorithm, private_key_sealed, public_jwk, \
                 created_at, retired_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&k.kid)
            .bind(&k.environment_id)
            .bind(&k.algorithm)
            .bind(&k.private_key_sealed)
            .bind(&k.public_jwk)
            .bind(k.created_at)
            .bind(k.retired_at)
            .execute(conn)
            .await
            .map_err(db)?;
            Ok(())
        }

        /// The first tenant, all or nothing. Two nodes starting on an empty
        /// database: the second one's first insert fails (a conflict) and it
        /// uses the first one's tenant.
        pub(super) async fn insert_tenant(conn: &mut $conn, t: &NewTenant) -> StoreResult<()> {
            let o = &t.organization;
            ::sqlx::query("INSERT INTO meta (key, value) VALUES ('first_tenant', $1)")
                .bind(&o.id)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            ::sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
                .bind(&o.id)
                .bind(&o.name)
                .bind(o.created_at)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            let p = &t.project;
            ::sqlx::query(
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
                ::sqlx::query(
                    "INSERT INTO environments (id, project_id, organization_id, kind, settings_json, \
                     locked, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&e.id)
                .bind(&e.project_id)
                .bind(&e.organization_id)
                .bind(&e.kind)
                .bind(&e.settings_json)
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

        pub(super) async fn first_tenant(pool: &$pool) -> StoreResult<Option<TenantRecord>> {
            let Some(organization) = ::sqlx::query_as::<_, OrganizationRecord>(
                "SELECT id, name, created_at FROM organizations ORDER BY created_at, id LIMIT 1",
            )
            .fetch_optional(pool)
            .await
            .map_err(db)?
            else {
                return Ok(None);
            };
            let project = ::sqlx::query_as::<_, ProjectRecord>(
                "SELECT id, organization_id, name, created_at FROM projects WHERE organization_id = $1 \
                 ORDER BY created_at, id LIMIT 1",
            )
            .bind(&organization.id)
            .fetch_one(pool)
            .await
            .map_err(db)?;
            let environments = ::sqlx::query_as::<_, EnvironmentRecord>(
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

        pub(super) async fn environment(
            pool: &$pool,
            environment_id: &str,
        ) -> StoreResult<Option<EnvironmentRecord>> {
            ::sqlx::query_as::<_, EnvironmentRecord>("SELECT * FROM environments WHERE id = $1")
                .bind(environment_id)
                .fetch_optional(pool)
                .await
                .map_err(db)
        }

        pub(super) async fn signing_keys(
            pool: &$pool,
            environment_id: &str,
        ) -> StoreResult<Vec<SigningKeyRecord>> {
            ::sqlx::query_as::<_, SigningKeyRecord>(
                "SELECT * FROM signing_keys WHERE environment_id = $1 \
                 ORDER BY (retired_at IS NOT NULL), created_at DESC, kid",
            )
            .bind(environment_id)
            .fetch_all(pool)
            .await
            .map_err(db)
        }

        pub(super) async fn environment_epochs(pool: &$pool) -> StoreResult<Vec<(String, i64)>> {
            ::sqlx::query_as("SELECT id, sessions_epoch FROM environments WHERE sessions_epoch > 0")
                .fetch_all(pool)
                .await
                .map_err(db)
        }

        pub(super) async fn update_settings(
            conn: &mut $conn,
            environment_id: &str,
            settings_json: &str,
            new_key: Option<&SigningKeyRecord>,
            now: i64,
        ) -> StoreResult<()> {
            let updated = ::sqlx::query("UPDATE environments SET settings_json = $1 WHERE id = $2")
                .bind(settings_json)
                .bind(environment_id)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            if updated.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            if let Some(key) = new_key {
                ::sqlx::query(
                    "UPDATE signing_keys SET retired_at = $1 \
                     WHERE environment_id = $2 AND retired_at IS NULL",
                )
                .bind(now)
                .bind(environment_id)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                insert_key(conn, key).await?;
            }
            Ok(())
        }

        /// Adds `delta` to the live-session counter of the minute
        /// `expires_at_ms` falls in.
        pub(super) async fn add_to_count(
            conn: &mut $conn,
            environment_id: &str,
            expires_at_ms: i64,
            delta: i64,
        ) -> StoreResult<()> {
            ::sqlx::query(ADD_TO_COUNT)
                .bind(environment_id)
                .bind(expires_at_ms.div_euclid(MINUTE_MS))
                .bind(delta)
                .execute(conn)
                .await
                .map_err(db)?;
            Ok(())
        }

        /// Raises the environment's epoch; returns (sessions revoked, epoch).
        /// Exact for the minute under way (some of its sessions have
        /// expired), counters for every later minute.
        pub(super) async fn revoke_environment(
            conn: &mut $conn,
            environment_id: &str,
            r: &Revocation,
        ) -> StoreResult<(u64, i64)> {
            let current: Option<i64> = ::sqlx::query_scalar(concat!(
                "SELECT sessions_epoch FROM environments WHERE id = $1",
                $lock
            ))
            .bind(environment_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
            let epoch = current.ok_or(StoreError::NotFound)? + 1;
            let this_minute = r.at.div_euclid(MINUTE_MS);
            let this_minute_live: i64 = ::sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT COUNT(*) {FROM_JOINED} WHERE s.environment_id = $1 AND s.expires_at < $2 AND {}",
                alive("$3")
            )))
            .bind(environment_id)
            .bind((this_minute + 1) * MINUTE_MS)
            .bind(r.at)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
            let later: i64 = ::sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(live), 0) AS BIGINT) FROM session_counts \
                 WHERE environment_id = $1 AND expires_minute > $2",
            )
            .bind(environment_id)
            .bind(this_minute)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
            ::sqlx::query("DELETE FROM session_counts WHERE environment_id = $1")
                .bind(environment_id)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            ::sqlx::query(
                "UPDATE environments SET sessions_epoch = $1, sessions_revoked_at = $2, \
                 sessions_revoked_by_kind = $3, sessions_revoked_by_id = $4 WHERE id = $5",
            )
            .bind(epoch)
            .bind(r.at)
            .bind(&r.by_kind)
            .bind(&r.by_id)
            .bind(environment_id)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            Ok(((this_minute_live + later).max(0) as u64, epoch))
        }

        pub(super) async fn user(
            pool: &$pool,
            environment_id: &str,
            user_id: &str,
        ) -> StoreResult<Option<UserRecord>> {
            ::sqlx::query_as::<_, UserRecord>(
                "SELECT * FROM users WHERE id = $1 AND environment_id = $2",
            )
            .bind(user_id)
            .bind(environment_id)
            .fetch_optional(pool)
            .await
            .map_err(db)
        }

        pub(super) async fn users(
            pool: &$pool,
            environment_id: &str,
            q: &UserQuery,
        ) -> StoreResult<Vec<UserRecord>> {
            // Two statements, so that each has its index (`users_by_email`,
            // `users_by_environment`); the cursor is a bound of the index.
            let query = match &q.email {
                Some(email) => ::sqlx::query_as::<_, UserRecord>(
                    "SELECT * FROM users WHERE environment_id = $1 AND email = $2 \
                     AND id > COALESCE($3, '') ORDER BY id LIMIT $4",
                )
                .bind(environment_id)
                .bind(email),
                None => ::sqlx::query_as::<_, UserRecord>(
                    "SELECT * FROM users WHERE environment_id = $1 \
                     AND id > COALESCE($2, '') ORDER BY id LIMIT $3",
                )
                .bind(environment_id),
            };
            query
                .bind(&q.after)
                .bind(i64::from(q.limit))
                .fetch_all(pool)
                .await
                .map_err(db)
        }

        pub(super) async fn user_epochs(pool: &$pool) -> StoreResult<Vec<(String, i64, i64)>> {
            ::sqlx::query_as(
                "SELECT id, sessions_epoch, COALESCE(sessions_revoked_at, 0) FROM users \
                 WHERE sessions_epoch > 0",
            )
            .fetch_all(pool)
            .await
            .map_err(db)
        }

        /// Raises the user's epoch; returns (sessions revoked, epoch).
        pub(super) async fn revoke_user(
            conn: &mut $conn,
            environment_id: &str,
            user_id: &str,
            r: &Revocation,
        ) -> StoreResult<(u64, i64)> {
            let current: Option<i64> = ::sqlx::query_scalar(concat!(
                "SELECT sessions_epoch FROM users WHERE id = $1 AND environment_id = $2",
                $lock
            ))
            .bind(user_id)
            .bind(environment_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
            let epoch = current.ok_or(StoreError::NotFound)? + 1;
            let by_minute: Vec<(i64, i64)> = ::sqlx::query_as(AssertSqlSafe(format!(
                "SELECT s.expires_at / {MINUTE_MS}, COUNT(*) {FROM_JOINED} \
                 WHERE s.environment_id = $1 AND s.user_id = $2 AND s.user_epoch < $3 AND {} \
                 GROUP BY s.expires_at / {MINUTE_MS} ORDER BY 1",
                alive_of_one_user("$4")
            )))
            .bind(environment_id)
            .bind(user_id)
            .bind(epoch)
            .bind(r.at)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
            for (minute, count) in &by_minute {
                add_to_count(&mut *conn, environment_id, minute * MINUTE_MS, -count).await?;
            }
            ::sqlx::query(
                "UPDATE users SET sessions_epoch = $1, sessions_revoked_at = $2, \
                 sessions_revoked_by_kind = $3, sessions_revoked_by_id = $4 \
                 WHERE id = $5 AND environment_id = $6",
            )
            .bind(epoch)
            .bind(r.at)
            .bind(&r.by_kind)
            .bind(&r.by_id)
            .bind(user_id)
            .bind(environment_id)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            let revoked: i64 = by_minute.iter().map(|(_, c)| c).sum();
            Ok((revoked.max(0) as u64, epoch))
        }

        pub(super) async fn insert_verification(
            conn: &mut $conn,
            v: &VerificationRecord,
        ) -> StoreResult<()> {
            ::sqlx::query(
                "INSERT INTO verifications (id, environment_id, channel, destination, code_mac, \
                 attempts, created_at, expires_at, consumed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&v.id)
            .bind(&v.environment_id)
            .bind(&v.channel)
            .bind(&v.destination)
            .bind(&v.code_mac)
            .bind(v.attempts)
            .bind(v.created_at)
            .bind(v.expires_at)
            .bind(v.consumed_at)
            .execute(conn)
            .await
            .map_err(db)?;
            Ok(())
        }

        /// One attempt at a code (`VerificationStore::attempt`): spends it
        /// if the verification is live and the newest for its destination
        /// (by `$order`, the insertion order), then compares the MAC in
        /// constant time.
        pub(super) async fn attempt(
            conn: &mut $conn,
            environment_id: &str,
            verification_id: &str,
            max_attempts: i64,
            now: i64,
            code_mac: &[u8],
        ) -> StoreResult<Attempt> {
            let Some(verification) = ::sqlx::query_as::<_, VerificationRecord>(concat!(
                "UPDATE verifications SET attempts = attempts + 1 \
                 WHERE id = $1 AND environment_id = $2 AND consumed_at IS NULL \
                 AND attempts < $3 AND expires_at > $4 \
                 AND NOT EXISTS (SELECT 1 FROM verifications newer \
                     WHERE newer.environment_id = verifications.environment_id \
                       AND newer.channel = verifications.channel \
                       AND newer.destination = verifications.destination \
                       AND newer.", $order, " > verifications.", $order, ") \
                 RETURNING id, environment_id, channel, destination, code_mac, attempts, \
                     created_at, expires_at, consumed_at"
            ))
            .bind(verification_id)
            .bind(environment_id)
            .bind(max_attempts)
            .bind(now)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?
            else {
                return Ok(Attempt::Refused);
            };
            Ok(if $crate::crypto::constant_time_eq(code_mac, &verification.code_mac) {
                Attempt::Matched(verification)
            } else {
                Attempt::Wrong(verification)
            })
        }

        pub(super) async fn prune_verifications(conn: &mut $conn, now_ms: i64) -> StoreResult<()> {
            ::sqlx::query("DELETE FROM verifications WHERE expires_at < $1")
                .bind(now_ms)
                .execute(conn)
                .await
                .map_err(db)?;
            Ok(())
        }

        pub(super) async fn prune_session_counts(conn: &mut $conn, now_ms: i64) -> StoreResult<()> {
            ::sqlx::query("DELETE FROM session_counts WHERE expires_minute < $1")
                .bind(now_ms.div_euclid(MINUTE_MS))
                .execute(conn)
                .await
                .map_err(db)?;
            Ok(())
        }

        /// Claims the periodic job `name` for `node` if it is due at
        /// `now_ms`; it is then not due before `now_ms + every_ms`. Run in
        /// a transaction: the claim holds the job's row until it commits.
        pub(super) async fn claim_job(
            conn: &mut $conn,
            name: &str,
            node: &str,
            now_ms: i64,
            every_ms: i64,
        ) -> StoreResult<bool> {
            let due: Option<String> = ::sqlx::query_scalar(concat!(
                "SELECT name FROM jobs WHERE name = $1 AND next_run_at <= $2",
                $skip_locked
            ))
            .bind(name)
            .bind(now_ms)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
            if due.is_none() {
                return Ok(false);
            }
            ::sqlx::query(
                "UPDATE jobs SET next_run_at = $1, claimed_by = $2, claimed_at = $3 WHERE name = $4",
            )
            .bind(now_ms.saturating_add(every_ms))
            .bind(node)
            .bind(now_ms)
            .bind(name)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            Ok(true)
        }

        pub(super) async fn mfa_devices(
            pool: &$pool,
            environment_id: &str,
            user_id: &str,
        ) -> StoreResult<Vec<MfaDeviceRecord>> {
            ::sqlx::query_as::<_, MfaDeviceRecord>(
                "SELECT * FROM mfa_devices WHERE environment_id = $1 AND user_id = $2 \
                 ORDER BY created_at, id",
            )
            .bind(environment_id)
            .bind(user_id)
            .fetch_all(pool)
            .await
            .map_err(db)
        }

        pub(super) async fn insert_mfa_device(
            conn: &mut $conn,
            d: &MfaDeviceRecord,
        ) -> StoreResult<()> {
            ::sqlx::query(
                "DELETE FROM mfa_devices WHERE environment_id = $3 AND user_id = $1 AND kind = $2 \
                 AND confirmed_at IS NULL",
            )
            .bind(&d.user_id)
            .bind(&d.kind)
            .bind(&d.environment_id)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            ::sqlx::query(
                "INSERT INTO mfa_devices (id, environment_id, user_id, kind, name, secret_sealed, \
                 created_at, confirmed_at, last_used_at, last_used_step, credential, credential_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&d.id)
            .bind(&d.environment_id)
            .bind(&d.user_id)
            .bind(&d.kind)
            .bind(&d.name)
            .bind(&d.secret_sealed)
            .bind(d.created_at)
            .bind(d.confirmed_at)
            .bind(d.last_used_at)
            .bind(d.last_used_step)
            .bind(&d.credential)
            .bind(&d.credential_id)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            Ok(())
        }

        pub(super) async fn confirm_mfa_device(
            conn: &mut $conn,
            device_id: &str,
            now_ms: i64,
            step: i64,
        ) -> StoreResult<bool> {
            let done = ::sqlx::query(
                "UPDATE mfa_devices SET confirmed_at = $2, last_used_at = $2, last_used_step = $3 \
                 WHERE id = $1 AND confirmed_at IS NULL",
            )
            .bind(device_id)
            .bind(now_ms)
            .bind(step)
            .execute(conn)
            .await
            .map_err(db)?;
            Ok(done.rows_affected() == 1)
        }

        pub(super) async fn use_mfa_step(
            conn: &mut $conn,
            device_id: &str,
            step: i64,
            now_ms: i64,
        ) -> StoreResult<bool> {
            let done = ::sqlx::query(
                "UPDATE mfa_devices SET last_used_step = $2, last_used_at = $3 \
                 WHERE id = $1 AND confirmed_at IS NOT NULL \
                 AND (last_used_step IS NULL OR last_used_step < $2)",
            )
            .bind(device_id)
            .bind(step)
            .bind(now_ms)
            .execute(conn)
            .await
            .map_err(db)?;
            Ok(done.rows_affected() == 1)
        }

        /// Deletes one device; when it was the user's last confirmed one,
        /// their recovery codes go with it (they stand in for a device).
        /// Run in a transaction.
        pub(super) async fn delete_mfa_device(
            conn: &mut $conn,
            environment_id: &str,
            user_id: &str,
            device_id: &str,
        ) -> StoreResult<bool> {
            let done = ::sqlx::query(
                "DELETE FROM mfa_devices WHERE id = $1 AND environment_id = $2 AND user_id = $3",
            )
            .bind(device_id)
            .bind(environment_id)
            .bind(user_id)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            ::sqlx::query(
                "DELETE FROM recovery_codes WHERE environment_id = $1 AND user_id = $2 \
                 AND NOT EXISTS (SELECT 1 FROM mfa_devices d WHERE d.environment_id = $1 \
                 AND d.user_id = $2 AND d.confirmed_at IS NOT NULL)",
            )
            .bind(environment_id)
            .bind(user_id)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            Ok(done.rows_affected() == 1)
        }

        pub(super) async fn reset_mfa(
            conn: &mut $conn,
            environment_id: &str,
            user_id: &str,
        ) -> StoreResult<u64> {
            ::sqlx::query("DELETE FROM recovery_codes WHERE environment_id = $1 AND user_id = $2")
                .bind(environment_id)
                .bind(user_id)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            let done =
                ::sqlx::query("DELETE FROM mfa_devices WHERE environment_id = $1 AND user_id = $2")
                    .bind(environment_id)
                    .bind(user_id)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
            Ok(done.rows_affected())
        }

        pub(super) async fn replace_recovery_codes(
            conn: &mut $conn,
            environment_id: &str,
            user_id: &str,
            codes: &[(String, Vec<u8>)],
            now_ms: i64,
        ) -> StoreResult<()> {
            ::sqlx::query("DELETE FROM recovery_codes WHERE environment_id = $1 AND user_id = $2")
                .bind(environment_id)
                .bind(user_id)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            for (id, mac) in codes {
                ::sqlx::query(
                    "INSERT INTO recovery_codes (id, environment_id, user_id, code_mac, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(environment_id)
                .bind(user_id)
                .bind(mac)
                .bind(now_ms)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            }
            Ok(())
        }

        pub(super) async fn unused_recovery_codes(
            pool: &$pool,
            environment_id: &str,
            user_id: &str,
        ) -> StoreResult<Vec<RecoveryCodeRecord>> {
            ::sqlx::query_as::<_, RecoveryCodeRecord>(
                "SELECT id, code_mac FROM recovery_codes \
                 WHERE environment_id = $1 AND user_id = $2 AND used_at IS NULL",
            )
            .bind(environment_id)
            .bind(user_id)
            .fetch_all(pool)
            .await
            .map_err(db)
        }

        pub(super) async fn use_recovery_code(
            conn: &mut $conn,
            code_id: &str,
            now_ms: i64,
        ) -> StoreResult<bool> {
            let done = ::sqlx::query(
                "UPDATE recovery_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL",
            )
            .bind(code_id)
            .bind(now_ms)
            .execute(conn)
            .await
            .map_err(db)?;
            Ok(done.rows_affected() == 1)
        }

        /// One statement, so that parallel attempts cannot all slip
        /// under the limit: the row is counted up only while the window
        /// is open and below `max`, or started afresh once it has closed.
        /// A window that closed locked (`max` reached) is followed by one
        /// twice as long (up to `longest_ms`); one that closed unlocked,
        /// by one of `window_ms`.
        pub(super) async fn spend_code_attempt(
            conn: &mut $conn,
            user_id: &str,
            now_ms: i64,
            window_ms: i64,
            max: i64,
            longest_ms: i64,
        ) -> StoreResult<CodeAttempt> {
            let counted: Option<i64> = ::sqlx::query_scalar(
                "INSERT INTO mfa_failures (user_id, failures, window_started_at, window_ms) \
                 VALUES ($1, 1, $2, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET \
                 failures = CASE WHEN mfa_failures.window_started_at + mfa_failures.window_ms <= $2 \
                     THEN 1 ELSE mfa_failures.failures + 1 END, \
                 window_ms = CASE \
                     WHEN mfa_failures.window_started_at + mfa_failures.window_ms > $2 \
                         THEN mfa_failures.window_ms \
                     WHEN mfa_failures.failures < $4 THEN $3 \
                     WHEN mfa_failures.window_ms * 2 > $5 THEN $5 \
                     ELSE mfa_failures.window_ms * 2 END, \
                 window_started_at = CASE \
                     WHEN mfa_failures.window_started_at + mfa_failures.window_ms <= $2 \
                     THEN $2 ELSE mfa_failures.window_started_at END \
                 WHERE mfa_failures.window_started_at + mfa_failures.window_ms <= $2 \
                     OR mfa_failures.failures < $4 \
                 RETURNING failures",
            )
            .bind(user_id)
            .bind(now_ms)
            .bind(window_ms)
            .bind(max)
            .bind(longest_ms)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
            if counted.is_some() {
                return Ok(CodeAttempt::Allowed);
            }
            let ends: Option<i64> = ::sqlx::query_scalar(
                "SELECT window_started_at + window_ms FROM mfa_failures WHERE user_id = $1",
            )
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
            // No row: a right code cleared the count in between.
            Ok(ends.map_or(CodeAttempt::Allowed, CodeAttempt::LockedUntil))
        }

        pub(super) async fn clear_code_attempts(
            conn: &mut $conn,
            user_id: &str,
        ) -> StoreResult<()> {
            ::sqlx::query("DELETE FROM mfa_failures WHERE user_id = $1")
                .bind(user_id)
                .execute(conn)
                .await
                .map_err(db)?;
            Ok(())
        }

        pub(super) async fn spend_elevated_token(
            conn: &mut $conn,
            jti: &str,
            expires_at_ms: i64,
        ) -> StoreResult<bool> {
            let done = ::sqlx::query(
                "INSERT INTO elevated_token_uses (jti, expires_at) VALUES ($1, $2) \
                 ON CONFLICT (jti) DO NOTHING",
            )
            .bind(jti)
            .bind(expires_at_ms)
            .execute(conn)
            .await
            .map_err(db)?;
            Ok(done.rows_affected() == 1)
        }

        pub(super) async fn elevated_token_spent(pool: &$pool, jti: &str) -> StoreResult<bool> {
            let spent: Option<i64> =
                ::sqlx::query_scalar("SELECT CAST(1 AS BIGINT) FROM elevated_token_uses WHERE jti = $1")
                    .bind(jti)
                    .fetch_optional(pool)
                    .await
                    .map_err(db)?;
            Ok(spent.is_some())
        }

        pub(super) async fn prune_mfa(conn: &mut $conn, now_ms: i64) -> StoreResult<()> {
            ::sqlx::query("DELETE FROM elevated_token_uses WHERE expires_at < $1")
                .bind(now_ms)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            ::sqlx::query("DELETE FROM webauthn_challenges WHERE expires_at < $1")
                .bind(now_ms)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            Ok(())
        }

        pub(super) async fn insert_challenge(
            conn: &mut $conn,
            c: &ChallengeRecord,
        ) -> StoreResult<()> {
            ::sqlx::query(
                "INSERT INTO webauthn_challenges (id, environment_id, session_id, purpose, state, \
                 created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&c.id)
            .bind(&c.environment_id)
            .bind(&c.session_id)
            .bind(&c.purpose)
            .bind(&c.state)
            .bind(c.created_at)
            .bind(c.expires_at)
            .execute(conn)
            .await
            .map_err(db)?;
            Ok(())
        }

        pub(super) async fn take_challenge(
            conn: &mut $conn,
            environment_id: &str,
            challenge_id: &str,
            session_id: &str,
            purpose: &str,
            now_ms: i64,
        ) -> StoreResult<Option<String>> {
            ::sqlx::query_scalar(
                "UPDATE webauthn_challenges SET used_at = $5 WHERE id = $1 AND environment_id = $2 \
                 AND session_id = $3 AND purpose = $4 AND used_at IS NULL AND expires_at > $5 \
                 RETURNING state",
            )
            .bind(challenge_id)
            .bind(environment_id)
            .bind(session_id)
            .bind(purpose)
            .bind(now_ms)
            .fetch_optional(conn)
            .await
            .map_err(db)
        }

        pub(super) async fn update_credential(
            conn: &mut $conn,
            device_id: &str,
            credential: &str,
            now_ms: i64,
        ) -> StoreResult<()> {
            ::sqlx::query("UPDATE mfa_devices SET credential = $2, last_used_at = $3 WHERE id = $1")
                .bind(device_id)
                .bind(credential)
                .bind(now_ms)
                .execute(conn)
                .await
                .map_err(db)?;
            Ok(())
        }

        /// The session's scope and methods once its second factor is proved.
        pub(super) async fn complete_session_mfa(
            conn: &mut $conn,
            environment_id: &str,
            session_id: &str,
            scope: &str,
            amr: &str,
        ) -> StoreResult<bool> {
            let done = ::sqlx::query(
                "UPDATE sessions SET scope = $3, amr = $4 WHERE id = $1 AND environment_id = $2",
            )
            .bind(session_id)
            .bind(environment_id)
            .bind(scope)
            .bind(amr)
            .execute(conn)
            .await
            .map_err(db)?;
            Ok(done.rows_affected() == 1)
        }

        /// Makes job `name` known (due at once) if it is not yet.
        pub(super) async fn add_job(conn: &mut $conn, name: &str) -> StoreResult<()> {
            ::sqlx::query("INSERT INTO jobs (name, next_run_at) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .execute(conn)
                .await
                .map_err(db)?;
            Ok(())
        }

        pub(super) async fn session(
            pool: &$pool,
            environment_id: &str,
            session_id: &str,
        ) -> StoreResult<Option<SessionView>> {
            let row = ::sqlx::query_as::<_, ViewRow>(AssertSqlSafe(format!(
                "{SELECT_VIEW} WHERE s.id = $1 AND s.environment_id = $2"
            )))
            .bind(session_id)
            .bind(environment_id)
            .fetch_optional(pool)
            .await
            .map_err(db)?;
            Ok(row.map(Into::into))
        }

        pub(super) async fn sessions_of_user(
            pool: &$pool,
            environment_id: &str,
            user_id: &str,
            filter: &SessionFilter,
        ) -> StoreResult<Vec<SessionView>> {
            let condition = match filter {
                SessionFilter::All => "1 = 1".to_string(),
                SessionFilter::Revoked => REVOKED.to_string(),
                SessionFilter::NotRevoked | SessionFilter::Live(_) => format!("NOT {REVOKED}"),
            };
            // Only `Live` limits expiry; the others see every session.
            let now = match filter {
                SessionFilter::Live(now) => *now,
                _ => i64::MIN,
            };
            // `condition` is one of the constant fragments above, never input.
            let rows = ::sqlx::query_as::<_, ViewRow>(AssertSqlSafe(format!(
                "{SELECT_VIEW} WHERE s.environment_id = $1 AND s.user_id = $2 AND +s.expires_at > $3 \
                 AND {condition} ORDER BY s.created_at DESC, s.id"
            )))
            .bind(environment_id)
            .bind(user_id)
            .bind(now)
            .fetch_all(pool)
            .await
            .map_err(db)?;
            Ok(rows.into_iter().map(Into::into).collect())
        }

        /// Revokes one session; `None` if it does not exist in the
        /// environment. Revoking a revoked session changes nothing.
        pub(super) async fn revoke_session(
            conn: &mut $conn,
            environment_id: &str,
            session_id: &str,
            r: &Revocation,
        ) -> StoreResult<Option<(SessionView, bool)>> {
            let found: Option<(i64, bool)> = ::sqlx::query_as(AssertSqlSafe(format!(
                "SELECT s.expires_at, {} {FROM_JOINED} WHERE s.id = $1 AND s.environment_id = $2{}",
                alive("$3"),
                $lock_session
            )))
            .bind(session_id)
            .bind(environment_id)
            .bind(r.at)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
            let Some((expires_at, was_alive)) = found else {
                return Ok(None);
            };
            ::sqlx::query(
                "UPDATE sessions SET revoked_at = $1, revoked_by_kind = $2, revoked_by_id = $3 \
                 WHERE id = $4 AND revoked_at IS NULL",
            )
            .bind(r.at)
            .bind(&r.by_kind)
            .bind(&r.by_id)
            .bind(session_id)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            if was_alive {
                add_to_count(&mut *conn, environment_id, expires_at, -1).await?;
            }
            let view = ::sqlx::query_as::<_, ViewRow>(AssertSqlSafe(format!(
                "{SELECT_VIEW} WHERE s.id = $1 AND s.environment_id = $2"
            )))
            .bind(session_id)
            .bind(environment_id)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
            Ok(Some((view.into(), was_alive)))
        }

        pub(super) async fn revoked_unexpired(
            pool: &$pool,
            now_s: i64,
        ) -> StoreResult<Vec<(String, i64)>> {
            ::sqlx::query_as(
                "SELECT id, expires_at / 1000 FROM sessions \
                 WHERE revoked_at IS NOT NULL AND expires_at > $1",
            )
            .bind(now_s.saturating_mul(1000))
            .fetch_all(pool)
            .await
            .map_err(db)
        }

        pub(super) async fn meta(pool: &$pool, key: &str) -> StoreResult<Option<String>> {
            ::sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await
                .map_err(db)
        }

        pub(super) async fn origins(
            pool: &$pool,
            environment_id: &str,
        ) -> StoreResult<Vec<OriginRecord>> {
            ::sqlx::query_as::<_, OriginRecord>(concat!(
                "SELECT id, environment_id, origin, created_at FROM origins \
                 WHERE environment_id = $1 ORDER BY ",
                $order
            ))
            .bind(environment_id)
            .fetch_all(pool)
            .await
            .map_err(db)
        }

        /// Counts under the environment's row lock, so parallel adds cannot
        /// pass the limit together.
        /// Locks the environment's row for the transaction (PostgreSQL), so
        /// that counts of what it holds stay true until the commit.
        pub(super) async fn lock_environment(conn: &mut $conn, environment_id: &str) -> StoreResult<()> {
            let exists: Option<String> = ::sqlx::query_scalar(concat!(
                "SELECT id FROM environments WHERE id = $1",
                $lock
            ))
            .bind(environment_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
            exists.map(|_| ()).ok_or(StoreError::NotFound)
        }

        /// Whether the environment holds fewer than `limit` rows of `table`
        /// (one of ours, never input), counted under its row lock so that
        /// parallel inserts cannot pass the limit together.
        pub(super) async fn has_room(
            conn: &mut $conn,
            table: &'static str,
            environment_id: &str,
            limit: i64,
        ) -> StoreResult<bool> {
            lock_environment(&mut *conn, environment_id).await?;
            let held: i64 = ::sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM {table} WHERE environment_id = $1"
            )))
            .bind(environment_id)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
            Ok(held < limit)
        }

        pub(super) async fn add_origin(
            conn: &mut $conn,
            o: &OriginRecord,
            limit: i64,
        ) -> StoreResult<bool> {
            if !has_room(&mut *conn, "origins", &o.environment_id, limit).await? {
                return Ok(false);
            }
            ::sqlx::query(
                "INSERT INTO origins (id, environment_id, origin, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&o.id)
            .bind(&o.environment_id)
            .bind(&o.origin)
            .bind(o.created_at)
            .execute(conn)
            .await
            .map_err(db)?;
            Ok(true)
        }

        pub(super) async fn delete_origin(
            conn: &mut $conn,
            environment_id: &str,
            origin_id: &str,
        ) -> StoreResult<bool> {
            let deleted = ::sqlx::query("DELETE FROM origins WHERE environment_id = $1 AND id = $2")
                .bind(environment_id)
                .bind(origin_id)
                .execute(conn)
                .await
                .map_err(db)?
                .rows_affected();
            Ok(deleted > 0)
        }

        /// Sets `key` unless it is set; returns what is stored.
        pub(super) async fn init_meta(conn: &mut $conn, key: &str, value: &str) -> StoreResult<String> {
            ::sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(value)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            ::sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
                .bind(key)
                .fetch_one(conn)
                .await
                .map_err(db)
        }
    };
}

pub(crate) use shared_queries;
