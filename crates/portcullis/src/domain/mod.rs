//! Pure rules and types: no I/O, no clock reads, no randomness.
//! Everything here is unit-tested on its own.

pub mod actor;
pub mod advisor;
pub mod algorithm;
pub mod claims;
pub mod credential;
pub mod delivery;
pub mod email;
pub mod ethereum;
pub mod events;
pub mod expiration;
pub mod member_session;
pub mod mfa;
pub mod origin;
pub mod origin_list;
pub mod phone;
pub mod rate_limit;
pub mod revocation;
pub mod roles;
pub mod sdk_cookie;
pub mod settings;
pub mod siwe;
pub mod validation;
pub mod verification;
pub mod webhook_url;
