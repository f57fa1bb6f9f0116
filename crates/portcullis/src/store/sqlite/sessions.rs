use async_trait::async_trait;
use sqlx::{AssertSqlSafe, FromRow, Row};

use crate::store::sessions::view::{
    SESSION_CREATED_SELECT, SIGN_IN_EVENT_COLUMNS, USER_CREATED_SELECT, bind_sign_in,
    confirmed_device_counts, device_kinds,
};

use super::{SqliteDb, db, feed_sql, sessions_sql};
use crate::store::{
    CredentialKey, EventRecord, FeedPage, Revocation, SessionFilter, SessionRecord, SessionStore,
    SessionView, SignInEventIds, SignInRecord, StoreError, StoreResult, UsedCode, UserRecord,
};

/// "The verification `$17` was used up by this sign-in (session `$5`)".
const USED_HERE: &str = "EXISTS (SELECT 1 FROM verifications WHERE id = $17 AND consumed_by = $5)";

#[async_trait]
impl SessionStore for SqliteDb {
    async fn sign_in(
        &self,
        proof: &UsedCode,
        credential: &CredentialKey,
        candidate: &UserRecord,
        session: &SessionRecord,
        events: &SignInEventIds,
    ) -> StoreResult<Option<SignInRecord>> {
        let (proof, credential, user, mut session, events) = (
            proof.clone(),
            credential.clone(),
            candidate.clone(),
            session.clone(),
            events.clone(),
        );
        // One round trip (sqlx runs a multi-statement query and numbers its
        // parameters across all of it). The verification is used up and
        // marked with the new session's id `$5`; every later statement runs
        // only where that mark is (`{USED_HERE}`), so a verification used
        // meanwhile stops everything at the first statement. Then: the
        // candidate user `$1` is inserted only if no user holds the
        // credential; the credential is inserted for `$1`, or, held
        // already, marked used; the session is inserted for the
        // credential's user and returns the epochs it read; the user is
        // read back. Then the events wanted: `user.session.created` only if
        // the session `$5` exists (this query made it), `user.created`
        // only for a user with the new id `$1`, which exists only if this
        // query created it. The one writer runs nothing in between. There
        // is no savepoint (two more round trips on the hot path): should a
        // later statement fail (an I/O error, an id collision), the code
        // stays used, the sign-in answers 500 and the address asks for a
        // new code; a user may stay without a session, which is harmless.
        self.writer
            .statement(move |c| {
                Box::pin(async move {
                    let mut sql = format!(
                        "UPDATE verifications SET consumed_at = $16, consumed_by = $5 \
                             WHERE id = $17 AND consumed_at IS NULL; \
                         INSERT INTO users (id, environment_id, email, phone_number, wallet, created_at) \
                         SELECT $1, $2, $3, $21, $22, $4 WHERE {USED_HERE} AND NOT EXISTS ( \
                             SELECT 1 FROM verified_credentials \
                             WHERE environment_id = $2 AND kind = $18 AND value = $19); \
                         INSERT INTO verified_credentials (id, environment_id, user_id, kind, value, \
                             verified_at, last_used_at, created_at) \
                         SELECT $20, $2, $1, $18, $19, $4, $4, $4 WHERE {USED_HERE} \
                         ON CONFLICT (environment_id, kind, value) \
                         DO UPDATE SET last_used_at = excluded.last_used_at; \
                         INSERT INTO sessions (id, environment_id, user_id, iat, env_epoch, user_epoch, \
                             created_at, expires_at, ip_address, user_agent, amr, scope) \
                         SELECT $5, u.environment_id, u.id, $6, MAX($7, e.sessions_epoch), u.sessions_epoch, \
                             $8, $9, $10, $11, $12, $13 \
                         FROM verified_credentials c JOIN users u ON u.id = c.user_id \
                         JOIN environments e ON e.id = u.environment_id \
                         WHERE c.environment_id = $2 AND c.kind = $18 AND c.value = $19 AND {USED_HERE} \
                         RETURNING user_id, env_epoch, user_epoch, {}; \
                         SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $5",
                        confirmed_device_counts("sessions.environment_id", "sessions.user_id")
                    );
                    // The events' statements only when a webhook takes them:
                    // each statement is one more message from sqlx's thread.
                    if events.session_created.is_some() {
                        sql.push_str(&format!(
                            "; {SIGN_IN_EVENT_COLUMNS} {SESSION_CREATED_SELECT} \
                             FROM sessions s JOIN users u ON u.id = s.user_id \
                             JOIN environments e ON e.id = u.environment_id WHERE s.id = $5"
                        ));
                    }
                    if events.user_created.is_some() {
                        sql.push_str(&format!(
                            "; {SIGN_IN_EVENT_COLUMNS} {USER_CREATED_SELECT} \
                             FROM users u JOIN environments e ON e.id = u.environment_id \
                             WHERE u.id = $1"
                        ));
                    }
                    let query = sqlx::query(AssertSqlSafe(sql));
                    let rows = bind_sign_in(query, &proof, &credential, &user, &session, &events)
                        .fetch_all(&mut *c)
                        .await
                        .map_err(db)?;
                    if rows.is_empty() {
                        return Ok(None);
                    }
                    let [session_row, user_row] = rows.as_slice() else {
                        return Err(StoreError::Database(format!(
                            "sign-in returned {} rows, not 2",
                            rows.len()
                        )));
                    };
                    let user = UserRecord::from_row(user_row).map_err(db)?;
                    session.user_id = session_row.try_get(0).map_err(db)?;
                    session.env_epoch = session_row.try_get(1).map_err(db)?;
                    session.user_epoch = session_row.try_get(2).map_err(db)?;
                    let mfa_kinds = device_kinds(
                        session_row.try_get(3).map_err(db)?,
                        session_row.try_get(4).map_err(db)?,
                    );
                    Ok(Some(SignInRecord {
                        user,
                        session,
                        mfa_kinds,
                    }))
                })
            })
            .await
    }

    async fn get(
        &self,
        environment_id: &str,
        session_id: &str,
    ) -> StoreResult<Option<SessionView>> {
        sessions_sql::session(&self.pool, environment_id, session_id).await
    }

    async fn list_for_user(
        &self,
        environment_id: &str,
        user_id: &str,
        filter: &SessionFilter,
    ) -> StoreResult<Vec<SessionView>> {
        sessions_sql::sessions_of_user(&self.pool, environment_id, user_id, filter).await
    }

    async fn revoke(
        &self,
        environment_id: &str,
        session_id: &str,
        r: &Revocation,
        event: &EventRecord,
    ) -> StoreResult<Option<SessionView>> {
        let (environment_id, session_id, r, event) = (
            environment_id.to_string(),
            session_id.to_string(),
            r.clone(),
            event.clone(),
        );
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
                    sessions_sql::revoke_session_recorded(
                        c,
                        &environment_id,
                        &session_id,
                        &r,
                        &event,
                    )
                    .await
                })
            })
            .await
    }

    async fn count_live(&self, environment_id: &str, now: i64) -> StoreResult<u64> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        sessions_sql::live_sessions(&mut conn, environment_id, now).await
    }

    async fn revoked_unexpired(&self, now_s: i64) -> StoreResult<Vec<(String, i64)>> {
        sessions_sql::revoked_unexpired(&self.pool, now_s).await
    }

    async fn record_activity(&self, activity: &[(String, i64)]) -> StoreResult<()> {
        if activity.is_empty() {
            return Ok(());
        }
        let activity = activity.to_vec();
        self.writer
            .transaction(move |c| {
                Box::pin(async move {
        for (id, at) in &activity {
            sqlx::query("UPDATE sessions SET last_active_at = MAX(COALESCE(last_active_at, 0), $1) WHERE id = $2")
                .bind(at)
                .bind(id)
                .execute(&mut *c)
                .await
                .map_err(db)?;
        }
        Ok(())
                })
            })
            .await
    }

    async fn prune_expired(&self, now_ms: i64) -> StoreResult<()> {
        self.writer
            .statement(move |c| {
                Box::pin(async move { sessions_sql::prune_session_counts(c, now_ms).await })
            })
            .await
    }

    async fn revocation_feed(
        &self,
        environment_id: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<FeedPage> {
        feed_sql::revocation_feed(&self.pool, environment_id, after, limit).await
    }

    async fn prune_revocation_log(&self, before_ms: i64) -> StoreResult<()> {
        self.writer
            .transaction(move |c| {
                Box::pin(async move { feed_sql::prune_revocation_log(c, before_ms).await })
            })
            .await
    }

    async fn complete_mfa(
        &self,
        environment_id: &str,
        session_id: &str,
        scope: &str,
        amr: &str,
    ) -> StoreResult<bool> {
        let (env, sid, scope, amr) = (
            environment_id.to_string(),
            session_id.to_string(),
            scope.to_string(),
            amr.to_string(),
        );
        self.writer
            .statement(move |c| {
                Box::pin(async move {
                    sessions_sql::complete_session_mfa(c, &env, &sid, &scope, &amr).await
                })
            })
            .await
    }
}
