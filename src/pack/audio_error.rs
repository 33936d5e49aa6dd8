//! [`AudioError`]: why one audio file was refused, before or while it was decoded.

use thiserror::Error;

/// Why an audio file was refused. Each message is one line and says what the file holds
/// against what gongan accepts; [`PackError::Audio`](super::PackError::Audio) adds the
/// file's path.
#[derive(Debug, PartialEq, Error)]
pub enum AudioError {
    /// The file could not be opened or read.
    #[error("cannot read the file: {0}")]
    Unreadable(String),
    /// The file has no bytes at all.
    #[error("the file is empty")]
    EmptyFile,
    /// The file is larger than [`MAX_FILE_BYTES`](super::MAX_FILE_BYTES).
    #[error("the file is {bytes} bytes, over the {limit}-byte limit for a sound")]
    FileTooLarge {
        /// The file's length.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// The extension is not one of `wav`, `flac`, `ogg`, `oga`, `mp3`.
    #[error("unsupported file type {0:?}: use .wav, .flac, .ogg or .mp3")]
    UnsupportedExtension(String),
    /// The first twelve bytes are not `RIFF····WAVE`.
    #[error("not a WAV file: {0}")]
    NotWav(&'static str),
    /// A chunk header or body runs past the end of the file.
    #[error("truncated WAV: the {chunk:?} chunk at byte {offset} runs past the end of the file")]
    TruncatedChunk {
        /// The chunk's four-character id, lossily decoded.
        chunk: String,
        /// Where the chunk header starts.
        offset: usize,
    },
    /// No `fmt ` chunk before the audio.
    #[error("the WAV has no \"fmt \" chunk before its \"data\" chunk")]
    MissingFmt,
    /// More than one `fmt ` chunk: which one to believe is ambiguous, so neither is.
    #[error("the WAV has two \"fmt \" chunks")]
    DuplicateFmt,
    /// A `fmt ` chunk too small to hold the format fields.
    #[error("the WAV \"fmt \" chunk is {0} bytes; it needs at least {1}")]
    FmtTooSmall(u32, u32),
    /// No `data` chunk.
    #[error("the WAV has no \"data\" chunk")]
    MissingData,
    /// More than one `data` chunk.
    #[error("the WAV has two \"data\" chunks")]
    DuplicateData,
    /// The `data` chunk claims more bytes than the file has.
    #[error(
        "the WAV \"data\" chunk runs past the end of the file: it claims {declared} bytes \
         but only {available} follow (truncated or corrupt file)"
    )]
    DataPastEnd {
        /// The size in the chunk header.
        declared: u32,
        /// The bytes actually left in the file.
        available: usize,
    },
    /// A channel count other than 1 or 2.
    #[error("{0} channels: only mono and stereo sounds are supported")]
    Channels(u16),
    /// A sample rate outside 8000–192000 Hz.
    #[error("sample rate {0} Hz is outside {min}–{max} Hz", min = super::MIN_SAMPLE_RATE, max = super::MAX_SAMPLE_RATE)]
    SampleRate(u32),
    /// A sample encoding other than 8/16/24/32-bit integer PCM or 32-bit float.
    #[error("unsupported sample format: {0}")]
    SampleFormat(String),
    /// The header's block alignment disagrees with its channels and bits.
    #[error("block align {block_align} does not match {channels} channels of {bits} bits")]
    BlockAlign {
        /// The header's block alignment.
        block_align: u16,
        /// Channels per frame.
        channels: u16,
        /// Bits per sample.
        bits: u16,
    },
    /// The file holds no audio frames (or only silence).
    #[error("no audio: {0}")]
    NoAudio(&'static str),
    /// Longer than [`MAX_DURATION_SECS`](super::MAX_DURATION_SECS).
    #[error("the sound is longer than the {limit} s limit for one sound")]
    TooLong {
        /// The limit in seconds.
        limit: u32,
    },
    /// The WAV decoder failed after validation passed.
    #[error("cannot decode WAV: {0}")]
    Wav(String),
    /// The FLAC/Ogg/MP3 decoder failed.
    #[error("cannot decode as {format}: {message}")]
    Decode {
        /// The format the extension promised (`FLAC`, `Ogg`, `MP3`).
        format: &'static str,
        /// The decoder's complaint.
        message: String,
    },
    /// A compressed stream changed its channel count or rate part-way through.
    #[error("the stream changes from {from} to {to} part-way through")]
    FormatChanged {
        /// The format at the start, as `channels ch @ rate Hz`.
        from: String,
        /// The format it changed to.
        to: String,
    },
    /// The decoded samples could not become a sound (for example NaN samples).
    #[error("{0}")]
    Sound(crate::audio::SoundError),
    /// The resampler refused the audio.
    #[error("cannot resample: {0}")]
    Resample(String),
}
