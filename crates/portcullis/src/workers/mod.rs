//! Background work. Today: periodic maintenance of in-memory state.
pub mod changes;
pub mod locks;
pub mod maintenance;
pub mod outbox;
