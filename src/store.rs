//! The store: everything gongan keeps in its data dir, behind domain types and a
//! [`StoreError`] (the HTTP layer maps it to problems in one place).
//!
//! - [`db`]: the one SQLite database (WAL, migrations versioned in code).
//! - [`journal`]: the session journal on that database — the [`Journal`](crate::session::Journal)
//!   port the conductor writes through — and the history read back from it.

pub mod db;
pub mod error;
pub mod journal;

pub use error::StoreError;
