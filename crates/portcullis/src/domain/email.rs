//! An e-mail address that has been parsed, so an invalid one cannot travel
//! further. Deliberately stricter than RFC 5322 (no quoted local parts, no
//! comments, no IP literals): these are addresses people type into a
//! sign-in form. The whole address is lower-cased, so `A@x.io` and `a@x.io`
//! are one user.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidEmail(&'static str);

const LOCAL_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~.-";

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, InvalidEmail> {
        let s = input.trim().to_ascii_lowercase();
        if s.len() > 254 {
            return Err(InvalidEmail("must be at most 254 characters"));
        }
        let (local, domain) = s.rsplit_once('@').ok_or(InvalidEmail("must contain '@'"))?;
        if local.is_empty() || local.len() > 64 {
            return Err(InvalidEmail(
                "the part before '@' must be 1 to 64 characters",
            ));
        }
        if !local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || LOCAL_SPECIALS.contains(c))
        {
            return Err(InvalidEmail(
                "the part before '@' has a character that is not allowed",
            ));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(InvalidEmail("the part before '@' has a misplaced '.'"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 {
            return Err(InvalidEmail("the domain must have at least two labels"));
        }
        for label in &labels {
            let ok = !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-');
            if !ok {
                return Err(InvalidEmail("the domain is not a valid host name"));
            }
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_ordinary_addresses_and_normalizes_case() {
        assert_eq!(
            EmailAddress::parse(" Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        assert!(EmailAddress::parse("first.last+tag@sub.example.co.uk").is_ok());
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "@",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "ada@-example.com",
            "ada@example..com",
            ".ada@example.com",
            "a..b@example.com",
            "ada lovelace@example.com",
            "ada@exa mple.com",
            "ada@exam\nple.com",
            "ada\r\nBcc: x@y.io",
            "ada\u{0}@x.io",
            "ada@exam_ple.com",
            "ada@[127.0.0.1]",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "accepted {bad:?}");
        }
        assert!(EmailAddress::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }

    proptest! {
        #[test]
        fn never_panics_and_output_reparses(s in "\\PC{0,80}") {
            if let Ok(e) = EmailAddress::parse(&s) {
                prop_assert_eq!(EmailAddress::parse(e.as_str()).unwrap(), e.clone());
                prop_assert!(e.as_str().contains('@'));
            }
        }

        #[test]
        fn generated_valid_addresses_parse(
            local in "[a-z0-9]{1,20}(\\.[a-z0-9+_-]{1,10}){0,2}",
            domain in "[a-z0-9]{1,20}(-[a-z0-9]{1,5})?\\.[a-z]{2,10}",
        ) {
            let addr = format!("{local}@{domain}");
            let parsed = EmailAddress::parse(&addr).unwrap();
            prop_assert_eq!(parsed.as_str(), addr.as_str());
        }
    }
}
