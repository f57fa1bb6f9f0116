//! Sign-In with Ethereum messages (EIP-4361): parsed strictly, line by
//! line, and written in the same form. The checks against the request
//! (domain, URI, chain, nonce, times, the signature) belong to the sign-in
//! service; this module only says what a message holds. Pure, no I/O.
//!
//! ```text
//! {scheme://}{domain} wants you to sign in with your Ethereum account:
//! {address}
//!
//! {statement}            (optional; the blank line after it stays)
//!
//! URI: {uri}
//! Version: 1
//! Chain ID: {chain_id}
//! Nonce: {nonce}
//! Issued At: {RFC 3339}
//! Expiration Time: {RFC 3339}   (optional, and each line below)
//! Not Before: {RFC 3339}
//! Request ID: {text}
//! Resources:
//! - {uri}
//! ```

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::ethereum::{Address, AddressError};

const PREAMBLE: &str = " wants you to sign in with your Ethereum account:";
/// The most a message may weigh; wallets show it to the user whole.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiweMessage {
    /// `https` etc. when the first line names one.
    pub scheme: Option<String>,
    /// host, with a port if one is given (RFC 3986 authority).
    pub domain: String,
    pub address: Address,
    pub statement: Option<String>,
    pub uri: String,
    pub chain_id: u64,
    pub nonce: String,
    pub issued_at: OffsetDateTime,
    pub expiration_time: Option<OffsetDateTime>,
    pub not_before: Option<OffsetDateTime>,
    pub request_id: Option<String>,
    pub resources: Vec<String>,
}

/// What is wrong with a message, for a `validation_failed` answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiweError {
    #[error("is over {MAX_MESSAGE_BYTES} bytes")]
    TooLong,
    #[error("line {0}: expected {1}")]
    Expected(usize, &'static str),
    #[error("line {0}: the address {1}")]
    Address(usize, AddressError),
    #[error("line {0}: {1}")]
    Value(usize, &'static str),
    #[error("has text after its last field")]
    Trailing,
    #[error("ends before {0}")]
    Ended(&'static str),
}

/// Printable ASCII and spaces: what a domain, URI, nonce or statement may
/// hold (a control character or another script could make the text a
/// wallet shows differ from what is checked).
fn printable(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

fn time_at(n: usize, text: &str) -> Result<OffsetDateTime, SiweError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| SiweError::Value(n, "not an RFC 3339 time"))
}

/// The lines of `text`, numbered from 1, each taken once.
struct Lines<'a> {
    lines: std::iter::Peekable<std::iter::Enumerate<std::str::Split<'a, char>>>,
}

impl<'a> Lines<'a> {
    fn next(&mut self, what: &'static str) -> Result<(usize, &'a str), SiweError> {
        let (i, line) = self.lines.next().ok_or(SiweError::Ended(what))?;
        Ok((i + 1, line))
    }

    /// The value after `tag` on the next line, if the next line has it.
    fn optional(&mut self, tag: &str) -> Option<(usize, &'a str)> {
        let (i, line) = self.lines.peek()?;
        let value = line.strip_prefix(tag)?;
        let found = (*i + 1, value);
        self.lines.next();
        Some(found)
    }

    fn field(&mut self, tag: &'static str) -> Result<(usize, &'a str), SiweError> {
        let (n, line) = self.next(tag)?;
        line.strip_prefix(tag)
            .map(|v| (n, v))
            .ok_or(SiweError::Expected(n, tag))
    }
}

impl SiweMessage {
    /// Parses `text` exactly as EIP-4361 lays it out (`\n` line ends, no
    /// trailing newline; `\r` is refused like any control character).
    pub fn parse(text: &str) -> Result<SiweMessage, SiweError> {
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(SiweError::TooLong);
        }
        let mut lines = Lines {
            lines: text.split('\n').enumerate().peekable(),
        };
        let (n, first) = lines.next("the preamble")?;
        let origin = first.strip_suffix(PREAMBLE).ok_or(SiweError::Expected(
            n,
            "\"{domain} wants you to sign in with your Ethereum account:\"",
        ))?;
        let (scheme, domain) = match origin.split_once("://") {
            Some((scheme, domain)) => (Some(scheme), domain),
            None => (None, origin),
        };
        if scheme.is_some_and(|s| {
            s.is_empty()
                || !s.starts_with(|c: char| c.is_ascii_alphabetic())
                || !s
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        }) {
            return Err(SiweError::Value(n, "the scheme is not a URI scheme"));
        }
        if domain.is_empty() || !printable(domain) || domain.contains([' ', '/', '?', '#', '@']) {
            return Err(SiweError::Value(n, "the domain is not a host[:port]"));
        }
        let (n, address) = lines.next("the address")?;
        let address = Address::parse(address).map_err(|e| SiweError::Address(n, e))?;
        let (n, blank) = lines.next("an empty line")?;
        if !blank.is_empty() {
            return Err(SiweError::Expected(n, "an empty line"));
        }
        // A statement is a line and an empty line; without one, an empty
        // line comes straight away.
        let (n, line) = lines.next("the statement or an empty line")?;
        let statement = if line.is_empty() {
            None
        } else {
            if !printable(line) {
                return Err(SiweError::Value(
                    n,
                    "the statement holds a character that is not printable ASCII",
                ));
            }
            let (n, blank) = lines.next("an empty line")?;
            if !blank.is_empty() {
                return Err(SiweError::Expected(n, "an empty line"));
            }
            Some(line.to_string())
        };
        let (n, uri) = lines.field("URI: ")?;
        if uri.is_empty() || !printable(uri) || uri.contains(' ') || !uri.contains(':') {
            return Err(SiweError::Value(n, "the URI is not an absolute URI"));
        }
        let (n, version) = lines.field("Version: ")?;
        if version != "1" {
            return Err(SiweError::Value(n, "the version must be 1"));
        }
        let (n, chain) = lines.field("Chain ID: ")?;
        let chain_id = chain
            .parse::<u64>()
            .ok()
            .filter(|c| *c > 0 && !chain.starts_with('0'))
            .ok_or(SiweError::Value(
                n,
                "the chain id must be a positive decimal number",
            ))?;
        let (n, nonce) = lines.field("Nonce: ")?;
        if nonce.len() < 8 || !nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(SiweError::Value(
                n,
                "the nonce must be 8 or more letters and digits",
            ));
        }
        let (n, issued) = lines.field("Issued At: ")?;
        let issued_at = time_at(n, issued)?;
        let expiration_time = lines
            .optional("Expiration Time: ")
            .map(|(n, t)| time_at(n, t))
            .transpose()?;
        let not_before = lines
            .optional("Not Before: ")
            .map(|(n, t)| time_at(n, t))
            .transpose()?;
        let request_id = match lines.optional("Request ID: ") {
            Some((n, id)) if !printable(id) => {
                return Err(SiweError::Value(n, "the request id is not printable ASCII"));
            }
            found => found.map(|(_, id)| id.to_string()),
        };
        let mut resources = vec![];
        if let Some((n, rest)) = lines.optional("Resources:") {
            if !rest.is_empty() {
                return Err(SiweError::Expected(n, "\"Resources:\" alone on its line"));
            }
            while let Some((n, resource)) = lines.optional("- ") {
                if resource.is_empty() || !printable(resource) || resource.contains(' ') {
                    return Err(SiweError::Value(n, "a resource is not a URI"));
                }
                resources.push(resource.to_string());
            }
        }
        if lines.lines.next().is_some() {
            return Err(SiweError::Trailing);
        }
        Ok(SiweMessage {
            scheme: scheme.map(str::to_string),
            domain: domain.to_string(),
            address,
            statement,
            uri: uri.to_string(),
            chain_id,
            nonce: nonce.to_string(),
            issued_at,
            expiration_time,
            not_before,
            request_id,
            resources,
        })
    }

    /// The message's text, as `parse` reads it (times in RFC 3339, the
    /// address with its EIP-55 checksum).
    pub fn to_text(&self) -> String {
        let time = |t: &OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
        let mut out = String::new();
        if let Some(scheme) = &self.scheme {
            out.push_str(&format!("{scheme}://"));
        }
        out.push_str(&format!(
            "{}{PREAMBLE}\n{}\n\n",
            self.domain,
            self.address.checksummed()
        ));
        if let Some(statement) = &self.statement {
            out.push_str(&format!("{statement}\n"));
        }
        out.push_str(&format!(
            "\nURI: {}\nVersion: 1\nChain ID: {}\nNonce: {}\nIssued At: {}",
            self.uri,
            self.chain_id,
            self.nonce,
            time(&self.issued_at)
        ));
        if let Some(t) = &self.expiration_time {
            out.push_str(&format!("\nExpiration Time: {}", time(t)));
        }
        if let Some(t) = &self.not_before {
            out.push_str(&format!("\nNot Before: {}", time(t)));
        }
        if let Some(id) = &self.request_id {
            out.push_str(&format!("\nRequest ID: {id}"));
        }
        if !self.resources.is_empty() {
            out.push_str("\nResources:");
            for r in &self.resources {
                out.push_str(&format!("\n- {r}"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
