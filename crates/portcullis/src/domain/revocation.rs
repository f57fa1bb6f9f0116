//! The revocation index: what a node must know, in memory, to answer "is
//! this session still alive?" without a database round-trip.
//!
//! Three scopes, each O(1) to record:
//! - one session: its id, kept until the session would have expired anyway;
//! - a user: a watermark `W`, every session of the user with `iat < W` is revoked;
//! - an environment: the same watermark, for every session in it.
//!
//! A new watermark is above the current second and above every watermark
//! that applies to the same sessions ([`next_watermark`]), so it covers every
//! session issued so far. A session issued afterwards in the same second gets
//! `iat = W` (see [`RevocationIndex::issue_iat`]), a second or so ahead of its
//! `nbf`, and stays alive. Watermarks only ever rise.

use std::collections::HashMap;

/// The watermark for a revocation at `now_s`, given the highest watermark
/// that may already have set the `iat` of sessions it covers.
pub fn next_watermark(now_s: i64, highest_existing: Option<i64>) -> i64 {
    now_s.max(highest_existing.unwrap_or(i64::MIN)) + 1
}

#[derive(Debug, Default, Clone)]
pub struct RevocationIndex {
    /// session id → its `exp`, so the entry can leave once the token is dead.
    sessions: HashMap<String, i64>,
    users: HashMap<String, i64>,
    environments: HashMap<String, i64>,
}

impl RevocationIndex {
    pub fn revoke_session(&mut self, session_id: &str, exp: i64) {
        self.sessions.insert(session_id.to_string(), exp);
    }

    pub fn raise_user_watermark(&mut self, user_id: &str, watermark: i64) {
        let w = self.users.entry(user_id.to_string()).or_insert(watermark);
        *w = (*w).max(watermark);
    }

    pub fn raise_environment_watermark(&mut self, environment_id: &str, watermark: i64) {
        let w = self
            .environments
            .entry(environment_id.to_string())
            .or_insert(watermark);
        *w = (*w).max(watermark);
    }

    pub fn is_revoked(
        &self,
        environment_id: &str,
        user_id: &str,
        session_id: &str,
        iat: i64,
    ) -> bool {
        self.sessions.contains_key(session_id)
            || self.users.get(user_id).is_some_and(|w| iat < *w)
            || self
                .environments
                .get(environment_id)
                .is_some_and(|w| iat < *w)
    }

    /// The `iat` for a session issued now: never below a watermark, so a new
    /// sign-in right after a revocation is not caught by it.
    pub fn issue_iat(&self, environment_id: &str, user_id: &str, now_s: i64) -> i64 {
        let env = self
            .environments
            .get(environment_id)
            .copied()
            .unwrap_or(i64::MIN);
        let user = self.users.get(user_id).copied().unwrap_or(i64::MIN);
        now_s.max(env).max(user)
    }

    /// Forgets what can no longer matter: revoked sessions past their `exp`,
    /// and user watermarks older than the longest possible token lifetime.
    /// Environment watermarks are one number per environment and stay.
    pub fn prune(&mut self, now_s: i64, max_lifetime_s: i64) {
        self.sessions.retain(|_, exp| *exp > now_s);
        self.users.retain(|_, w| *w + max_lifetime_s > now_s);
    }

    pub fn len(&self) -> (usize, usize, usize) {
        (
            self.sessions.len(),
            self.users.len(),
            self.environments.len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scope_revokes_what_it_covers_and_nothing_else() {
        let mut idx = RevocationIndex::default();
        idx.revoke_session("ses_a", 2000);
        assert!(idx.is_revoked("env_1", "usr_1", "ses_a", 100));
        assert!(!idx.is_revoked("env_1", "usr_1", "ses_b", 100));

        idx.raise_user_watermark("usr_2", next_watermark(500, None));
        assert!(idx.is_revoked("env_1", "usr_2", "ses_c", 500));
        assert!(!idx.is_revoked("env_1", "usr_2", "ses_c", 501));
        assert!(!idx.is_revoked("env_1", "usr_3", "ses_d", 100));

        idx.raise_environment_watermark("env_2", next_watermark(700, None));
        assert!(idx.is_revoked("env_2", "usr_9", "ses_e", 700));
        assert!(!idx.is_revoked("env_1", "usr_9", "ses_e", 700));
    }

    #[test]
    fn watermarks_never_move_back() {
        let mut idx = RevocationIndex::default();
        idx.raise_environment_watermark("env", 900);
        idx.raise_environment_watermark("env", 100);
        assert!(idx.is_revoked("env", "u", "s", 899));
    }

    #[test]
    fn a_session_issued_in_the_second_of_a_revocation_survives_it() {
        let mut idx = RevocationIndex::default();
        idx.raise_environment_watermark("env", next_watermark(1000, None));
        let iat = idx.issue_iat("env", "usr", 1000);
        assert_eq!(iat, 1001);
        assert!(!idx.is_revoked("env", "usr", "ses_new", iat));
        assert_eq!(idx.issue_iat("env", "usr", 5000), 5000);
    }

    #[test]
    fn a_second_revocation_in_the_same_second_covers_sessions_issued_between() {
        let mut idx = RevocationIndex::default();
        let first = next_watermark(1000, None);
        idx.raise_user_watermark("usr", first);
        let between = idx.issue_iat("env", "usr", 1000);
        assert!(!idx.is_revoked("env", "usr", "ses_between", between));
        let second = next_watermark(1000, Some(first));
        idx.raise_user_watermark("usr", second);
        assert!(idx.is_revoked("env", "usr", "ses_between", between));
        assert!(!idx.is_revoked("env", "usr", "ses_after", idx.issue_iat("env", "usr", 1000)));
    }

    #[test]
    fn pruning_drops_only_dead_entries() {
        let mut idx = RevocationIndex::default();
        idx.revoke_session("old", 100);
        idx.revoke_session("live", 10_000);
        idx.raise_user_watermark("u_old", 50);
        idx.raise_user_watermark("u_new", 9_000);
        idx.raise_environment_watermark("e", 10);
        idx.prune(1_000, 500);
        assert_eq!(idx.len(), (1, 1, 1));
        assert!(idx.is_revoked("x", "y", "live", 0));
    }
}
