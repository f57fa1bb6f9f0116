//! Cookie mode's CSRF values (docs/sdk.md, "Cookie storage"): one per
//! session, an HMAC of the environment and session ids under a sub-key of
//! the master key, so that every node computes the same value and nothing
//! is stored. A page of the application's own origin reads it (from the
//! auth result, `GET /session` or the `portcullis_csrf` cookie) and sends it
//! back; a page of another site cannot read it.

use crate::crypto::{self, MasterKey};

const CSRF_PURPOSE: &str = "portcullis/sdk-csrf/v1";

pub struct SdkCookies {
    master_key: MasterKey,
}

impl SdkCookies {
    pub fn new(master_key: MasterKey) -> Self {
        SdkCookies { master_key }
    }

    /// The CSRF value of a session.
    pub fn csrf_token(&self, environment_id: &str, session_id: &str) -> String {
        let message = format!("{environment_id}\n{session_id}");
        crypto::b64url(&self.master_key.mac(CSRF_PURPOSE, message.as_bytes()))
    }

    /// Is `sent` the session's CSRF value? Compared in constant time.
    pub fn csrf_matches(&self, environment_id: &str, session_id: &str, sent: &str) -> bool {
        let expected = self.csrf_token(environment_id, session_id);
        crypto::constant_time_eq(expected.as_bytes(), sent.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_is_bound_to_the_session_and_the_environment() {
        let cookies = SdkCookies::new(MasterKey::generate().unwrap());
        let csrf = cookies.csrf_token("env_1", "ses_1");
        assert_eq!(csrf.len(), 43, "256 bits, base64url");
        assert!(cookies.csrf_matches("env_1", "ses_1", &csrf));
        assert!(!cookies.csrf_matches("env_1", "ses_2", &csrf));
        assert!(!cookies.csrf_matches("env_2", "ses_1", &csrf));
        assert!(!cookies.csrf_matches("env_1", "ses_1", ""));
        let other = SdkCookies::new(MasterKey::generate().unwrap());
        assert!(!other.csrf_matches("env_1", "ses_1", &csrf));
    }
}
