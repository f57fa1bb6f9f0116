//! Webhook destinations and server-side request forgery (docs/events.md):
//! which URLs may be registered, and which addresses may be connected to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookUrlError {
    #[error("must be an absolute http(s) URL")]
    NotAUrl,
    #[error("must use https (http is allowed only with --allow-private-webhook-urls)")]
    NotHttps,
    #[error("must not contain user info")]
    UserInfo,
    #[error("must not have a fragment")]
    Fragment,
    #[error(
        "points to a private, loopback, link-local or metadata address \
         (allowed only with --allow-private-webhook-urls)"
    )]
    PrivateAddress,
    #[error("must be at most 2048 characters")]
    TooLong,
}

/// Parses a destination as an operator registers it. With `allow_private`
/// (development), `http` and private addresses are accepted too. A host
/// name is checked again, after DNS resolution, at each delivery.
pub fn parse(input: &str, allow_private: bool) -> Result<Url, WebhookUrlError> {
    if input.len() > 2048 {
        return Err(WebhookUrlError::TooLong);
    }
    let url = Url::parse(input).map_err(|_| WebhookUrlError::NotAUrl)?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err(WebhookUrlError::NotHttps),
        _ => return Err(WebhookUrlError::NotAUrl),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(WebhookUrlError::UserInfo);
    }
    if url.fragment().is_some() {
        return Err(WebhookUrlError::Fragment);
    }
    let ip = match url.host() {
        None => return Err(WebhookUrlError::NotAUrl),
        Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.');
            if !allow_private && (name == "localhost" || name.ends_with(".localhost")) {
                return Err(WebhookUrlError::PrivateAddress);
            }
            None
        }
    };
    if ip.is_some_and(|ip| !allow_private && forbidden(ip)) {
        return Err(WebhookUrlError::PrivateAddress);
    }
    Ok(url)
}

/// Addresses a webhook may not reach unless private destinations are
/// allowed: loopback, private (RFC 1918, unique local), link-local (which
/// holds the cloud metadata service, 169.254.169.254), carrier-grade NAT,
/// unspecified, broadcast, multicast, documentation and reserved ranges,
/// and IPv6 forms that embed one of those.
pub fn forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        // The old 6to4 relay anycast.
        || (a == 192 && b == 88 && c == 99)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let segments = ip.segments();
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // Unique local fc00::/7, link-local fe80::/10, site-local fec0::/10.
        || (segments[0] & 0xfe00) == 0xfc00
        || (segments[0] & 0xffc0) == 0xfe80
        || (segments[0] & 0xffc0) == 0xfec0
        // IPv4-compatible ::a.b.c.d, IPv4-translated ::ffff:0:a.b.c.d,
        // NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16 and Teredo
        // 2001::/32 (which embed an IPv4 address), documentation
        // 2001:db8::/32.
        || (segments[..6] == [0, 0, 0, 0, 0, 0])
        || (segments[..6] == [0, 0, 0, 0, 0xffff, 0])
        || (segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0])
        || (segments[..3] == [0x64, 0xff9b, 1])
        || segments[0] == 0x2002
        || (segments[0] == 0x2001 && (segments[1] == 0 || segments[1] == 0x0db8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_https_urls_are_accepted_and_the_rest_explained() {
        assert!(parse("https://hooks.example.com/portcullis?x=1", false).is_ok());
        assert!(parse("https://93.184.216.34:8443/hook", false).is_ok());
        for (bad, why) in [
            ("http://hooks.example.com/", WebhookUrlError::NotHttps),
            ("ftp://hooks.example.com/", WebhookUrlError::NotAUrl),
            ("hooks.example.com", WebhookUrlError::NotAUrl),
            (
                "https://user:pw@hooks.example.com/",
                WebhookUrlError::UserInfo,
            ),
            ("https://hooks.example.com/#x", WebhookUrlError::Fragment),
            ("https://127.0.0.1/", WebhookUrlError::PrivateAddress),
            ("https://localhost:8080/", WebhookUrlError::PrivateAddress),
            ("https://10.1.2.3/", WebhookUrlError::PrivateAddress),
            (
                "https://169.254.169.254/latest/meta-data",
                WebhookUrlError::PrivateAddress,
            ),
            ("https://[::1]/", WebhookUrlError::PrivateAddress),
            (
                "https://[::ffff:127.0.0.1]/",
                WebhookUrlError::PrivateAddress,
            ),
            ("https://[fd00::1]/", WebhookUrlError::PrivateAddress),
            ("https://0x7f000001/", WebhookUrlError::PrivateAddress),
            ("https://2130706433/", WebhookUrlError::PrivateAddress),
            ("https://0/", WebhookUrlError::PrivateAddress),
        ] {
            assert_eq!(parse(bad, false), Err(why), "{bad}");
        }
        assert!(parse("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(parse("http://localhost:9000/hook", true).is_ok());
    }

    #[test]
    fn the_addresses_a_resolver_may_return_are_checked() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::",
            "64:ff9b:1::a00:1",
            "2001:0:4136:e378::1",
            "::ffff:0:a00:1",
            "192.88.99.1",
        ] {
            assert!(forbidden(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!forbidden(ip.parse().unwrap()), "{ip}");
        }
    }
}
