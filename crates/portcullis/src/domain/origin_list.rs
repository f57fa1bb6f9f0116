//! An environment's list of allowed origins as a whole: whether it admits
//! a request's `Origin`, and the advice it earns in a `live` environment.

use serde::Serialize;

use super::origin::{AllowedOrigin, RequestOrigin};

/// The most origins one environment may list.
pub const MAX_ORIGINS: i64 = 100;

/// The origins an environment allows. An empty list allows every origin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginList {
    origins: Vec<AllowedOrigin>,
    /// Whether anything is listed, usable or not: a stored origin that a
    /// stricter parser no longer accepts matches nothing, and does not turn
    /// the list into an empty one that allows all.
    restricted: bool,
}

impl OriginList {
    /// The list of what is stored: `None` for an entry that no longer parses.
    pub fn new(listed: impl IntoIterator<Item = Option<AllowedOrigin>>) -> Self {
        let mut list = OriginList::default();
        for entry in listed {
            list.restricted = true;
            list.origins.extend(entry);
        }
        list
    }

    /// Whether every origin is allowed (nothing is listed).
    pub fn allows_all(&self) -> bool {
        !self.restricted
    }

    /// Whether a request whose `Origin` header is `header` may call the
    /// environment's SDK API.
    pub fn allows(&self, header: &str) -> bool {
        self.admits(RequestOrigin::parse(header).as_ref())
    }

    /// `allows`, for a header already parsed (`None`: not an origin).
    pub fn admits(&self, request: Option<&RequestOrigin>) -> bool {
        !self.restricted
            || request.is_some_and(|request| self.origins.iter().any(|o| o.admits(request)))
    }
}

/// Advice about a listed origin; never a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OriginWarning {
    /// `wildcard_origin`, `local_origin`, `insecure_origin` or
    /// `unusable_origin`
    pub code: &'static str,
    pub origin: String,
    pub message: &'static str,
}

/// What a list earns: in a `live` environment, a warning for each
/// wildcard, `localhost` or loopback address, and `http:` origin (other
/// environments are for development); in any environment, one for each
/// stored origin that no longer parses (`None`), which matches nothing.
pub fn warnings<'a>(
    live: bool,
    listed: impl IntoIterator<Item = (&'a str, Option<&'a AllowedOrigin>)>,
) -> Vec<OriginWarning> {
    let mut out = vec![];
    for (stored, origin) in listed {
        let mut warn = |code, message| {
            out.push(OriginWarning {
                code,
                origin: stored.to_string(),
                message,
            })
        };
        let Some(origin) = origin else {
            warn(
                "unusable_origin",
                "this stored origin is no longer valid and matches nothing; delete it",
            );
            continue;
        };
        if !live {
            continue;
        }
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
        let empty = OriginList::new([]);
        for header in ["https://anything.example", "null", "garbage"] {
            assert!(empty.allows(header), "{header}");
        }
    }

    #[test]
    fn a_list_allows_what_one_of_its_origins_admits() {
        use crate::domain::origin::tests::{ADMITTED, ADVERSARIAL, LIST};
        let origins = OriginList::new(list(&LIST).into_iter().map(Some));
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
        let entries = |origins: &'_ [AllowedOrigin]| -> Vec<(String, AllowedOrigin)> {
            origins.iter().map(|o| (o.to_string(), o.clone())).collect()
        };
        let risky = entries(&risky);
        let listed = || risky.iter().map(|(s, o)| (s.as_str(), Some(o)));
        assert!(warnings(false, listed()).is_empty());
        let found: Vec<(&str, String)> = warnings(true, listed())
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
        let safe = AllowedOrigin::parse("https://domain.com").unwrap();
        assert!(warnings(true, [("https://domain.com", Some(&safe))]).is_empty());
    }

    #[test]
    fn a_stored_origin_that_no_longer_parses_matches_nothing_and_is_flagged() {
        let list = OriginList::new([None]);
        assert!(!list.allows_all());
        assert!(!list.allows("https://domain.com"));
        for live in [true, false] {
            let found = warnings(live, [("https://*.com", None)]);
            assert_eq!(found.len(), 1);
            assert_eq!(found[0].code, "unusable_origin");
            assert_eq!(found[0].origin, "https://*.com");
        }
    }
}
