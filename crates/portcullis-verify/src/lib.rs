//! Verifies Portcullis session tokens in a Rust backend, by the same rules as the server: the signature against the
//! environment's published keys (JWKS, cached, refreshed on an unknown
//! `kid` at most once per interval), the algorithm of the key, `typ`,
//! `iss`, `aud`, `exp` and `nbf` with a leeway, the `user:basic` scope,
//! and optionally a [`RevocationCheck`].
//!
//! ```no_run
//! use portcullis_verify::{Verifier, VerifierOptions};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::discover(
//!     "https://auth.example.com/sdk/v1/env_123",
//!     "env_123",
//!     VerifierOptions::default(),
//! )
//! .await?;
//! let claims = verifier.verify_session("eyJ…").await?;
//! println!("user {} in session {}", claims.sub, claims.sid);
//! # Ok(())
//! # }
//! ```
//!
//! With the `axum` feature (on by default): the extractors
//! [`VerifiedSession`], [`PartialSession`] and [`ElevatedToken`], and the
//! tower layer [`VerifyLayer`]. See `docs/verify.md`.

#![forbid(unsafe_code)]

mod claims;
mod error;
mod follow;
mod jwks;
mod options;
mod revocations;
mod verifier;

#[cfg(feature = "axum")]
mod extract;

pub use claims::{
    Claims, ELEVATED_TOKEN_TYP, SCOPE_REQUIRES_ADDITIONAL_AUTH, SCOPE_USER_BASIC, SESSION_TOKEN_TYP,
};
pub use error::{InvalidReason, VerifyError};
pub use follow::{FollowOptions, RevocationFollower, StalePolicy};
pub use options::{Clock, VerifierOptions, system_clock};
pub use revocations::{RevocationCheck, Stale};
pub use verifier::{SetupError, Verifier};

#[cfg(feature = "axum")]
pub use extract::{
    ELEVATED_TOKEN_HEADER, ElevatedScope, ElevatedToken, PartialSession, SESSION_COOKIE,
    VerifiedSession, VerifyLayer, VerifyService, scopes,
};
