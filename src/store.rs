//! The store: everything gongan keeps in its data dir, behind domain types and a
//! [`StoreError`] (the HTTP layer maps it to problems in one place).
//!
//! - [`db`]: the one SQLite database (WAL, migrations versioned in code).
//! - [`deliveries`]: the deliveries the receivers took, remembered across restarts.
//! - [`journal`]: the session journal on that database — the [`Journal`](crate::session::Journal)
//!   port the conductor writes through — and the history read back from it.
//! - [`plans`]: the templates and the plans saved as TOML files in `DATA_DIR/plans/`.
//! - [`packs`]: the packs the server can play (default, installed in `DATA_DIR/packs/`,
//!   named on the command line) and the active one.
//! - [`archive`]: pack archives (tar, tar.gz, zip) checked entry by entry and unpacked.
//! - [`files`]: how plans and packs touch the disk: only regular files, capped reads,
//!   atomic writes.

pub mod archive;
pub mod db;
pub mod deliveries;
pub mod error;
pub mod files;
pub mod journal;
pub mod links;
pub mod outbox;
pub mod packs;
pub mod plans;

pub use db::Database;
pub use error::StoreError;
pub use packs::{DEFAULT_PACK, PackInfo, PackRegistry, PackSwitch};
pub use plans::{PlanStore, PlanSummary};
