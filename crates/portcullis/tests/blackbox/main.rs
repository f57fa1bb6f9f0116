//! Black-box tests: every test talks HTTP to a real server started by the
//! shared harness (or runs the real binary).

mod harness;
mod postgres;

mod access;
mod advisor;
mod api_tokens;
mod bad_input;
mod cli;
mod connections;
mod cookie_mode;
mod crash;
mod credentials;
mod dashboard;
mod database_down;
mod email_sign_in;
mod introspection;
mod lock;
mod management;
mod members;
mod mfa;
mod nodes;
mod notifications;
mod openapi;
mod operations;
mod origins;
mod passkeys;
mod private_files;
mod rate_limits;
mod revocation_feed;
mod revocation_stream;
mod sessions;
mod sms_sign_in;
mod tls;
mod tokens;
mod verify_follow;
mod verify_library;
mod wallet_sign_in;
mod webhooks;
