//! The API's JSON: the answers and request bodies `/openapi.json`
//! documents, one file per area. Each answer is built `From` the plain type
//! a service returns; a secret a service hands over once (a token, a
//! signing secret, a TOTP secret, recovery codes) is a `SecretString` until
//! it is exposed here, where the answer is built. A request body that a
//! service takes as a plain value converts `Into` it.
//!
//! The values of the domain that are a documented shape themselves
//! (settings, claims, roles) keep their own derives (`crate::domain`).

pub mod advisor;
pub mod auth;
pub mod environments;
pub mod events;
pub mod members;
pub mod mfa;
pub mod revocations;
pub mod sessions;
pub mod tokens;
pub mod users;
pub mod webhooks;

use secrecy::{ExposeSecret, SecretString};

/// The secret as the answer shows it, this once.
fn shown(secret: &SecretString) -> String {
    secret.expose_secret().to_owned()
}
