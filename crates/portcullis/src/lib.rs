//! Portcullis: a self-hosted authentication and session-security server.
//! Layers, top to bottom: `http` → `services` → `store`; `domain` holds the
//! pure rules every layer may use. See docs/architecture.md.

pub mod app;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod operator;
pub mod private_files;
pub mod services;
pub mod sms;
pub mod store;
pub mod workers;

pub use app::Application;
