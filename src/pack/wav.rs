//! WAV files: the RIFF chunks are walked and checked here before `hound` sees a byte.
//!
//! hound trusts the header (and reads in a loop whatever the `data` chunk claims), so a
//! hostile file could make it do a lot of work or fail in confusing ways. [`validate`]
//! walks the chunks itself, over bytes already read within
//! [`MAX_FILE_BYTES`](super::MAX_FILE_BYTES), and accepts only what gongan can play: one
//! `fmt ` chunk describing mono or stereo 8/16/24/32-bit integer PCM or 32-bit float at
//! 8–192 kHz, and one `data` chunk that really is in the file and lasts at most
//! [`MAX_DURATION_SECS`]. Every size used afterwards comes from
//! this validated description, never straight from a header field.

use std::io::Cursor;

use super::decode::Decoded;
use super::{AudioError, MAX_DURATION_SECS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};

const FORMAT_PCM: u16 = 0x0001;
const FORMAT_FLOAT: u16 = 0x0003;
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;
/// The `fmt ` fields gongan reads: tag, channels, rate, byte rate, block align, bits.
const FMT_MIN_LEN: u32 = 16;
/// `WAVEFORMATEXTENSIBLE` adds cbSize, valid bits, channel mask and the sub-format GUID.
const FMT_EXTENSIBLE_LEN: u32 = 40;

/// What a validated WAV holds: enough to decode it and to size buffers safely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavInfo {
    /// 1 or 2.
    pub channels: u16,
    /// Frames per second, within 8000–192000.
    pub sample_rate: u32,
    /// Bits per sample as stored (the container size): 8, 16, 24 or 32.
    pub bits: u16,
    /// Whether samples are IEEE floats (always 32-bit) rather than integers.
    pub float: bool,
    /// Whole frames in the `data` chunk (a trailing partial frame is ignored); at least 1.
    pub frames: usize,
}

/// Checks a whole WAV file's bytes without decoding them.
///
/// # Errors
/// The first thing found wrong, as an [`AudioError`] naming what the header says.
pub fn validate(bytes: &[u8]) -> Result<WavInfo, AudioError> {
    if bytes.is_empty() {
        return Err(AudioError::EmptyFile);
    }
    if bytes.len() < 12 {
        return Err(AudioError::NotWav("shorter than a RIFF header"));
    }
    match &bytes[0..4] {
        b"RIFF" => {}
        b"RF64" => return Err(AudioError::NotWav("RF64 files are not supported")),
        b"RIFX" => {
            return Err(AudioError::NotWav(
                "big-endian RIFX files are not supported",
            ));
        }
        _ => return Err(AudioError::NotWav("no RIFF header")),
    }
    if &bytes[8..12] != b"WAVE" {
        return Err(AudioError::NotWav("a RIFF file that is not WAVE"));
    }

    let mut fmt: Option<Fmt> = None;
    let mut data_len: Option<usize> = None;
    let mut offset = 12;
    while offset < bytes.len() {
        let Some(header) = bytes.get(offset..offset + 8) else {
            if data_len.is_some() {
                break; // a few stray bytes after the audio do no harm
            }
            return Err(AudioError::TruncatedChunk {
                chunk: String::from_utf8_lossy(&bytes[offset..]).into_owned(),
                offset,
            });
        };
        let id = &header[0..4];
        let size = u32_at(header, 4);
        let body_start = offset + 8;
        let available = bytes.len() - body_start;
        let fits = usize::try_from(size).is_ok_and(|s| s <= available);
        match id {
            b"fmt " => {
                if fmt.is_some() {
                    return Err(AudioError::DuplicateFmt);
                }
                if data_len.is_some() {
                    return Err(AudioError::MissingFmt);
                }
                if size < FMT_MIN_LEN {
                    return Err(AudioError::FmtTooSmall(size, FMT_MIN_LEN));
                }
                if !fits {
                    return Err(truncated(id, offset));
                }
                fmt = Some(Fmt::parse(&bytes[body_start..body_start + size as usize])?);
            }
            b"data" => {
                if data_len.is_some() {
                    return Err(AudioError::DuplicateData);
                }
                if fmt.is_none() {
                    return Err(AudioError::MissingFmt);
                }
                if !fits {
                    return Err(AudioError::DataPastEnd {
                        declared: size,
                        available,
                    });
                }
                data_len = Some(size as usize);
            }
            _ if !fits => {
                if data_len.is_some() {
                    break; // a damaged trailing metadata chunk cannot affect the audio
                }
                return Err(truncated(id, offset));
            }
            _ => {}
        }
        // Chunks are padded to an even length; `fits` bounds `size`, so this cannot overflow.
        offset = body_start + size as usize + (size as usize & 1);
    }

    let fmt = fmt.ok_or(AudioError::MissingFmt)?;
    let data_len = data_len.ok_or(AudioError::MissingData)?;
    let frames = data_len / usize::from(fmt.block_align);
    if frames == 0 {
        return Err(AudioError::NoAudio("the \"data\" chunk is empty"));
    }
    if frames as u64 > u64::from(MAX_DURATION_SECS) * u64::from(fmt.sample_rate) {
        return Err(AudioError::TooLong {
            limit: MAX_DURATION_SECS,
        });
    }
    Ok(WavInfo {
        channels: fmt.channels,
        sample_rate: fmt.sample_rate,
        bits: fmt.bits,
        float: fmt.float,
        frames,
    })
}

/// Validates then decodes a WAV file's bytes to interleaved `f32` in −1..1.
///
/// # Errors
/// Whatever [`validate`] finds, or hound's complaint about what validation let through.
pub fn decode(bytes: &[u8]) -> Result<Decoded, AudioError> {
    let info = validate(bytes)?;
    let mut reader =
        hound::WavReader::new(Cursor::new(bytes)).map_err(|e| AudioError::Wav(e.to_string()))?;
    let spec = reader.spec();
    if spec.channels != info.channels || spec.sample_rate != info.sample_rate {
        return Err(AudioError::Wav(
            "the decoder read a different format than the header check".into(),
        ));
    }
    // `info.frames` is bounded by the file's real length, so this allocation is too.
    let wanted = info.frames * usize::from(info.channels);
    let mut samples = Vec::with_capacity(wanted);
    let wav_error = |e: hound::Error| AudioError::Wav(e.to_string());
    if info.float {
        for sample in reader.samples::<f32>().take(wanted) {
            samples.push(sample.map_err(wav_error)?);
        }
    } else {
        // hound reports the valid bits (24 in a 32-bit container, say) and scales to them.
        let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
        for sample in reader.samples::<i32>().take(wanted) {
            samples.push(sample.map_err(wav_error)? as f32 * scale);
        }
    }
    Ok(Decoded {
        sample_rate: info.sample_rate,
        channels: info.channels,
        samples,
    })
}

/// The parts of a `fmt ` chunk gongan needs, checked.
struct Fmt {
    channels: u16,
    sample_rate: u32,
    bits: u16,
    float: bool,
    block_align: u16,
}

impl Fmt {
    /// `body` is the whole chunk body, at least [`FMT_MIN_LEN`] bytes.
    fn parse(body: &[u8]) -> Result<Fmt, AudioError> {
        let tag = u16_at(body, 0);
        let channels = u16_at(body, 2);
        let sample_rate = u32_at(body, 4);
        let block_align = u16_at(body, 12);
        let bits = u16_at(body, 14);
        if !(1..=2).contains(&channels) {
            return Err(AudioError::Channels(channels));
        }
        if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
            return Err(AudioError::SampleRate(sample_rate));
        }
        let tag = if tag == FORMAT_EXTENSIBLE {
            if body.len() < FMT_EXTENSIBLE_LEN as usize {
                return Err(AudioError::FmtTooSmall(
                    body.len() as u32,
                    FMT_EXTENSIBLE_LEN,
                ));
            }
            // The sub-format GUID starts with the plain format tag.
            u16_at(body, 24)
        } else {
            tag
        };
        let float = match (tag, bits) {
            (FORMAT_PCM, 8 | 16 | 24 | 32) => false,
            (FORMAT_FLOAT, 32) => true,
            (FORMAT_PCM, _) => {
                return Err(AudioError::SampleFormat(format!("{bits}-bit integer PCM")));
            }
            (FORMAT_FLOAT, _) => {
                return Err(AudioError::SampleFormat(format!("{bits}-bit float")));
            }
            _ => {
                return Err(AudioError::SampleFormat(format!(
                    "format tag 0x{tag:04X} (compressed or unknown); use PCM or float"
                )));
            }
        };
        if u32::from(block_align) != u32::from(channels) * u32::from(bits / 8) {
            return Err(AudioError::BlockAlign {
                block_align,
                channels,
                bits,
            });
        }
        Ok(Fmt {
            channels,
            sample_rate,
            bits,
            float,
            block_align,
        })
    }
}

fn truncated(id: &[u8], offset: usize) -> AudioError {
    AudioError::TruncatedChunk {
        chunk: String::from_utf8_lossy(id).into_owned(),
        offset,
    }
}

/// Callers pass slices already checked to hold `at + 2` bytes.
fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

/// Callers pass slices already checked to hold `at + 4` bytes.
fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

#[cfg(test)]
mod test;
