//! Members' sign-ins, sessions and TOTP: reads on the pool, writes
//! through the writer.

use async_trait::async_trait;

use super::{SqliteDb, member_access_sql as sql};
use crate::store::{
    MemberAccessStore, MemberSessionView, MemberSignInRecord, MemberTotpRecord, NewMemberSession,
    SignInAttempt, StoreResult,
};

#[async_trait]
impl MemberAccessStore for SqliteDb {
    async fn insert_sign_in(&self, sign_in: &MemberSignInRecord) -> StoreResult<()> {
        let s = sign_in.clone();
        self.writer
            .statement(move |c| Box::pin(async move { sql::insert_sign_in(c, &s).await }))
            .await
    }

    async fn attempt_sign_in(
        &self,
        organization_id: &str,
        sign_in_id: &str,
        max_attempts: i64,
        now: i64,
        code_mac: &[u8],
    ) -> StoreResult<SignInAttempt> {
        let (org, id, mac) = (
            organization_id.to_string(),
            sign_in_id.to_string(),
            code_mac.to_vec(),
        );
        self.writer
            .statement(move |c| {
                Box::pin(async move {
                    sql::attempt_sign_in(c, &org, &id, max_attempts, now, &mac).await
                })
            })
            .await
    }

    async fn begin_session(
        &self,
        sign_in_id: &str,
        session: &NewMemberSession,
        now: i64,
    ) -> StoreResult<bool> {
        let (id, s) = (sign_in_id.to_string(), session.clone());
        self.writer
            .transaction(move |c| {
                Box::pin(async move { sql::begin_session(c, &id, &s, now).await })
            })
            .await
    }

    async fn session(&self, id_hash: &[u8]) -> StoreResult<Option<MemberSessionView>> {
        sql::session(&self.pool, id_hash).await
    }

    async fn touch_session(&self, id_hash: &[u8], now: i64) -> StoreResult<()> {
        let h = id_hash.to_vec();
        self.writer
            .statement(move |c| Box::pin(async move { sql::touch_session(c, &h, now).await }))
            .await
    }

    async fn complete_session(
        &self,
        id_hash: &[u8],
        new_hash: &[u8],
        now: i64,
    ) -> StoreResult<bool> {
        let (h, n) = (id_hash.to_vec(), new_hash.to_vec());
        self.writer
            .transaction(move |c| {
                Box::pin(async move { sql::complete_session(c, &h, &n, now).await })
            })
            .await
    }

    async fn end_session(&self, id_hash: &[u8]) -> StoreResult<()> {
        let h = id_hash.to_vec();
        self.writer
            .statement(move |c| Box::pin(async move { sql::end_session(c, &h).await }))
            .await
    }

    async fn totp(&self, member_id: &str) -> StoreResult<Option<MemberTotpRecord>> {
        sql::totp(&self.pool, member_id).await
    }

    async fn begin_totp(&self, record: &MemberTotpRecord) -> StoreResult<bool> {
        let r = record.clone();
        self.writer
            .statement(move |c| Box::pin(async move { sql::begin_totp(c, &r).await }))
            .await
    }

    async fn confirm_totp(
        &self,
        member_id: &str,
        begun_at: i64,
        at: i64,
        step: i64,
    ) -> StoreResult<bool> {
        let m = member_id.to_string();
        self.writer
            .statement(move |c| {
                Box::pin(async move { sql::confirm_totp(c, &m, begun_at, at, step).await })
            })
            .await
    }

    async fn use_totp_step(&self, member_id: &str, step: i64) -> StoreResult<bool> {
        let m = member_id.to_string();
        self.writer
            .statement(move |c| Box::pin(async move { sql::use_totp_step(c, &m, step).await }))
            .await
    }

    async fn delete_totp(&self, member_id: &str) -> StoreResult<bool> {
        let m = member_id.to_string();
        self.writer
            .statement(move |c| Box::pin(async move { sql::delete_totp(c, &m).await }))
            .await
    }

    async fn set_require_member_mfa(&self, organization_id: &str, on: bool) -> StoreResult<()> {
        let o = organization_id.to_string();
        self.writer
            .statement(move |c| {
                Box::pin(async move { sql::set_require_member_mfa(c, &o, on).await })
            })
            .await
    }

    async fn prune_member_access(&self, now: i64, idle_ms: i64) -> StoreResult<()> {
        self.writer
            .statement(move |c| {
                Box::pin(async move { sql::prune_member_access(c, now, idle_ms).await })
            })
            .await
    }
}
