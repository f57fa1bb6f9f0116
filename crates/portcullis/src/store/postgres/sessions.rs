use async_trait::async_trait;
use sqlx::{AssertSqlSafe, FromRow, Row};

use crate::store::sessions::view::{
    SESSION_CREATED_SELECT, SIGN_IN_EVENT_COLUMNS, USER_CREATED_SELECT, bind_sign_in,
    confirmed_device_counts, device_kinds,
};

use super::{PgDb, db, feed_sql, sessions_sql};
use crate::store::{
    Change, CredentialKey, EventRecord, FeedPage, Revocation, SessionFilter, SessionRecord,
    SessionStore, SessionView, SignInEventIds, SignInRecord, StoreResult, UsedCode, UserRecord,
};

#[async_trait]
impl SessionStore for PgDb {
    async fn sign_in(
        &self,
        proof: &UsedCode,
        credential: &CredentialKey,
        candidate: &UserRecord,
        session: &SessionRecord,
        events: &SignInEventIds,
    ) -> StoreResult<Option<SignInRecord>> {
        // One statement: using the code up, the inserts and updates are
        // data-modifying CTEs, each fed by the one before, so a code used
        // meanwhile (its row lock makes a concurrent use wait, then see it
        // used) leaves every one empty. `found` is the credential's user,
        // if any; otherwise `u_new` and `cred_new` create the candidate and
        // its credential. Two first sign-ins of one new credential: both
        // find none, and the later insert of the credential waits for the
        // earlier to commit, then breaks `verified_credentials_value`,
        // rolling its whole statement back (its code unused) for the
        // service to try again. Not `ON CONFLICT DO UPDATE`: the winner's
        // user row would be invisible to the loser's snapshot.
        let query = sqlx::query(AssertSqlSafe(format!(
            "WITH c AS ( \
                 UPDATE verifications SET consumed_at = $16, consumed_by = $5 \
                 WHERE id = $17 AND consumed_at IS NULL RETURNING id), \
             found AS ( \
                 SELECT vc.id, vc.user_id FROM verified_credentials vc, c \
                 WHERE vc.environment_id = $2 AND vc.kind = $18 AND vc.value = $19), \
             u_new AS ( \
                 INSERT INTO users (id, environment_id, email, phone_number, wallet, created_at) \
                 SELECT $1, $2, $3, $21, $22, $4 FROM c WHERE NOT EXISTS (SELECT 1 FROM found) \
                 RETURNING *), \
             cred_new AS ( \
                 INSERT INTO verified_credentials (id, environment_id, user_id, kind, value, \
                     verified_at, last_used_at, created_at) \
                 SELECT $20, $2, u_new.id, $18, $19, $4, $4, $4 FROM u_new RETURNING id), \
             touch AS ( \
                 UPDATE verified_credentials SET last_used_at = $4 \
                 WHERE id IN (SELECT id FROM found) RETURNING id), \
             u AS ( \
                 SELECT * FROM u_new \
                 UNION ALL SELECT users.* FROM users JOIN found ON users.id = found.user_id), \
             s AS ( \
                 INSERT INTO sessions (id, environment_id, user_id, iat, env_epoch, user_epoch, \
                     created_at, expires_at, ip_address, user_agent, amr, scope) \
                 SELECT $5, u.environment_id, u.id, $6, GREATEST($7, e.sessions_epoch), u.sessions_epoch, \
                     $8, $9, $10, $11, $12, $13 \
                 FROM u JOIN environments e ON e.id = u.environment_id \
                 RETURNING env_epoch, user_epoch), \
             ev_s AS ({SIGN_IN_EVENT_COLUMNS} {SESSION_CREATED_SELECT} \
                 FROM u JOIN environments e ON e.id = u.environment_id \
                 WHERE $14::text IS NOT NULL), \
             ev_u AS ({SIGN_IN_EVENT_COLUMNS} {USER_CREATED_SELECT} \
                 FROM u JOIN environments e ON e.id = u.environment_id \
                 WHERE u.id = $1 AND $15::text IS NOT NULL) \
             SELECT u.*, s.env_epoch AS session_env_epoch, s.user_epoch AS session_user_epoch, {} \
             FROM u, s",
            confirmed_device_counts("u.environment_id", "u.id")
        )));
        let row = bind_sign_in(query, proof, credential, candidate, session, events)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let user = UserRecord::from_row(&row).map_err(db)?;
        let mut session = session.clone();
        session.user_id = user.id.clone();
        session.env_epoch = row.try_get("session_env_epoch").map_err(db)?;
        session.user_epoch = row.try_get("session_user_epoch").map_err(db)?;
        let mfa_kinds = device_kinds(
            row.try_get("totp_devices").map_err(db)?,
            row.try_get("passkey_devices").map_err(db)?,
        );
        Ok(Some(SignInRecord {
            user,
            session,
            mfa_kinds,
        }))
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
        let mut tx = self.write().await?;
        let Some(view) =
            sessions_sql::revoke_session_recorded(&mut tx, environment_id, session_id, r, event)
                .await?
        else {
            return Ok(None);
        };
        let change = Change::SessionRevoked {
            session_id: session_id.to_string(),
            exp: view.session.expires_at / 1000,
        };
        tx.publish(change);
        tx.commit().await?;
        Ok(Some(view))
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
        let (ids, ats): (Vec<String>, Vec<i64>) = activity.iter().cloned().unzip();
        sqlx::query(
            "UPDATE sessions SET last_active_at = GREATEST(COALESCE(last_active_at, 0), a.at) \
             FROM UNNEST($1::TEXT[], $2::BIGINT[]) AS a(id, at) WHERE sessions.id = a.id",
        )
        .bind(&ids)
        .bind(&ats)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn prune_expired(&self, now_ms: i64) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        sessions_sql::prune_session_counts(&mut conn, now_ms).await
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
        let mut tx = self.write().await?;
        feed_sql::prune_revocation_log(&mut tx, before_ms).await?;
        tx.commit().await
    }

    async fn complete_mfa(
        &self,
        environment_id: &str,
        session_id: &str,
        scope: &str,
        amr: &str,
    ) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        sessions_sql::complete_session_mfa(&mut conn, environment_id, session_id, scope, amr).await
    }
}
