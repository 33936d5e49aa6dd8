//! [`PackError`]: why a pack could not be loaded, scaffolded, or passed a check.

use std::path::PathBuf;

use thiserror::Error;

use super::AudioError;
use super::manifest::{ManifestProblem, SyntaxError};
use super::paths::PathRefusal;

/// Why a pack failed. Every message is one line that starts with the file it is about, so
/// `gongan pack check` can print problems as they are and an upload can report them.
///
/// Causes are part of the message rather than a `source()` chain, so printing the error
/// with its chain does not repeat them.
#[derive(Debug, Error)]
pub enum PackError {
    /// The pack folder itself cannot be used.
    #[error("{}: not a readable folder: {error}", path.display())]
    NotAFolder {
        /// The folder given.
        path: PathBuf,
        /// What the file system said.
        error: std::io::Error,
    },
    /// The folder has no `pack.toml`.
    #[error("{}: missing; a pack needs a {} manifest", path.display(), super::MANIFEST_FILE)]
    MissingManifest {
        /// Where the manifest was looked for.
        path: PathBuf,
    },
    /// A file could not be read or written.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        error: std::io::Error,
    },
    /// `pack.toml` is not valid TOML or has unknown or mistyped fields.
    #[error("{}:{error}", path.display())]
    Syntax {
        /// The manifest.
        path: PathBuf,
        /// What and where.
        error: SyntaxError,
    },
    /// `pack.toml` parses but its content is invalid.
    #[error("{}: {problem}", path.display())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        problem: ManifestProblem,
    },
    /// A file named in the manifest is not a file inside the pack.
    #[error("{}: instrument `{instrument}`: file {:?} {refusal}", manifest.display(), file.display())]
    BadPath {
        /// The manifest.
        manifest: PathBuf,
        /// The instrument that names the file.
        instrument: String,
        /// The path as written in the manifest.
        file: PathBuf,
        /// Why it was refused.
        refusal: PathRefusal,
    },
    /// An audio file was refused.
    #[error("{}: {error} (instrument `{instrument}`)", path.display())]
    Audio {
        /// The audio file.
        path: PathBuf,
        /// The instrument it belongs to.
        instrument: String,
        /// What is wrong with it.
        error: AudioError,
    },
    /// `gongan pack new` was pointed at a folder that already has files in it.
    #[error("{}: exists and is not empty; refusing to overwrite it", path.display())]
    NotEmpty {
        /// The folder.
        path: PathBuf,
    },
}
