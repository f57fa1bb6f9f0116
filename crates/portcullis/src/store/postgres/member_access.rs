//! Members' sign-ins, sessions and TOTP. The sign-in attempt's UPDATE
//! locks its row, so concurrent attempts from any node take turns.

use async_trait::async_trait;

use super::{PgDb, db, member_access_sql as sql};
use crate::store::{
    MemberAccessStore, MemberSessionView, MemberSignInRecord, MemberTotpRecord, NewMemberSession,
    SignInAttempt, StoreResult,
};

#[async_trait]
impl MemberAccessStore for PgDb {
    async fn insert_sign_in(&self, sign_in: &MemberSignInRecord) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        sql::insert_sign_in(&mut conn, sign_in).await
    }

    async fn attempt_sign_in(
        &self,
        organization_id: &str,
        sign_in_id: &str,
        max_attempts: i64,
        now: i64,
        code_mac: &[u8],
    ) -> StoreResult<SignInAttempt> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        sql::attempt_sign_in(
            &mut conn,
            organization_id,
            sign_in_id,
            max_attempts,
            now,
            code_mac,
        )
        .await
    }

    async fn begin_session(
        &self,
        sign_in_id: &str,
        session: &NewMemberSession,
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let begun = sql::begin_session(&mut tx, sign_in_id, session, now).await?;
        tx.commit().await?;
        Ok(begun)
    }

    async fn session(&self, id_hash: &[u8]) -> StoreResult<Option<MemberSessionView>> {
        sql::session(&self.pool, id_hash).await
    }

    async fn touch_session(&self, id_hash: &[u8], now: i64) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        sql::touch_session(&mut conn, id_hash, now).await
    }

    async fn complete_session(
        &self,
        id_hash: &[u8],
        new_hash: &[u8],
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let done = sql::complete_session(&mut tx, id_hash, new_hash, now).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn end_session(&self, id_hash: &[u8]) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        sql::end_session(&mut conn, id_hash).await
    }

    async fn totp(&self, member_id: &str) -> StoreResult<Option<MemberTotpRecord>> {
        sql::totp(&self.pool, member_id).await
    }

    async fn begin_totp(&self, record: &MemberTotpRecord) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        sql::begin_totp(&mut conn, record).await
    }

    async fn confirm_totp(
        &self,
        member_id: &str,
        begun_at: i64,
        at: i64,
        step: i64,
    ) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        sql::confirm_totp(&mut conn, member_id, begun_at, at, step).await
    }

    async fn use_totp_step(&self, member_id: &str, step: i64) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        sql::use_totp_step(&mut conn, member_id, step).await
    }

    async fn delete_totp(&self, member_id: &str) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        sql::delete_totp(&mut conn, member_id).await
    }

    async fn set_require_member_mfa(&self, organization_id: &str, on: bool) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        sql::set_require_member_mfa(&mut conn, organization_id, on).await
    }

    async fn prune_member_access(&self, now: i64, idle_ms: i64) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        sql::prune_member_access(&mut conn, now, idle_ms).await
    }
}
