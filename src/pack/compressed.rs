//! FLAC, Ogg Vorbis and MP3 through rodio's (symphonia) decoders, within the caps.
//!
//! Compressed headers cannot be checked up front the way WAV chunks can, so the bounds are
//! enforced while decoding: the channel count and rate the decoder reports are checked
//! before the first sample is kept and on every sample after (a stream may change format
//! between packets), and decoding stops with [`AudioError::TooLong`] as soon as more than
//! [`MAX_DURATION_SECS`] of samples have come out. Memory therefore grows only with audio
//! actually decoded, never with a length some header claims.

use std::io::Cursor;

use rodio::decoder::DecoderError;
use rodio::{Decoder, Source};

use super::decode::Decoded;
use super::{AudioError, MAX_DURATION_SECS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};

/// Decodes a whole compressed file held in memory; `hint` is its extension.
///
/// # Errors
/// The decoder's complaint, a channel count or rate gongan does not take, a mid-stream
/// format change, or a stream longer than [`MAX_DURATION_SECS`].
pub fn decode(bytes: Vec<u8>, hint: &str) -> Result<Decoded, AudioError> {
    // The decoders are third-party parsers fed untrusted bytes. None is known to panic on
    // bad input, but a pack upload must never take the server down, so a panic inside them
    // is contained here and reported as a decode failure of this one file. (With
    // `panic = "abort"` this would not help; the project does not set it.)
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decode_unguarded(bytes, hint)
    }))
    .unwrap_or_else(|_| {
        Err(AudioError::Decode {
            format: format_name(hint),
            message: "the decoder crashed on this file".into(),
        })
    })
}

fn format_name(hint: &str) -> &'static str {
    match hint {
        "flac" => "FLAC",
        "mp3" => "MP3",
        _ => "Ogg Vorbis",
    }
}

fn decode_unguarded(bytes: Vec<u8>, hint: &str) -> Result<Decoded, AudioError> {
    let byte_len = bytes.len() as u64;
    let decoder = Decoder::builder()
        .with_data(Cursor::new(bytes))
        .with_byte_len(byte_len)
        .with_hint(hint)
        .build()
        .map_err(|e| AudioError::Decode {
            format: format_name(hint),
            message: match e {
                // rodio's message for these drops the detail; symphonia reports a stream it
                // cannot probe as an I/O error at end of data.
                DecoderError::IoError(detail) => {
                    format!("no readable audio stream found ({detail})")
                }
                DecoderError::UnrecognizedFormat => "format not recognised".into(),
                other => other.to_string(),
            },
        })?;
    let channels = decoder.channels().get();
    let sample_rate = decoder.sample_rate().get();
    if !(1..=2).contains(&channels) {
        return Err(AudioError::Channels(channels));
    }
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
        return Err(AudioError::SampleRate(sample_rate));
    }
    let limit = MAX_DURATION_SECS as usize * sample_rate as usize * usize::from(channels);
    let mut samples = Vec::new();
    let mut decoder = decoder;
    while let Some(sample) = decoder.next() {
        let (now_channels, now_rate) = (decoder.channels().get(), decoder.sample_rate().get());
        if (now_channels, now_rate) != (channels, sample_rate) {
            return Err(AudioError::FormatChanged {
                from: format!("{channels} ch @ {sample_rate} Hz"),
                to: format!("{now_channels} ch @ {now_rate} Hz"),
            });
        }
        if samples.len() >= limit {
            return Err(AudioError::TooLong {
                limit: MAX_DURATION_SECS,
            });
        }
        samples.push(sample);
    }
    // A stream cut short mid-frame keeps its whole frames.
    samples.truncate(samples.len() - samples.len() % usize::from(channels));
    if samples.is_empty() {
        return Err(AudioError::NoAudio("the stream decodes to no samples"));
    }
    Ok(Decoded {
        sample_rate,
        channels,
        samples,
    })
}
