//! Plain data as the store keeps it.

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrganizationRecord {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProjectRecord {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EnvironmentRecord {
    pub id: String,
    pub project_id: String,
    pub organization_id: String,
    pub kind: String,
    pub settings_json: String,
    pub locked: bool,
    pub sessions_epoch: i64,
    pub sessions_revoked_at: Option<i64>,
    pub sessions_revoked_by_kind: Option<String>,
    pub sessions_revoked_by_id: Option<String>,
    pub created_at: i64,
}

/// An origin allowed to call an environment's SDK API, in normal form.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OriginRecord {
    pub id: String,
    pub environment_id: String,
    pub origin: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub environment_id: String,
    pub algorithm: String,
    /// PKCS#8 DER, sealed with the master key (context: the kid).
    pub private_key_sealed: Vec<u8>,
    pub public_jwk: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiTokenRecord {
    pub id: String,
    pub organization_id: String,
    pub environment_id: Option<String>,
    pub role: String,
    pub note: String,
    pub token_hash: Vec<u8>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// After a rotation: the hash of the secret before, which works until
    /// `previous_expires_at`.
    pub previous_hash: Option<Vec<u8>>,
    pub previous_expires_at: Option<i64>,
    pub rotated_at: Option<i64>,
}

/// A person who administers an organization.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRecord {
    pub id: String,
    pub organization_id: String,
    /// Lower case.
    pub email: String,
    pub name: Option<String>,
    pub role: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a member update sets; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct MemberChanges {
    pub email: Option<String>,
    pub name: Option<Option<String>>,
    pub role: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: String,
    pub environment_id: String,
    pub email: Option<String>,
    pub created_at: i64,
    pub sessions_epoch: i64,
    pub sessions_revoked_at: Option<i64>,
    pub sessions_revoked_by_kind: Option<String>,
    pub sessions_revoked_by_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    pub email: Option<String>,
    /// Only users whose id sorts after this one (the page cursor).
    pub after: Option<String>,
    pub limit: u32,
}

/// The outcome of one attempt at a code.
#[derive(Debug, Clone)]
pub enum Attempt {
    /// No verification that still takes attempts: unknown, in another
    /// environment, expired, used, out of attempts, or superseded.
    Refused,
    /// An attempt was spent and the code did not match.
    Wrong(VerificationRecord),
    /// The code matched. The verification is used only by the sign-in
    /// that stores a session with it (`SessionStore::insert_for_email_user`).
    Matched(VerificationRecord),
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VerificationRecord {
    pub id: String,
    pub environment_id: String,
    pub channel: String,
    pub destination: String,
    pub code_mac: Vec<u8>,
    pub attempts: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRecord {
    pub id: String,
    pub environment_id: String,
    pub user_id: String,
    /// The JWT's `iat` (seconds).
    pub iat: i64,
    /// The revocation epochs the session was issued under.
    pub env_epoch: i64,
    pub user_epoch: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub last_active_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub revoked_by_kind: Option<String>,
    pub revoked_by_id: Option<String>,
    pub amr: String,
    pub scope: String,
}

/// A session as read back: its own fields plus the user's and the
/// environment's latest revocation, so its effective revocation can be derived.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub session: SessionRecord,
    pub user_revocation: Option<ScopeRevocation>,
    pub environment_revocation: Option<ScopeRevocation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFilter {
    All,
    Revoked,
    NotRevoked,
    /// Neither revoked nor expired at this instant (ms).
    Live(i64),
}

/// Who revoked, and when (ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub at: i64,
    pub by_kind: String,
    pub by_id: Option<String>,
}

/// A user's or environment's latest revocation: sessions issued under an
/// epoch below `epoch` are revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeRevocation {
    pub epoch: i64,
    pub revocation: Revocation,
}

#[derive(Debug, Clone)]
pub struct NewTenant {
    pub organization: OrganizationRecord,
    pub project: ProjectRecord,
    pub environments: Vec<EnvironmentRecord>,
    pub signing_keys: Vec<SigningKeyRecord>,
    pub owner_token: ApiTokenRecord,
    pub owner: MemberRecord,
}

#[derive(Debug, Clone)]
pub struct TenantRecord {
    pub organization: OrganizationRecord,
    pub project: ProjectRecord,
    pub environments: Vec<EnvironmentRecord>,
}

/// A second factor of a user. TOTP devices hold their sealed secret
/// (context: the device id) and the last step a code proved.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MfaDeviceRecord {
    pub id: String,
    pub environment_id: String,
    pub user_id: String,
    pub kind: String,
    pub name: String,
    pub secret_sealed: Option<Vec<u8>>,
    /// A passkey: webauthn-rs's `Passkey` as JSON (public key and counter).
    pub credential: Option<String>,
    /// A passkey's credential id, base64url.
    pub credential_id: Option<String>,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub last_used_step: Option<i64>,
}

/// An unused recovery code: its id and its MAC.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecoveryCodeRecord {
    pub id: String,
    pub code_mac: Vec<u8>,
}

/// The answer to spending a code attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeAttempt {
    /// Counted; the code may be checked.
    Allowed,
    /// Too many wrong codes: locked until this instant (Unix ms).
    LockedUntil(i64),
}

/// The state of a WebAuthn ceremony, kept between its two requests.
#[derive(Debug, Clone)]
pub struct ChallengeRecord {
    pub id: String,
    pub environment_id: String,
    pub session_id: String,
    /// `register` or `assert`.
    pub purpose: String,
    pub state: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Something that happened: a row of the audit log and of the outbox.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRecord {
    pub id: String,
    pub organization_id: String,
    pub environment_id: Option<String>,
    #[sqlx(rename = "type")]
    pub kind: String,
    /// `user`, `api_token`, `member` or `system`.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub ip_address: Option<String>,
    /// What the event is about, when it names one thing (a session id for
    /// session events).
    pub subject_id: Option<String>,
    /// The payload's `data` (JSON). Session events get theirs when they are
    /// dispatched.
    pub data: Option<String>,
    /// `environment_sessions` or `user_sessions`: the event expands into one
    /// `admin.user.session.revoked` per session it revoked, before it is
    /// dispatched itself.
    pub fanout: Option<String>,
    pub fanout_cursor: Option<String>,
    pub created_at: i64,
    pub dispatched_at: Option<i64>,
    /// Who is mailed about it (JSON array of addresses), as the settings
    /// said when the change was made.
    pub notify: Option<String>,
}

/// Filters of the audit log; newest first, `before` a cursor.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub kind: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Only events before this position (from an earlier page).
    pub before: Option<i64>,
    pub limit: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookRecord {
    pub id: String,
    pub environment_id: String,
    pub url: String,
    pub description: String,
    /// JSON array of event types; empty: every type.
    pub events: String,
    pub enabled: bool,
    /// `whsec_…`'s key bytes, sealed with the master key (context: the id).
    pub secret_sealed: Vec<u8>,
    /// The secret before the last rotation, still signing until `previous_secret_until`.
    pub previous_secret_sealed: Option<Vec<u8>>,
    pub previous_secret_until: Option<i64>,
    pub consecutive_failures: i64,
    pub disabled_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The fields a webhook update changes (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub description: Option<String>,
    /// JSON array of event types.
    pub events: Option<String>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRecord {
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub environment_id: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_response_status: Option<i64>,
    pub created_at: i64,
    pub completed_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRecord {
    pub id: String,
    pub delivery_id: String,
    pub attempted_at: i64,
    pub duration_ms: i64,
    pub response_status: Option<i64>,
    pub response_body: Option<String>,
    pub error: Option<String>,
}

/// A delivery and its attempts, oldest first, as one statement read them
/// (one snapshot): never an attempt whose outcome the delivery does not
/// show yet, since `record_attempt` stores both in one transaction.
#[derive(Debug, Clone)]
pub struct DeliveryHistory {
    pub delivery: DeliveryRecord,
    pub attempts: Vec<AttemptRecord>,
}

/// A delivery joined with one of its attempts (all `None`: it has none).
#[derive(sqlx::FromRow)]
pub struct DeliveryAttemptRow {
    #[sqlx(flatten)]
    pub delivery: DeliveryRecord,
    pub attempt_id: Option<String>,
    pub attempted_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub response_status: Option<i64>,
    pub response_body: Option<String>,
    pub error: Option<String>,
}

impl DeliveryHistory {
    /// Folds rows ordered by delivery, then by attempt, into histories in
    /// the same order.
    pub fn from_rows(rows: Vec<DeliveryAttemptRow>) -> Vec<DeliveryHistory> {
        let mut out: Vec<DeliveryHistory> = vec![];
        for row in rows {
            let attempt = match (row.attempt_id, row.attempted_at, row.duration_ms) {
                (Some(id), Some(attempted_at), Some(duration_ms)) => Some(AttemptRecord {
                    id,
                    delivery_id: row.delivery.id.clone(),
                    attempted_at,
                    duration_ms,
                    response_status: row.response_status,
                    response_body: row.response_body,
                    error: row.error,
                }),
                _ => None,
            };
            match out.last_mut() {
                Some(last) if last.delivery.id == row.delivery.id => last.attempts.extend(attempt),
                _ => out.push(DeliveryHistory {
                    delivery: row.delivery,
                    attempts: attempt.into_iter().collect(),
                }),
            }
        }
        out
    }
}

/// What `WebhookStore::record_attempt` stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptRecorded {
    /// The attempt and its outcome, together; `disabled`: this attempt
    /// disabled the endpoint.
    Stored { disabled: bool },
    /// Neither: the delivery was no longer under the attempt's lease.
    LeaseLost,
}

/// What an attempt decided for its delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Succeeded,
    /// Try again at this instant (ms).
    Retry(i64),
    /// No more attempts.
    Failed,
}

/// A user- or environment-wide revocation, as its fan-out reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FanoutScope {
    pub environment_id: String,
    /// Set for a user-wide revocation.
    pub user_id: Option<String>,
    /// The epoch the revocation raised the scope to.
    pub epoch: i64,
    /// When it was made (ms).
    pub at: i64,
    /// How many sessions it revoked.
    pub revoked_count: u64,
    /// For a user-wide revocation: the environment's epoch then (sessions
    /// below it were revoked already).
    #[serde(default)]
    pub environment_epoch: Option<i64>,
    pub by_kind: String,
    pub by_id: Option<String>,
}

impl EventRecord {
    /// This event, carrying a revocation's fan-out scope as its data.
    pub fn with_fanout(&self, scope: &FanoutScope) -> EventRecord {
        EventRecord {
            data: serde_json::to_string(scope).ok(),
            ..self.clone()
        }
    }
}

/// A security notification e-mail to one recipient.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRecord {
    pub id: String,
    pub event_id: String,
    pub environment_id: String,
    pub recipient: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

/// The verification a sign-in uses up (`SessionStore::insert_for_email_user`).
#[derive(Debug, Clone)]
pub struct UsedCode {
    pub verification_id: String,
    pub used_at: i64,
}

/// The ids of the events a sign-in writes with its session:
/// `user.session.created`, and `user.created` when it creates the user.
/// `None`: not written (no webhook of the environment takes it).
#[derive(Debug, Clone)]
pub struct SignInEventIds {
    pub session_created: Option<String>,
    pub user_created: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(delivery: &str, attempt: Option<(&str, i64)>) -> DeliveryAttemptRow {
        DeliveryAttemptRow {
            delivery: DeliveryRecord {
                id: delivery.into(),
                webhook_id: "whk".into(),
                event_id: "evt".into(),
                environment_id: "env".into(),
                status: "pending".into(),
                attempts: 0,
                next_attempt_at: None,
                last_response_status: None,
                created_at: 0,
                completed_at: None,
            },
            attempt_id: attempt.map(|(id, _)| id.into()),
            attempted_at: attempt.map(|(_, at)| at),
            duration_ms: attempt.map(|_| 3),
            response_status: attempt.map(|_| 500),
            response_body: None,
            error: None,
        }
    }

    #[test]
    fn rows_fold_into_one_history_per_delivery_in_order() {
        let histories = DeliveryHistory::from_rows(vec![
            row("dlv_b", Some(("att_1", 1))),
            row("dlv_b", Some(("att_2", 2))),
            row("dlv_a", None),
            row("dlv_c", Some(("att_3", 3))),
        ]);
        let shape: Vec<(&str, Vec<&str>)> = histories
            .iter()
            .map(|h| {
                let attempts = h.attempts.iter().map(|a| a.id.as_str()).collect();
                (h.delivery.id.as_str(), attempts)
            })
            .collect();
        assert_eq!(
            shape,
            [
                ("dlv_b", vec!["att_1", "att_2"]),
                ("dlv_a", vec![]),
                ("dlv_c", vec!["att_3"]),
            ]
        );
        assert!(
            histories[0]
                .attempts
                .iter()
                .all(|a| a.delivery_id == "dlv_b")
        );
    }
}
