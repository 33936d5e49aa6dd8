//! Reading one audio file into interleaved `f32` samples at its own rate, within caps.
//!
//! The caps bound what a pack can make gongan do: a file is read only up to
//! [`MAX_FILE_BYTES`], and decoding stops at [`MAX_DURATION_SECS`] of audio, so a hostile
//! or broken pack costs at most a bounded amount of memory and time per sound.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::{AudioError, compressed, wav};

/// The longest sound a pack may hold, in seconds. A gong ageng rings for well under half a
/// minute; a minute leaves room for custom sounds while bounding memory per file.
pub const MAX_DURATION_SECS: u32 = 60;
/// The largest audio file a pack may hold: a minute of 192 kHz stereo 32-bit audio
/// (92 MB) plus room for metadata chunks.
pub const MAX_FILE_BYTES: u64 = 100 * 1024 * 1024;
/// The lowest sample rate accepted in a file.
pub const MIN_SAMPLE_RATE: u32 = 8_000;
/// The highest sample rate accepted in a file.
pub const MAX_SAMPLE_RATE: u32 = 192_000;

/// Audio as decoded from a file, before resampling: interleaved `f32`, nominally in −1..1.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The file's own rate, within [`MIN_SAMPLE_RATE`]..=[`MAX_SAMPLE_RATE`].
    pub sample_rate: u32,
    /// 1 or 2.
    pub channels: u16,
    /// Interleaved samples: a whole number of frames, at most [`MAX_DURATION_SECS`] long.
    pub samples: Vec<f32>,
}

impl Decoded {
    /// Length in whole frames.
    #[must_use]
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }
}

/// The audio file kinds a pack may use, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioKind {
    /// `.wav`: validated by hand, decoded by hound.
    Wav,
    /// `.flac`, `.ogg`/`.oga`, `.mp3`: decoded by rodio with `hint` as the format hint.
    Compressed {
        /// The extension, lowercased, given to the decoder as a hint.
        hint: &'static str,
    },
}

impl AudioKind {
    /// The kind a path's extension names.
    ///
    /// # Errors
    /// [`AudioError::UnsupportedExtension`] for anything else.
    pub fn of(path: &Path) -> Result<AudioKind, AudioError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "wav" | "wave" => Ok(AudioKind::Wav),
            "flac" => Ok(AudioKind::Compressed { hint: "flac" }),
            "ogg" | "oga" => Ok(AudioKind::Compressed { hint: "ogg" }),
            "mp3" => Ok(AudioKind::Compressed { hint: "mp3" }),
            _ => Err(AudioError::UnsupportedExtension(ext)),
        }
    }
}

/// Decodes the bytes of a file of `kind`.
///
/// # Errors
/// Why the bytes are not acceptable audio.
pub fn decode_bytes(kind: AudioKind, bytes: Vec<u8>) -> Result<Decoded, AudioError> {
    if bytes.is_empty() {
        return Err(AudioError::EmptyFile);
    }
    match kind {
        AudioKind::Wav => wav::decode(&bytes),
        AudioKind::Compressed { hint } => compressed::decode(bytes, hint),
    }
}

/// Reads and decodes the audio file at `path`, reading at most [`MAX_FILE_BYTES`].
///
/// # Errors
/// Why the file cannot be read or is not acceptable audio; the caller adds the path.
pub fn decode_file(path: &Path) -> Result<Decoded, AudioError> {
    let kind = AudioKind::of(path)?;
    let unreadable = |e: std::io::Error| AudioError::Unreadable(e.to_string());
    let file = File::open(path).map_err(unreadable)?;
    let len = file.metadata().map_err(unreadable)?.len();
    if len > MAX_FILE_BYTES {
        return Err(AudioError::FileTooLarge {
            bytes: len,
            limit: MAX_FILE_BYTES,
        });
    }
    // `take` bounds the read even if the file grows after the size check.
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(AudioError::FileTooLarge {
            bytes: bytes.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    decode_bytes(kind, bytes)
}
