//! An environment's list of allowed origins as a whole: whether it admits
//! a request's `Origin`, and the advice it earns in a `live` environment.

use serde::Serialize;

use super::origin::{AllowedOrigin, RequestOrigin};

/// The most origins one environment may list.
pub const MAX_ORIGINS: i64 = 100;

/// The origins an environment allows. An empty list allows every origin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginList(Vec<AllowedOrigin>);

impl OriginList {
    pub fn new(origins: Vec<AllowedOrigin>) -> Self {
        OriginList(origins)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a request whose `Origin` header is `header` may call the
    /// environment's SDK API.
    pub fn allows(&self, header: &str) -> bool {
        if self.0.is_empty() {
            return true;
        }
        RequestOrigin::parse(header)
            .is_some_and(|request| self.0.iter().any(|allowed| allowed.admits(&request)))
    }
}

/// Advice about a listed origin; never a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OriginWarning {
    /// `wildcard_origin`, `local_origin` or `insecure_origin`
    pub code: &'static str,
    pub origin: String,
    pub message: &'static str,
}

/// What a `live` environment's list earns: a warning for each wildcard,
/// `localhost` or loopback address, and `http:` origin. Other environments
/// are for development and earn none.
pub fn warnings<'a>(
    live: bool,
    origins: impl IntoIterator<Item = &'a AllowedOrigin>,
) -> Vec<OriginWarning> {
    if !live {
        return vec![];
    }
    let mut out = vec![];
    for origin in origins {
        let mut warn = |code, message| {
            out.push(OriginWarning {
                code,
                origin: origin.to_string(),
                message,
            })
        };
        if origin.has_wildcard() {
            warn(
                "wildcard_origin",
                "a wildcard admits every origin it matches, including ones you do not control; \
                 list your production origins exactly",
            );
        }
        if origin.is_local() {
            warn(
                "local_origin",
                "localhost and loopback origins are for development; \
                 any page served on the user's machine may use them",
            );
        }
        if origin.is_http() {
            warn(
                "insecure_origin",
                "an http: origin can be impersonated on the network; use https",
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(origins: &[&str]) -> Vec<AllowedOrigin> {
        origins
            .iter()
            .map(|o| AllowedOrigin::parse(o).unwrap_or_else(|e| panic!("{o}: {e}")))
            .collect()
    }

    #[test]
    fn an_empty_list_allows_every_origin_even_null() {
        let empty = OriginList::default();
        for header in ["https://anything.example", "null", "garbage"] {
            assert!(empty.allows(header), "{header}");
        }
    }

    #[test]
    fn a_list_allows_what_one_of_its_origins_admits() {
        use crate::domain::origin::tests::{ADMITTED, ADVERSARIAL, LIST};
        let origins = OriginList::new(list(&LIST));
        for ok in ADMITTED {
            assert!(origins.allows(ok), "{ok}");
        }
        for bad in ADVERSARIAL
            .iter()
            .chain(&["https://domain.com, https://evil.com"])
        {
            assert!(!origins.allows(bad), "{bad}");
        }
    }

    #[test]
    fn only_live_environments_get_advice_and_only_for_risky_origins() {
        let risky = list(&[
            "https://my-app-*.vercel.app",
            "http://localhost:3200",
            "http://127.0.0.1:4200",
            "http://domain.com",
            "https://domain.com",
        ]);
        assert!(warnings(false, &risky).is_empty());
        let found: Vec<(&str, String)> = warnings(true, &risky)
            .into_iter()
            .map(|w| (w.code, w.origin))
            .collect();
        assert_eq!(
            found,
            vec![
                ("wildcard_origin", "https://my-app-*.vercel.app".to_string()),
                ("local_origin", "http://localhost:3200".to_string()),
                ("insecure_origin", "http://localhost:3200".to_string()),
                ("local_origin", "http://127.0.0.1:4200".to_string()),
                ("insecure_origin", "http://127.0.0.1:4200".to_string()),
                ("insecure_origin", "http://domain.com".to_string()),
            ]
        );
        assert!(warnings(true, &list(&["https://domain.com"])).is_empty());
    }
}
