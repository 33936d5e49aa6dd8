//! The handlers, one file per resource. Each is thin: parse, ask the conductor or a
//! store, answer.

pub mod cues;
pub mod health;
pub mod history;
pub mod links;
pub mod login;
pub mod packs;
pub mod plans;
pub mod preview;
pub mod room;
pub mod session;
pub mod volume;
