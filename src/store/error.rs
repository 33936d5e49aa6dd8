//! [`StoreError`]: why the store could not do what was asked. The HTTP layer turns it into
//! a problem answer in one place (`impl From<StoreError> for ApiError`).

use thiserror::Error;

use super::files::{FileKind, size};
use crate::pack::PackError;
use crate::session::{JournalError, PlanError, PlanId};
use crate::synth::SynthError;

/// Why a store operation failed. Nothing was changed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The data dir is full or read-only.
    #[error("the data dir cannot take more writes ({0}); free some space or make it writable")]
    Full(String),
    /// No such thing.
    #[error("{0}")]
    NotFound(String),
    /// The database could not be opened, read or written.
    #[error("the database in the data dir failed: {0}")]
    Database(String),
    /// Something in the store is not what gongan wrote (a corrupt journal row).
    #[error("the store holds something unreadable: {0}")]
    Corrupt(String),
    /// No template or saved plan has this id.
    #[error("no plan '{0}': it is neither a template nor a saved plan")]
    NoSuchPlan(PlanId),
    /// A built-in template's id: templates cannot be changed or deleted.
    #[error(
        "'{0}' is a built-in template and cannot be changed; save your version under another id"
    )]
    Template(PlanId),
    /// A saved plan file that no longer parses or validates (someone edited it by hand, or
    /// a newer rule refuses it). What is quoted of the file is a short excerpt at most.
    #[error(
        "saved plan '{id}' no longer validates ({}); save a new version",
        one_line(error)
    )]
    InvalidPlan {
        /// The plan.
        id: PlanId,
        /// What is wrong with it.
        error: PlanError,
    },
    /// No pack has this id.
    #[error("no pack named '{name}'; the packs are: {}", packs.join(", "))]
    NoSuchPack {
        /// The id asked for.
        name: String,
        /// The ids there are.
        packs: Vec<String>,
    },
    /// The pack's files do not make a pack gongan can play.
    #[error("pack '{id}' does not load: {error}")]
    PackDoesNotLoad {
        /// The pack.
        id: String,
        /// The first problem found.
        error: PackError,
    },
    /// An archive to install was refused: the detail names the entry.
    #[error("{0}")]
    BadArchive(super::archive::ArchiveError),
    /// A name that cannot name a pack.
    #[error(
        "'{0}' cannot name a pack: use lowercase letters, digits and single hyphens, like team-sounds"
    )]
    BadPackName(String),
    /// The pack is the active one: it cannot be replaced or deleted while it plays.
    #[error("pack '{0}' is the active pack; activate another before replacing or deleting it")]
    PackIsActive(String),
    /// A pack that is not in the data dir's keeping: built into gongan, or the folder given
    /// with `--pack DIR`.
    #[error(
        "pack '{name}' {why} and cannot be replaced or deleted; install yours under another name"
    )]
    PackIsReadOnly {
        /// The pack.
        name: String,
        /// What it is: `is built into gongan`, `is the folder given with --pack`.
        why: &'static str,
    },
    /// The built-in default pack did not render (a bug in the synthesizer's tables).
    #[error("the built-in default pack did not render: {0}")]
    BuiltinPack(SynthError),
    /// A path in the data dir that is not a regular file (a FIFO, a device, a folder — or a
    /// symlink to one): gongan does not read it.
    #[error(
        "{file} is {kind}, not a regular file; gongan reads only regular files from its data dir, so remove or replace it"
    )]
    NotRegularFile {
        /// The file, relative to the data dir (`plans/drill.toml`).
        file: String,
        /// What it is.
        kind: FileKind,
    },
    /// A file in the data dir over its size cap.
    #[error(
        "{file} is {} ({bytes} bytes), over the {} limit; gongan does not read it",
        size(*.bytes),
        size(*.limit)
    )]
    TooLarge {
        /// The file, relative to the data dir.
        file: String,
        /// Its size.
        bytes: u64,
        /// The cap.
        limit: u64,
    },
    /// A file could not be read, written or removed for a reason other than a full or
    /// read-only disk (those are [`StoreError::Full`]).
    #[error("cannot {action} {file}: {error}")]
    Io {
        /// `read`, `save`, `delete`…
        action: &'static str,
        /// The file, relative to the data dir.
        file: String,
        /// What the file system said.
        error: std::io::Error,
    },
    /// The worker thread doing the store's blocking work stopped before it finished (it
    /// panicked, or the server is shutting down).
    #[error("the store's worker stopped before it finished: {0}")]
    Stopped(String),
}

impl StoreError {
    /// The error for failing to `action` (`save`, `delete`) `file`: [`StoreError::Full`]
    /// when the disk is full or read-only, else [`StoreError::Io`].
    #[must_use]
    pub fn writing(action: &'static str, file: String, error: std::io::Error) -> StoreError {
        if super::files::is_out_of_space(&error) {
            StoreError::Full(format!("cannot {action} {file}: {error}"))
        } else {
            StoreError::Io {
                action,
                file,
                error,
            }
        }
    }
}

/// A plan error on one line: its problems are listed one per line.
fn one_line(error: &PlanError) -> String {
    error.to_string().replace('\n', "; ")
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode::{CannotOpen, DiskFull, ReadOnly};
        match error.sqlite_error_code() {
            Some(DiskFull | ReadOnly | CannotOpen) => StoreError::Full(error.to_string()),
            _ => StoreError::Database(error.to_string()),
        }
    }
}

impl From<StoreError> for JournalError {
    fn from(error: StoreError) -> JournalError {
        match error {
            StoreError::Full(why) => JournalError::Full(why),
            other => JournalError::Failed(other.to_string()),
        }
    }
}
