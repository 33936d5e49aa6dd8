//! Sound packs: a folder with a `pack.toml` manifest and audio files.
//!
//! A pack maps instrument names to files. Everything is validated before it is decoded,
//! then decoded and resampled to the engine rate once, at load, with its loudness measured
//! so that packs play at even levels.

pub mod manifest;

pub use manifest::{InstrumentEntry, Manifest};
