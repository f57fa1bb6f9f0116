//! The sign-in routes, a file per method (docs/sign-in.md).

pub mod email;
pub mod sms;
pub mod wallet;
