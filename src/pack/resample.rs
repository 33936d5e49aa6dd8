//! Bringing decoded audio to the engine rate, once, at load; and trimming silent onsets.

use rubato::audioadapter::Adapter;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use super::AudioError;
use super::decode::Decoded;

/// Frames per FFT chunk: rubato rounds it to fit the rate pair (1029 for 44.1 → 48 kHz).
const CHUNK_FRAMES: usize = 1024;

/// Drops the leading frames whose samples are all exactly zero, so that a stroke's onset is
/// frame 0 and a cue scheduled at frame N is heard at frame N.
///
/// Only exact zeros go: a quiet fade-in is part of the sound.
pub fn trim_leading_zeros(samples: &mut Vec<f32>, channels: u16) {
    let channels = usize::from(channels.max(1));
    let silent_frames = samples
        .chunks_exact(channels)
        .take_while(|frame| frame.iter().all(|s| *s == 0.0))
        .count();
    samples.drain(..silent_frames * channels);
}

/// Resamples `audio` to `rate` with rubato's synchronous FFT resampler (the library's
/// recommendation for fixed-ratio offline conversion), keeping its length in time and its
/// onset at frame 0. Audio already at `rate` is returned as is.
///
/// # Errors
/// [`AudioError::Resample`] if rubato refuses the rate pair.
pub fn to_rate(audio: Decoded, rate: u32) -> Result<Decoded, AudioError> {
    if audio.sample_rate == rate {
        return Ok(audio);
    }
    let channels = usize::from(audio.channels);
    let frames = audio.frames();
    let error = |e: &dyn std::fmt::Display| AudioError::Resample(e.to_string());
    let input = InterleavedSlice::new(&audio.samples, channels, frames).map_err(|e| error(&e))?;
    let mut resampler = Fft::<f32>::new(
        audio.sample_rate as usize,
        rate as usize,
        CHUNK_FRAMES,
        channels,
        FixedSync::Both,
    )
    .map_err(|e| error(&e))?;
    let output = resampler
        .process_all(&input, frames, None)
        .map_err(|e| error(&e))?;
    let out_frames = output.frames();
    let mut samples = output.take_data();
    samples.truncate(out_frames * channels);
    Ok(Decoded {
        sample_rate: rate,
        channels: audio.channels,
        samples,
    })
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn trims_only_exact_zero_frames() {
        let mut stereo = vec![0.0, 0.0, 0.0, 1e-9, 0.5, 0.5, 0.0, 0.0];
        trim_leading_zeros(&mut stereo, 2);
        assert_eq!(stereo, vec![0.0, 1e-9, 0.5, 0.5, 0.0, 0.0]);
        let mut silent = vec![0.0; 4];
        trim_leading_zeros(&mut silent, 1);
        assert!(silent.is_empty());
    }

    #[test]
    fn same_rate_is_untouched() {
        let audio = Decoded {
            sample_rate: 48_000,
            channels: 1,
            samples: vec![0.1, 0.2],
        };
        assert_eq!(to_rate(audio.clone(), 48_000), Ok(audio));
    }
}
