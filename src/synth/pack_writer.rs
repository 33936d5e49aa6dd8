//! [`write_pack`]: renders every instrument of a built-in pack and writes its folder.

use std::fs;
use std::path::{Path, PathBuf};

use crate::audio::{DEFAULT_SAMPLE_RATE, Sound};
use crate::pack::manifest::{MANIFEST_FILE, Manifest};

use super::built_in::BuiltInPack;
use super::error::SynthError;
use super::instrument::Instrument;

/// Bits per sample of the pack's WAV files: 24-bit keeps the long gong tail clean
/// (−144 dB of headroom for a 60 dB decay) at three quarters of the size of 32-bit float.
pub const BITS_PER_SAMPLE: u16 = 24;

/// Full scale of a 24-bit sample.
const FULL_SCALE: f64 = 8_388_607.0;

/// What [`write_pack`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackSummary {
    /// Every file written, sounds first and the manifest last, with its size in bytes.
    pub files: Vec<WrittenFile>,
    /// The sum of the files' sizes.
    pub total_bytes: u64,
}

/// One file of a written pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// Where it was written (inside the pack folder).
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Renders the default gamelan pack into `dir` ([`write_pack`] of
/// [`BuiltInPack::Default`]): the committed `sounds/default/` is this function's output.
///
/// # Errors
/// [`SynthError`] naming the path that could not be created or written.
pub fn write_default_pack(dir: &Path) -> Result<PackSummary, SynthError> {
    write_pack(BuiltInPack::Default, dir)
}

/// Renders built-in `pack` into `dir`: mono 48 kHz 24-bit WAVs and `pack.toml`.
///
/// `dir` is created if missing; files of the same names are replaced, other files are left
/// alone. Each file is written under a temporary name (`*.wav.tmp`) and renamed into
/// place, and the manifest is written last, so a reader never sees a half-written sound
/// and a folder with a `pack.toml` has all of its sounds. The output is the same byte for
/// byte on every run.
///
/// # Errors
/// [`SynthError`] naming the path that could not be created or written.
pub fn write_pack(pack: BuiltInPack, dir: &Path) -> Result<PackSummary, SynthError> {
    fs::create_dir_all(dir).map_err(|source| SynthError::CreateDir {
        path: dir.to_owned(),
        source,
    })?;
    let instruments = pack.instruments();
    let mut files = Vec::new();
    for instrument in &instruments {
        for (voice, name) in instrument.voices.iter().zip(instrument.file_names()) {
            let sound = voice
                .render(DEFAULT_SAMPLE_RATE)
                .map_err(|source| SynthError::Render {
                    instrument: name.clone(),
                    source,
                })?;
            files.push(write_wav(&dir.join(name), &sound)?);
        }
    }
    let manifest = toml::to_string(&pack.manifest_of(&instruments))?;
    files.push(write_atomically(&dir.join(MANIFEST_FILE), |tmp| {
        fs::write(tmp, &manifest).map_err(|source| SynthError::Io {
            path: tmp.to_owned(),
            source,
        })
    })?);
    let total_bytes = files.iter().map(|f| f.bytes).sum();
    Ok(PackSummary { files, total_bytes })
}

/// The manifest of the default pack for `instruments`
/// ([`BuiltInPack::manifest_of`] of [`BuiltInPack::Default`]).
#[must_use]
pub fn default_manifest(instruments: &[Instrument]) -> Manifest {
    BuiltInPack::Default.manifest_of(instruments)
}

/// Writes `sound` as a mono 24-bit WAV at `path`, through a temporary file.
fn write_wav(path: &Path, sound: &Sound) -> Result<WrittenFile, SynthError> {
    write_atomically(path, |tmp| {
        let wav_error = |source| SynthError::Wav {
            path: tmp.to_owned(),
            source,
        };
        let spec = hound::WavSpec {
            channels: sound.channels(),
            sample_rate: sound.sample_rate(),
            bits_per_sample: BITS_PER_SAMPLE,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(tmp, spec).map_err(wav_error)?;
        for &sample in sound.samples() {
            let quantised = (f64::from(sample) * FULL_SCALE).round();
            writer
                .write_sample(quantised.clamp(-FULL_SCALE, FULL_SCALE) as i32)
                .map_err(wav_error)?;
        }
        writer.finalize().map_err(wav_error)
    })
}

/// Runs `write` on `path` + `.tmp`, then renames the result to `path`; a failed write
/// leaves no temporary file behind.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), SynthError>,
) -> Result<WrittenFile, SynthError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    if let Err(err) = write(&tmp) {
        // Best effort: the error that matters is the write's, not the clean-up's.
        let _ = fs::remove_file(&tmp);
        return Err(err);
    }
    let io_error = |source| SynthError::Io {
        path: path.to_owned(),
        source,
    };
    fs::rename(&tmp, path).map_err(io_error)?;
    let bytes = fs::metadata(path).map_err(io_error)?.len();
    Ok(WrittenFile {
        path: path.to_owned(),
        bytes,
    })
}
