//! [`SynthError`]: why the default pack could not be rendered or written.

use std::path::PathBuf;

use thiserror::Error;

use crate::audio::SoundError;

/// Why the default pack could not be rendered or written. Every file-system error names
/// the path it was about.
#[derive(Debug, Error)]
pub enum SynthError {
    /// The pack folder could not be created.
    #[error("cannot create pack folder {}: {source}", path.display())]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A WAV file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Wav {
        /// The file being written (its temporary name).
        path: PathBuf,
        /// What the WAV encoder said.
        source: hound::Error,
    },
    /// A file could not be written, read back or moved into place.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The manifest could not be serialised (a bug: the manifest is built in code).
    #[error("cannot serialise the pack manifest: {0}")]
    Manifest(#[from] toml::ser::Error),
    /// An instrument's numbers did not make a usable sound (a bug in the tables).
    #[error("instrument {instrument} did not render: {source}")]
    Render {
        /// The instrument's file name.
        instrument: String,
        /// What was wrong with the samples.
        source: SoundError,
    },
}
