//! SQL that both backends run as it is: the session view, and the
//! predicates that decide whether a session is alive or revoked.

use sqlx::FromRow;

use sqlx::query::Query;
use sqlx::{Database, Encode, Type};

use crate::store::{
    CredentialKey, Revocation, ScopeRevocation, SessionRecord, SessionView, SignInEventIds,
    UsedCode, UserRecord,
};

pub(in crate::store) const MINUTE_MS: i64 = 60_000;

/// The user's confirmed MFA devices by kind, as columns `totp_devices` and
/// `passkey_devices`, for the user whose id is the SQL expression `user`
/// in the environment `environment` (so that `mfa_devices_by_user` finds
/// them: without it the passkey count scanned every device): a sign-in
/// learns them in the statement that stores it.
pub(in crate::store) fn confirmed_device_counts(environment: &str, user: &str) -> String {
    let count = |kind: &str| {
        format!(
            "(SELECT COUNT(*) FROM mfa_devices d WHERE d.environment_id = {environment} \
             AND d.user_id = {user} AND d.confirmed_at IS NOT NULL AND d.kind = '{kind}')"
        )
    };
    format!(
        "{} AS totp_devices, {} AS passkey_devices",
        count("totp"),
        count("passkey")
    )
}

/// The kinds of device the counts of `confirmed_device_counts` name.
pub(in crate::store) fn device_kinds(totp: i64, passkey: i64) -> Vec<String> {
    [("totp", totp), ("passkey", passkey)]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(kind, _)| kind.to_string())
        .collect()
}

/// "Alive and not revoked in any scope" over `sessions s`, `users u`,
/// `environments e`, at the instant (ms) bound to placeholder `now`.
pub(in crate::store) fn alive(now: &str) -> String {
    alive_with(now, "")
}

/// `alive`, for a query that names the user (`s.user_id = …`): the unary
/// `+` keeps SQLite from reading the environment's sessions by expiry or
/// epoch (nearly all of them) instead of the user's by `sessions_by_user`.
pub(in crate::store) fn alive_of_one_user(now: &str) -> String {
    alive_with(now, "+")
}

fn alive_with(now: &str, unindexed: &str) -> String {
    format!(
        "{unindexed}s.expires_at > {now} AND s.revoked_at IS NULL \
         AND s.user_epoch >= u.sessions_epoch AND {unindexed}s.env_epoch >= e.sessions_epoch"
    )
}

pub(in crate::store) const FROM_JOINED: &str = "FROM sessions s JOIN users u ON u.id = s.user_id JOIN environments e ON e.id = s.environment_id";

/// Adds `delta` to the live-session counter of an expiry minute.
pub(in crate::store) const ADD_TO_COUNT: &str = "INSERT INTO session_counts (environment_id, expires_minute, live) VALUES ($1, $2, $3) \
     ON CONFLICT (environment_id, expires_minute) DO UPDATE SET live = session_counts.live + excluded.live";

pub(in crate::store) const SELECT_VIEW: &str = "SELECT s.*, \
    u.sessions_epoch AS u_epoch, u.sessions_revoked_at AS u_at, \
    u.sessions_revoked_by_kind AS u_kind, u.sessions_revoked_by_id AS u_by, \
    e.sessions_epoch AS e_epoch, e.sessions_revoked_at AS e_at, \
    e.sessions_revoked_by_kind AS e_kind, e.sessions_revoked_by_id AS e_by \
    FROM sessions s JOIN users u ON u.id = s.user_id JOIN environments e ON e.id = s.environment_id";

pub(in crate::store) const REVOKED: &str = "(s.revoked_at IS NOT NULL OR s.user_epoch < u.sessions_epoch \
    OR s.env_epoch < e.sessions_epoch)";

#[derive(FromRow)]
pub(in crate::store) struct ViewRow {
    #[sqlx(flatten)]
    session: SessionRecord,
    u_epoch: i64,
    u_at: Option<i64>,
    u_kind: Option<String>,
    u_by: Option<String>,
    e_epoch: i64,
    e_at: Option<i64>,
    e_kind: Option<String>,
    e_by: Option<String>,
}

/// A scope's latest revocation; none while its epoch is 0.
fn scope_revocation(
    epoch: i64,
    at: Option<i64>,
    kind: Option<String>,
    by: Option<String>,
) -> Option<ScopeRevocation> {
    (epoch > 0).then_some(())?;
    Some(ScopeRevocation {
        epoch,
        revocation: Revocation {
            at: at?,
            by_kind: kind?,
            by_id: by,
        },
    })
}

impl From<ViewRow> for SessionView {
    fn from(r: ViewRow) -> Self {
        SessionView {
            session: r.session,
            user_revocation: scope_revocation(r.u_epoch, r.u_at, r.u_kind, r.u_by),
            environment_revocation: scope_revocation(r.e_epoch, r.e_at, r.e_kind, r.e_by),
        }
    }
}

/// The events of a sign-in, as `INSERT … SELECT` bodies over a user `u`
/// joined with its environment `e`; parameters: `$1` the id a new user
/// gets, `$5` the session id, `$8` its creation time, `$10` the client's
/// address, `$14` and `$15` the events' ids (NULL: not written). The user
/// is created by this sign-in exactly when its id is `$1`. PostgreSQL adds
/// `AND $14 IS NOT NULL` (`$15`) to the conditions; SQLite leaves a
/// statement out when its id is NULL.
pub const SIGN_IN_EVENT_COLUMNS: &str = "INSERT INTO events (id, organization_id, \
     environment_id, type, actor_kind, actor_id, ip_address, subject_id, created_at)";
pub const SESSION_CREATED_SELECT: &str = "SELECT $14, e.organization_id, e.id, \
     'user.session.created', 'user', u.id, $10, $5, $8";
pub const USER_CREATED_SELECT: &str = "SELECT $15, e.organization_id, e.id, 'user.created', \
     'user', u.id, $10, u.id, $8";

/// Binds the sign-in statement's parameters in the order both dialects
/// number them: `$1`–`$4` the candidate user (id, environment, e-mail,
/// creation), `$5`–`$13` the session, `$14`/`$15` the events' ids, `$16`/
/// `$17` the proof (when, which verification), `$18`–`$20` the credential
/// (kind, value, id), `$21`/`$22` the candidate's phone and wallet.
pub(in crate::store) fn bind_sign_in<'q, DB: Database>(
    query: Query<'q, DB, DB::Arguments>,
    proof: &UsedCode,
    credential: &CredentialKey,
    candidate: &UserRecord,
    session: &SessionRecord,
    events: &SignInEventIds,
) -> Query<'q, DB, DB::Arguments>
where
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> Option<String>: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    query
        .bind(candidate.id.clone())
        .bind(candidate.environment_id.clone())
        .bind(candidate.email.clone())
        .bind(candidate.created_at)
        .bind(session.id.clone())
        .bind(session.iat)
        .bind(session.env_epoch)
        .bind(session.created_at)
        .bind(session.expires_at)
        .bind(session.ip_address.clone())
        .bind(session.user_agent.clone())
        .bind(session.amr.clone())
        .bind(session.scope.clone())
        .bind(events.session_created.clone())
        .bind(events.user_created.clone())
        .bind(proof.used_at)
        .bind(proof.verification_id.clone())
        .bind(credential.kind.clone())
        .bind(credential.value.clone())
        .bind(credential.id.clone())
        .bind(candidate.phone_number.clone())
        .bind(candidate.wallet.clone())
}
