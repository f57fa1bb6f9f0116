//! Cookie mode (`token_storage: "cookie"`, docs/sdk.md): the cookies the
//! SDK API sets, and which requests must prove they come from the
//! application's own pages.
//!
//! `portcullis_session` holds the session's JWT, `HttpOnly` so that no
//! script reads it; `portcullis_csrf` holds a value bound to the session
//! (an HMAC of its id), readable by scripts, which a state-changing request
//! sends back in `X-Portcullis-CSRF`. Both are `Secure` and `SameSite=Lax`,
//! `Path=/` so that the application's backend receives the session cookie
//! too when they share `cookie_domain`.

pub const SESSION_COOKIE: &str = "portcullis_session";
pub const CSRF_COOKIE: &str = "portcullis_csrf";
/// The request header that carries the CSRF value.
pub const CSRF_HEADER: &str = "x-portcullis-csrf";

/// Does a request with this method change state, so that a cookie alone
/// cannot authorise it?
pub fn changes_state(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// The `Set-Cookie` values that store a session: its JWT and its CSRF
/// value, both for `max_age_seconds` (the JWT's remaining life).
pub fn set_cookies(
    token: &str,
    csrf: &str,
    max_age_seconds: i64,
    domain: Option<&str>,
) -> [String; 2] {
    let max_age = max_age_seconds.max(0);
    [
        cookie(SESSION_COOKIE, token, max_age, domain, true),
        cookie(CSRF_COOKIE, csrf, max_age, domain, false),
    ]
}

/// The `Set-Cookie` values that remove both cookies.
pub fn clear_cookies(domain: Option<&str>) -> [String; 2] {
    [
        cookie(SESSION_COOKIE, "", 0, domain, true),
        cookie(CSRF_COOKIE, "", 0, domain, false),
    ]
}

fn cookie(name: &str, value: &str, max_age: i64, domain: Option<&str>, http_only: bool) -> String {
    let domain = domain.map(|d| format!("; Domain={d}")).unwrap_or_default();
    let http_only = if http_only { "; HttpOnly" } else { "" };
    format!("{name}={value}; Path=/; Max-Age={max_age}{domain}; Secure{http_only}; SameSite=Lax")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_http_only_and_the_csrf_cookie_is_not() {
        let [session, csrf] = set_cookies("eyJ.a.b", "c5rf", 7200, None);
        assert_eq!(
            session,
            "portcullis_session=eyJ.a.b; Path=/; Max-Age=7200; Secure; HttpOnly; SameSite=Lax"
        );
        assert_eq!(
            csrf,
            "portcullis_csrf=c5rf; Path=/; Max-Age=7200; Secure; SameSite=Lax"
        );
    }

    #[test]
    fn a_cookie_domain_is_named_and_clearing_sets_max_age_zero() {
        let [session, csrf] = clear_cookies(Some("example.com"));
        assert_eq!(
            session,
            "portcullis_session=; Path=/; Max-Age=0; Domain=example.com; Secure; HttpOnly; SameSite=Lax"
        );
        assert!(csrf.starts_with("portcullis_csrf=; Path=/; Max-Age=0; Domain=example.com;"));
        let [session, _] = set_cookies("t", "c", -5, None);
        assert!(session.contains("Max-Age=0;"), "{session}");
    }

    #[test]
    fn reads_do_not_change_state() {
        assert!(!changes_state("GET"));
        assert!(!changes_state("HEAD"));
        assert!(changes_state("POST"));
        assert!(changes_state("DELETE"));
        assert!(changes_state("PATCH"));
    }
}
