//! Sound packs: a folder with a `pack.toml` manifest and audio files.
//!
//! A pack maps instrument names to files. Everything is validated before it is decoded,
//! then decoded and resampled to the engine rate once, at load, with its loudness measured
//! so that packs play at even levels.
//!
//! Packs are untrusted input (users upload them): manifest paths must stay inside the
//! pack folder, WAV headers are checked chunk by chunk before decoding, and every file is
//! capped in bytes ([`MAX_FILE_BYTES`]) and in duration ([`MAX_DURATION_SECS`]). No size is
//! taken from a header before it has been checked against the real file.

mod audio_error;
mod check;
mod compressed;
pub mod decode;
mod error;
mod instrument;
mod load;
pub mod loudness;
pub mod manifest;
pub mod paths;
pub mod resample;
mod role;
mod scaffold;
pub mod wav;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use audio_error::AudioError;
pub use check::{Problem, Summary, check, inspect};
pub use decode::{MAX_DURATION_SECS, MAX_FILE_BYTES, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};
pub use error::PackError;
pub use instrument::Instrument;
pub use manifest::{InstrumentEntry, MANIFEST_FILE, Manifest};
pub use role::Role;
pub use scaffold::scaffold;

/// A loaded sound pack: every instrument decoded, resampled to one rate and measured.
///
/// Loading does all the work up front so that playing a cue only looks a sound up; the
/// sounds are `Arc`s the renderer can hold without copying.
#[derive(Debug, Clone)]
pub struct Pack {
    dir: PathBuf,
    manifest: Manifest,
    instruments: BTreeMap<String, Instrument>,
    /// Instruments taken from the default pack because this one has none of that name
    /// (see [`Pack::with_fallback`]).
    fallbacks: Vec<String>,
}

impl Pack {
    /// Loads the pack in `dir`, decoding and resampling every sound to `sample_rate`.
    ///
    /// All-or-nothing: the first problem stops the load (use [`check`] to list them all).
    ///
    /// # Errors
    /// A missing or invalid manifest, a path outside the pack, or a file that is not
    /// acceptable audio — each naming the file.
    pub fn load(dir: &Path, sample_rate: u32) -> Result<Pack, PackError> {
        let opened = load::open(dir)?;
        if let Some(error) = opened.manifest_errors().next() {
            return Err(error);
        }
        let mut instruments = BTreeMap::new();
        for (name, entry) in &opened.manifest.instruments {
            let sounds = entry
                .files()
                .map(|file| opened.sound(name, file, Some(sample_rate)).map(Arc::new))
                .collect::<Result<Vec<_>, _>>()?;
            // The manifest check guarantees at least one file per instrument.
            if let Some(instrument) = Instrument::new(name.clone(), sounds, entry.gain_db) {
                instruments.insert(name.clone(), instrument);
            }
        }
        Ok(Pack {
            dir: opened.dir,
            manifest: opened.manifest,
            instruments,
            fallbacks: Vec::new(),
        })
    }

    /// A pack built from sounds already in memory (the built-in synthesizer's, when the
    /// server runs where `sounds/default/` is not), described by `manifest`. `dir` is
    /// where it would live on disk, for messages; it need not exist.
    ///
    /// The instruments are taken as they are: the caller made them with
    /// [`Instrument::new`], so they are decoded, at one rate and measured.
    #[must_use]
    pub fn from_instruments(
        dir: PathBuf,
        manifest: Manifest,
        instruments: impl IntoIterator<Item = Instrument>,
    ) -> Pack {
        Pack {
            dir,
            manifest,
            instruments: instruments
                .into_iter()
                .map(|i| (i.name().to_owned(), i))
                .collect(),
            fallbacks: Vec::new(),
        }
    }

    /// This pack, with every instrument of `default` it does not define taken from
    /// `default`: a stroke of a role or an instrument the pack has no sound for is heard
    /// with the default pack's sound, not silent. The sounds are shared, not copied.
    #[must_use]
    pub fn with_fallback(mut self, default: &Pack) -> Pack {
        for (name, instrument) in &default.instruments {
            if !self.instruments.contains_key(name) {
                self.instruments.insert(name.clone(), instrument.clone());
                self.fallbacks.push(name.clone());
            }
        }
        self
    }

    /// The instruments heard from the default pack because this one lacks them, in name
    /// order.
    #[must_use]
    pub fn fallbacks(&self) -> &[String] {
        &self.fallbacks
    }

    /// The instrument the pack gives `role`, if it remaps it.
    #[must_use]
    pub fn role(&self, role: Role) -> Option<&str> {
        self.manifest.roles.get(&role).map(String::as_str)
    }

    /// The pack's name from its manifest.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    /// The manifest the pack was loaded from.
    #[must_use]
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The folder the pack was loaded from, as it was given.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The instrument called `name`, if the pack has it.
    #[must_use]
    pub fn instrument(&self, name: &str) -> Option<&Instrument> {
        self.instruments.get(name)
    }

    /// All instruments, in name order.
    pub fn instruments(&self) -> impl Iterator<Item = &Instrument> {
        self.instruments.values()
    }
}
