//! The steps shared by loading a pack and checking one: find and parse the manifest,
//! resolve each file inside the pack, decode it, trim its silent onset.

use std::path::{Path, PathBuf};

use crate::audio::Sound;

use super::decode::{Decoded, decode_file};
use super::manifest::{MANIFEST_FILE, MAX_MANIFEST_BYTES, Manifest};
use super::paths::{PathRefusal, resolve_inside};
use super::resample::{to_rate, trim_leading_zeros};
use super::{AudioError, PackError};

/// A pack folder with its manifest parsed (not yet validated).
pub struct Opened {
    /// The folder as the caller named it, for messages.
    pub dir: PathBuf,
    /// The folder with symlinks resolved: the boundary files must stay within.
    pub real_dir: PathBuf,
    /// The manifest's path as the caller would name it, for messages.
    pub manifest_path: PathBuf,
    /// The parsed manifest.
    pub manifest: Manifest,
}

/// Opens `dir` and parses its manifest.
///
/// # Errors
/// The folder is unusable, the manifest is missing or unreadable, or it does not parse.
pub fn open(dir: &Path) -> Result<Opened, PackError> {
    let real_dir = dir.canonicalize().map_err(|error| PackError::NotAFolder {
        path: dir.to_owned(),
        error,
    })?;
    if !real_dir.is_dir() {
        return Err(PackError::NotAFolder {
            path: dir.to_owned(),
            error: std::io::Error::other("not a folder"),
        });
    }
    let manifest_path = dir.join(MANIFEST_FILE);
    // The manifest too must be a file inside the pack, not a symlink to any file at all.
    let real_manifest = match resolve_inside(&real_dir, Path::new(MANIFEST_FILE)) {
        Ok(path) => path,
        Err(PathRefusal::Missing) => {
            return Err(PackError::MissingManifest {
                path: manifest_path,
            });
        }
        Err(refusal) => {
            return Err(PackError::Io {
                path: manifest_path,
                error: std::io::Error::other(refusal.to_string()),
            });
        }
    };
    let text = read_capped(&real_manifest).map_err(|error| PackError::Io {
        path: manifest_path.clone(),
        error,
    })?;
    let manifest = Manifest::parse(&text).map_err(|error| PackError::Syntax {
        path: manifest_path.clone(),
        error,
    })?;
    Ok(Opened {
        dir: dir.to_owned(),
        real_dir,
        manifest_path,
        manifest,
    })
}

/// Reads a manifest's text, refusing more than [`MAX_MANIFEST_BYTES`].
fn read_capped(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_MANIFEST_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than the {MAX_MANIFEST_BYTES}-byte limit for a manifest"
        )));
    }
    Ok(text)
}

impl Opened {
    /// The manifest's content problems as errors, in manifest order.
    pub fn manifest_errors(&self) -> impl Iterator<Item = PackError> + '_ {
        self.manifest
            .problems()
            .into_iter()
            .map(|problem| PackError::Manifest {
                path: self.manifest_path.clone(),
                problem,
            })
    }

    /// Decodes `file` of `instrument` to a [`Sound`] with its silent onset trimmed, at
    /// `rate` if given, else at the file's own rate (enough for a check, and cheaper).
    ///
    /// # Errors
    /// The path is refused, the file unreadable, or its audio refused.
    pub fn sound(
        &self,
        instrument: &str,
        file: &Path,
        rate: Option<u32>,
    ) -> Result<Sound, PackError> {
        let shown = self.dir.join(file);
        let real = resolve_inside(&self.real_dir, file).map_err(|refusal| PackError::BadPath {
            manifest: self.manifest_path.clone(),
            instrument: instrument.to_owned(),
            file: file.to_owned(),
            refusal,
        })?;
        let audio_error = |error: AudioError| PackError::Audio {
            path: shown.clone(),
            instrument: instrument.to_owned(),
            error,
        };
        let mut audio = decode_file(&real).map_err(audio_error)?;
        trim_leading_zeros(&mut audio.samples, audio.channels);
        if audio.samples.is_empty() {
            return Err(audio_error(AudioError::NoAudio("the file is silent")));
        }
        if let Some(rate) = rate {
            audio = to_rate(audio, rate).map_err(audio_error)?;
            // Resampling can leave exact zeros ahead of the onset; the contract is that
            // frame 0 is the first non-zero frame.
            trim_leading_zeros(&mut audio.samples, audio.channels);
        }
        let Decoded {
            sample_rate,
            channels,
            samples,
        } = audio;
        Sound::from_interleaved(sample_rate, channels, samples)
            .map_err(|e| audio_error(AudioError::Sound(e)))
    }
}
