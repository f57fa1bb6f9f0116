//! The revocation index: what a node must know, in memory, to answer "is
//! this session still alive?" without a database round-trip.
//!
//! Three scopes, each O(1) to record:
//! - one session: its id, kept until the session would have expired anyway;
//! - a user: a revocation raises the user's *epoch*; a session issued under
//!   a lower user epoch is revoked;
//! - an environment: the same, with the environment's epoch.
//!
//! A token carries the epochs it was issued under (`env_epoch`,
//! `user_epoch`). Epochs are counters, not times: no clock, no skew between
//! nodes, and `iat` stays the true issue time. A sign-in right after a
//! revocation is issued under the new epoch and stays alive.

use std::collections::HashMap;

#[derive(Debug, Default, Clone)]
pub struct RevocationIndex {
    /// session id → its `exp`, so the entry can leave once the token is dead.
    sessions: HashMap<String, i64>,
    /// user id → (epoch, when it was raised, Unix seconds).
    users: HashMap<String, (i64, i64)>,
    environments: HashMap<String, i64>,
}

/// The epochs a session is issued under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epochs {
    pub environment: i64,
    pub user: i64,
}

impl RevocationIndex {
    pub fn revoke_session(&mut self, session_id: &str, exp: i64) {
        self.sessions.insert(session_id.to_string(), exp);
    }

    pub fn raise_user_epoch(&mut self, user_id: &str, epoch: i64, now_s: i64) {
        let entry = self
            .users
            .entry(user_id.to_string())
            .or_insert((epoch, now_s));
        if epoch >= entry.0 {
            *entry = (epoch, now_s);
        }
    }

    pub fn raise_environment_epoch(&mut self, environment_id: &str, epoch: i64) {
        let e = self
            .environments
            .entry(environment_id.to_string())
            .or_insert(epoch);
        *e = (*e).max(epoch);
    }

    pub fn is_revoked(
        &self,
        environment_id: &str,
        user_id: &str,
        session_id: &str,
        issued: Epochs,
    ) -> bool {
        self.sessions.contains_key(session_id)
            || self
                .users
                .get(user_id)
                .is_some_and(|(epoch, _)| issued.user < *epoch)
            || self
                .environments
                .get(environment_id)
                .is_some_and(|epoch| issued.environment < *epoch)
    }

    /// The environment's epoch as this index knows it.
    pub fn environment_epoch(&self, environment_id: &str) -> i64 {
        self.environments.get(environment_id).copied().unwrap_or(0)
    }

    /// The epochs for a session issued now. `stored_user_epoch` is the
    /// user's epoch as read from the store at sign-in, which stays right
    /// after the index has forgotten an old user entry.
    pub fn current_epochs(
        &self,
        environment_id: &str,
        user_id: &str,
        stored_user_epoch: i64,
    ) -> Epochs {
        Epochs {
            environment: self.environment_epoch(environment_id),
            user: self
                .users
                .get(user_id)
                .map_or(0, |(e, _)| *e)
                .max(stored_user_epoch),
        }
    }

    /// Forgets what can no longer matter: revoked sessions past their `exp`,
    /// and user epochs raised longer ago than the longest token lifetime
    /// (every token issued under an older epoch has expired by then).
    /// Environment epochs are one number per environment and stay.
    pub fn prune(&mut self, now_s: i64, max_lifetime_s: i64) {
        self.sessions.retain(|_, exp| *exp > now_s);
        self.users
            .retain(|_, (_, raised)| *raised + max_lifetime_s > now_s);
    }

    pub fn len(&self) -> (usize, usize, usize) {
        (
            self.sessions.len(),
            self.users.len(),
            self.environments.len(),
        )
    }
}

/// How long the revocation feed keeps an entry (ms): the longest token
/// lifetime and a day, after which no token it concerns can be presented.
pub const FEED_RETENTION_MS: i64 =
    (super::settings::MAX_JWT_EXPIRATION_SECONDS as i64 + 86_400) * 1000;

#[cfg(test)]
mod tests {
    use super::*;

    const E0: Epochs = Epochs {
        environment: 0,
        user: 0,
    };

    #[test]
    fn each_scope_revokes_what_it_covers_and_nothing_else() {
        let mut idx = RevocationIndex::default();
        idx.revoke_session("ses_a", 2000);
        assert!(idx.is_revoked("env_1", "usr_1", "ses_a", E0));
        assert!(!idx.is_revoked("env_1", "usr_1", "ses_b", E0));

        idx.raise_user_epoch("usr_2", 1, 0);
        assert!(idx.is_revoked("env_1", "usr_2", "ses_c", E0));
        assert!(!idx.is_revoked(
            "env_1",
            "usr_2",
            "ses_c",
            Epochs {
                environment: 0,
                user: 1
            }
        ));
        assert!(!idx.is_revoked("env_1", "usr_3", "ses_d", E0));

        idx.raise_environment_epoch("env_2", 1);
        assert!(idx.is_revoked("env_2", "usr_9", "ses_e", E0));
        assert!(!idx.is_revoked("env_1", "usr_9", "ses_e", E0));
    }

    #[test]
    fn epochs_never_move_back() {
        let mut idx = RevocationIndex::default();
        idx.raise_environment_epoch("env", 3);
        idx.raise_environment_epoch("env", 1);
        assert!(idx.is_revoked(
            "env",
            "u",
            "s",
            Epochs {
                environment: 2,
                user: 0
            }
        ));
        idx.raise_user_epoch("u", 5, 0);
        idx.raise_user_epoch("u", 4, 0);
        assert_eq!(idx.current_epochs("env", "u", 0).user, 5);
    }

    #[test]
    fn a_session_issued_after_a_revocation_survives_it_and_not_the_next() {
        let mut idx = RevocationIndex::default();
        idx.raise_environment_epoch("env", 1);
        let issued = idx.current_epochs("env", "usr", 0);
        assert!(!idx.is_revoked("env", "usr", "ses_new", issued));
        idx.raise_environment_epoch("env", 2);
        assert!(idx.is_revoked("env", "usr", "ses_new", issued));
    }

    #[test]
    fn the_stored_user_epoch_wins_over_a_forgotten_entry() {
        let idx = RevocationIndex::default();
        assert_eq!(
            idx.current_epochs("env", "usr", 7),
            Epochs {
                environment: 0,
                user: 7
            }
        );
    }

    #[test]
    fn pruning_drops_only_dead_entries() {
        let mut idx = RevocationIndex::default();
        idx.revoke_session("old", 100);
        idx.revoke_session("live", 10_000);
        idx.raise_user_epoch("u_old", 1, 50);
        idx.raise_user_epoch("u_new", 1, 900);
        idx.raise_environment_epoch("e", 1);
        idx.prune(1_000, 500);
        assert_eq!(idx.len(), (1, 1, 1));
        assert!(idx.is_revoked("x", "y", "live", E0));
    }
}
