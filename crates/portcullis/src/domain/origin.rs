//! Allowed CORS origins (API.md, "Origins"): parsing an origin an operator
//! lists, its normal form, and matching a browser's `Origin` header
//! against it.
//!
//! An allowed origin is `scheme://host[:port]`: scheme `http` or `https`;
//! no path (one trailing `/` is dropped), query, fragment or user info; a
//! host name, an IPv4 address or a bracketed IPv6 address. `*` may stand in
//! host-name labels, except the last one and alone as the whole host: each
//! `*` matches zero or more of `a-z 0-9 - .` and nothing else. Stored lower
//! case, without the scheme's default port.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// An allowed origin in normal form (possibly with wildcards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigin {
    scheme: Scheme,
    host: String,
    /// `None`: the scheme's default port.
    port: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    #[error("must be scheme://host[:port], with scheme http or https")]
    Scheme,
    #[error("must not have a path, query or fragment")]
    Path,
    #[error("must not have user info")]
    UserInfo,
    #[error("has an empty or malformed host")]
    Host,
    #[error("has a bad port (1 to 65535)")]
    Port,
    #[error("IPv6 addresses must be in brackets, e.g. http://[::1]:8080")]
    Ipv6WithoutBrackets,
    #[error(
        "a wildcard must be followed by at least two whole labels (https://*.example.com, \
         https://my-app-*.vercel.app)"
    )]
    WildcardPlacement,
}

impl AllowedOrigin {
    /// Parses an origin as an operator lists it (wildcards allowed).
    pub fn parse(input: &str) -> Result<Self, OriginError> {
        parse(input, true)
    }

    /// Whether `*` appears in the host.
    pub fn has_wildcard(&self) -> bool {
        self.host.contains('*')
    }

    pub fn is_http(&self) -> bool {
        self.scheme == Scheme::Http
    }

    /// `localhost` (or a name under it) or a loopback address.
    pub fn is_local(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost"
            || host.ends_with(".localhost")
            || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
            || host.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// Whether a browser's `Origin` header value is this origin (or, with
    /// wildcards, one of those it stands for). `null` and anything that
    /// is not a plain origin never match.
    pub fn matches(&self, request_origin: &str) -> bool {
        RequestOrigin::parse(request_origin).is_some_and(|request| self.admits(&request))
    }

    /// Whether this origin (or, with wildcards, one of those it stands
    /// for) is the request's origin.
    pub fn admits(&self, request: &RequestOrigin) -> bool {
        let request = &request.0;
        request.scheme == self.scheme
            && request.port == self.port
            && host_matches(self.host.as_bytes(), request.host.as_bytes())
    }
}

/// A browser's `Origin` header value, parsed strictly: no wildcard, no
/// trailing `/`. `null` and anything else that is not a plain origin has
/// none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestOrigin(AllowedOrigin);

impl RequestOrigin {
    pub fn parse(header: &str) -> Option<Self> {
        parse(header, false).ok().map(RequestOrigin)
    }
}

impl fmt::Display for AllowedOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

fn parse(input: &str, wildcards: bool) -> Result<AllowedOrigin, OriginError> {
    let (scheme, rest) = input.split_once("://").ok_or(OriginError::Scheme)?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        _ => return Err(OriginError::Scheme),
    };
    // An operator may paste `https://app.example.com/`; a browser's
    // `Origin` never ends in `/`.
    let rest = match wildcards {
        true => rest.strip_suffix('/').unwrap_or(rest),
        false => rest,
    };
    if rest.contains(['/', '?', '#', '\\']) {
        return Err(OriginError::Path);
    }
    if rest.contains('@') {
        return Err(OriginError::UserInfo);
    }
    let rest = rest.to_ascii_lowercase();
    let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
        let (address, after) = bracketed.split_once(']').ok_or(OriginError::Host)?;
        let address: Ipv6Addr = address.parse().map_err(|_| OriginError::Host)?;
        // Browsers write an IPv4-mapped address in hex (`[::ffff:7f00:1]`),
        // Rust in dotted form: refused rather than never matched.
        if address.to_ipv4_mapped().is_some() {
            return Err(OriginError::Host);
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or(OriginError::Host)?),
        };
        // The canonical text form (RFC 5952), as browsers write it.
        (format!("[{address}]"), port)
    } else {
        if rest.matches(':').count() > 1 {
            return Err(OriginError::Ipv6WithoutBrackets);
        }
        let (host, port) = match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest.as_str(), None),
        };
        check_host_name(host, wildcards)?;
        (
            ipv4_normal_form(host)?.unwrap_or_else(|| host.to_string()),
            port,
        )
    };
    let port = match port {
        None => None,
        Some(digits) => {
            if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(OriginError::Port);
            }
            let port: u16 = digits.parse().map_err(|_| OriginError::Port)?;
            if port == 0 {
                return Err(OriginError::Port);
            }
            (port != scheme.default_port()).then_some(port)
        }
    };
    Ok(AllowedOrigin { scheme, host, port })
}

/// A host whose last label is a number is an IPv4 address (as browsers
/// read it): it must be four decimal octets, and its normal form is theirs.
/// `Ok(None)` for a host name.
fn ipv4_normal_form(host: &str) -> Result<Option<String>, OriginError> {
    let last = host.rsplit('.').next().unwrap_or_default();
    if !last.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let address: Ipv4Addr = host.parse().map_err(|_| OriginError::Host)?;
    Ok(Some(address.to_string()))
}

/// Labels of `a-z 0-9 -` (and `*` when allowed), none empty. A `*` may not
/// stand in the last two labels: at least a registrable-looking
/// `name.tld` follows the last label with a `*`, so `https://*.com` and
/// `https://domain*.com` (which would match `domain.evil.com`) are refused.
fn check_host_name(host: &str, wildcards: bool) -> Result<(), OriginError> {
    if host.is_empty() || host.len() > 253 {
        return Err(OriginError::Host);
    }
    let labels: Vec<&str> = host.split('.').collect();
    for label in &labels {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'*');
        if !ok {
            return Err(OriginError::Host);
        }
    }
    if host.contains('*') {
        let last = labels.last().copied().unwrap_or_default();
        if !wildcards {
            return Err(OriginError::Host);
        }
        let last_wild = labels.iter().rposition(|l| l.contains('*')).unwrap_or(0);
        if labels.len() - last_wild < 3 || last.contains('*') {
            return Err(OriginError::WildcardPlacement);
        }
    }
    Ok(())
}

/// `pattern` with `*` (zero or more of `a-z 0-9 - .`) against `host`.
fn host_matches(pattern: &[u8], host: &[u8]) -> bool {
    let matchable = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.';
    // Classic glob matching with one backtrack point, linear in practice.
    let (mut p, mut h) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while h < host.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, h));
            p += 1;
        } else if p < pattern.len() && pattern[p] == host[h] {
            p += 1;
            h += 1;
        } else if let Some((sp, sh)) = star {
            // Let the last `*` take one more byte, if it may.
            if !matchable(host[sh]) {
                return false;
            }
            star = Some((sp, sh + 1));
            p = sp + 1;
            h = sh + 1;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|b| *b == b'*')
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn allowed(s: &str) -> AllowedOrigin {
        AllowedOrigin::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn the_contracts_examples_parse_or_fail_as_it_says() {
        for ok in [
            "http://domain.com",
            "https://domain.com",
            "https://sub.domain.com",
            "http://127.0.0.1:4200",
            "http://localhost:3200",
            "https://my-app-*.vercel.app",
            "http://[::1]:8080",
        ] {
            assert!(AllowedOrigin::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "domain.com",
            "//domain.com",
            "https://domain.com/home",
            "https://domain.com?x=1",
            "https://domain.com#top",
            "https://user@domain.com",
            "https://user:pass@domain.com",
            "ftp://domain.com",
            "javascript://domain.com",
            "https://",
            "https://:443",
            "https://domain.com:0",
            "https://domain.com:65536",
            "https://domain.com:",
            "https://domain.com:+80",
            "http://::1",
            "http://::1:8080",
            "https://domain..com",
            "https://dom_ain.com",
            "https://*",
            "https://domain.*",
            "https://*.*",
            "https://*.com",
            "https://domain*.com",
            "https://*domain.com",
            "https://my-app-*.app",
            "http://127.1",
            "http://0x7f.0.0.1",
            "http://256.1.1.1",
            "http://2130706433",
            "http://1.2.3.04",
            "http://[::ffff:127.0.0.1]",
            "http://[::ffff:7f00:1]",
            "https://d\u{f6}main.com",
            "https://[::1",
            "https://[zz::1]",
            "null",
            "",
        ] {
            assert!(AllowedOrigin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn origins_are_stored_lower_case_without_the_default_port() {
        assert_eq!(
            allowed("HTTPS://Domain.COM:443").to_string(),
            "https://domain.com"
        );
        assert_eq!(
            allowed("http://domain.com:80/").to_string(),
            "http://domain.com"
        );
        assert_eq!(
            allowed("https://domain.com:80").to_string(),
            "https://domain.com:80"
        );
        assert_eq!(allowed("http://[::1]:80").to_string(), "http://[::1]");
        assert_eq!(
            allowed("http://[0:0:0::1]:8080").to_string(),
            "http://[::1]:8080"
        );
        assert_eq!(
            allowed("http://[2001:DB8:0:0:0:0:0:1]").to_string(),
            "http://[2001:db8::1]"
        );
        assert!(allowed("http://[0:0::1]:8080").matches("http://[::1]:8080"));
        assert_eq!(
            allowed("https://*.example.com").to_string(),
            "https://*.example.com"
        );
    }

    /// The list the adversarial table is written against.
    pub(crate) const LIST: [&str; 2] = ["https://domain.com", "https://my-app-*.vercel.app"];

    /// Request origins `LIST` admits.
    pub(crate) const ADMITTED: &[&str] = &[
        "https://domain.com",
        "https://DOMAIN.com",
        "HTTPS://domain.com:443",
        "https://my-app-x.vercel.app",
        "https://my-app-.vercel.app",
        "https://my-app-pr-42.vercel.app",
        "https://MY-APP-X.VERCEL.APP",
        "https://my-app-a.b.vercel.app",
    ];

    /// Request origins `LIST` must refuse.
    pub(crate) const ADVERSARIAL: &[&str] = &[
        "https://domain.com.evil.com",
        "https://evildomain.com",
        "https://sub.domain.com",
        "https://domain.com:8443",
        "http://domain.com",
        "null",
        "",
        "https://my-app-x.vercel.app.evil.com",
        "https://my-app-x/evil.vercel.app",
        "https://my-app-x@evil.vercel.app",
        "https://my-app-x:443@evil.vercel.app",
        "https://my-app-x%2eevil.vercel.app",
        "https://my-app-x.vercel.app/",
        "https://my-app-x.vercel.app:8443",
        "http://my-app-x.vercel.app",
        "https://my-app.vercel.app",
        "https://xmy-app-x.vercel.app",
        "https://my-app-x.vercel.appx",
        "https://my-app-*.vercel.app",
        "https://domain.com\\@evil.com",
        "https://domain.com#",
        "https://domain.com?",
        "https://dom\u{0430}in.com",
    ];

    #[test]
    fn the_adversarial_table_never_passes() {
        let list = LIST.map(allowed);
        let passes = |origin: &str| list.iter().any(|o| o.matches(origin));
        for good in ADMITTED {
            assert!(passes(good), "{good} should pass");
        }
        for evil in ADVERSARIAL {
            assert!(!passes(evil), "{evil} must not pass");
        }
    }

    fn label() -> impl Strategy<Value = String> {
        "[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?"
    }

    /// What a `*` may stand for.
    fn filler() -> impl Strategy<Value = String> {
        "[a-z0-9.-]{0,12}"
    }

    proptest! {
        #[test]
        fn a_generated_matching_origin_always_matches(
            prefix in label(),
            suffix in label(),
            middle in filler(),
            domain in label(),
            tld in "[a-z]{2,6}",
            port in proptest::option::of(1u16..),
            https in any::<bool>(),
        ) {
            let scheme = if https { "https" } else { "http" };
            let port_part = port.map(|p| format!(":{p}")).unwrap_or_default();
            let pattern = format!("{scheme}://{prefix}*{suffix}.{domain}.{tld}{port_part}");
            let origin = allowed(&pattern);
            let request = format!("{scheme}://{prefix}{middle}{suffix}.{domain}.{tld}{port_part}");
            // A generated host may be malformed (e.g. `..`): then it is
            // not an origin at all, and must not match either.
            if parse(&request, false).is_ok() {
                prop_assert!(origin.matches(&request), "{pattern} vs {request}");
                prop_assert!(origin.matches(&request.to_uppercase()));
            } else {
                prop_assert!(!origin.matches(&request));
            }
        }

        #[test]
        fn a_generated_non_matching_origin_never_matches(
            prefix in label(),
            domain in label(),
            tld in "[a-z]{2,6}",
            evil in "[!-~]{1,12}",
            port in 1u16..,
        ) {
            let origin = allowed(&format!("https://{prefix}*.{domain}.{tld}"));
            // Something after the registered suffix, another scheme, or
            // another port: never a match.
            let candidates = [
                format!("https://{prefix}x.{domain}.{tld}.{evil}"),
                format!("https://{prefix}x.{domain}.{tld}{evil}"),
                format!("http://{prefix}x.{domain}.{tld}"),
                format!("https://{prefix}x.{domain}.{tld}:{port}"),
                format!("https://{prefix}{evil}.{domain}.{tld}"),
            ];
            let suffix = format!(".{domain}.{tld}");
            for (i, candidate) in candidates.iter().enumerate() {
                let bad_filler = !evil.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
                let must_fail = match i {
                    // A `*` may take dots: only a host that does not end
                    // in the pattern's suffix is sure not to match.
                    // `:443` (or `:0443`) after the host is the default port.
                    1 if evil.starts_with(':') => false,
                    0 | 1 => !candidate.to_ascii_lowercase().ends_with(&suffix),
                    2 => true,
                    3 => port != 443,
                    _ => bad_filler,
                };
                if must_fail {
                    prop_assert!(!origin.matches(candidate), "{candidate}");
                }
            }
        }

        #[test]
        fn the_parser_never_panics(input in "\\PC{0,64}") {
            let _ = AllowedOrigin::parse(&input);
        }

        #[test]
        fn a_parsed_origin_reparses_to_itself(
            name in "([a-z0-9]{1,10}\\.){0,3}[a-z][a-z0-9]{0,9}",
            v4 in any::<Ipv4Addr>(),
            v6 in any::<Ipv6Addr>(),
            which in 0..3u8,
            port in proptest::option::of(1u16..),
        ) {
            prop_assume!(which != 2 || v6.to_ipv4_mapped().is_none());
            let host = match which {
                0 => name,
                1 => v4.to_string(),
                _ => format!("[{v6}]"),
            };
            let port_part = port.map(|p| format!(":{p}")).unwrap_or_default();
            let origin = allowed(&format!("https://{host}{port_part}"));
            prop_assert_eq!(allowed(&origin.to_string()), origin.clone());
            prop_assert!(origin.matches(&origin.to_string()));
        }
    }
}
