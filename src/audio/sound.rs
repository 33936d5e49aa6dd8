//! [`Sound`]: decoded audio, ready for the renderer.

use thiserror::Error;

/// Frames per entry of a sound's coarse level envelope.
const ENVELOPE_BLOCK: usize = 1024;

/// A decoded sound at the engine's sample rate: mono or interleaved stereo `f32`.
///
/// Sounds are decoded and resampled once, at load, and then shared (`Arc<Sound>`) between
/// the control side and the renderer; nothing about a sound is computed at play time. A
/// coarse peak envelope is kept so the voice stealer can find the quietest voice without
/// reading samples on the audio thread.
#[derive(Debug, Clone, PartialEq)]
pub struct Sound {
    sample_rate: u32,
    channels: u16,
    samples: Box<[f32]>,
    envelope: Box<[f32]>,
}

/// Why a buffer could not become a [`Sound`].
#[derive(Debug, Error, PartialEq)]
pub enum SoundError {
    /// Only mono and stereo sounds are supported.
    #[error("{0} channels: only mono and stereo sounds are supported")]
    Channels(u16),
    /// A sound needs at least one frame.
    #[error("the sound is empty")]
    Empty,
    /// The interleaved buffer does not hold whole frames.
    #[error("{samples} samples do not make whole frames of {channels} channels")]
    PartialFrame {
        /// Number of samples given.
        samples: usize,
        /// Channels per frame.
        channels: u16,
    },
    /// NaN or infinite samples would poison the mix.
    #[error("sample {0} is not a finite number")]
    NotFinite(usize),
    /// A sample rate of zero.
    #[error("sample rate 0")]
    ZeroRate,
}

impl Sound {
    /// A mono sound.
    pub fn mono(sample_rate: u32, samples: Vec<f32>) -> Result<Sound, SoundError> {
        Sound::from_interleaved(sample_rate, 1, samples)
    }

    /// A sound from interleaved samples with `channels` (1 or 2) per frame.
    pub fn from_interleaved(
        sample_rate: u32,
        channels: u16,
        samples: Vec<f32>,
    ) -> Result<Sound, SoundError> {
        if sample_rate == 0 {
            return Err(SoundError::ZeroRate);
        }
        if !(1..=2).contains(&channels) {
            return Err(SoundError::Channels(channels));
        }
        if samples.is_empty() {
            return Err(SoundError::Empty);
        }
        if samples.len() % usize::from(channels) != 0 {
            return Err(SoundError::PartialFrame {
                samples: samples.len(),
                channels,
            });
        }
        if let Some(i) = samples.iter().position(|s| !s.is_finite()) {
            return Err(SoundError::NotFinite(i));
        }
        let block = ENVELOPE_BLOCK * usize::from(channels);
        let envelope = samples
            .chunks(block)
            .map(|c| c.iter().fold(0.0f32, |m, s| m.max(s.abs())))
            .collect();
        Ok(Sound {
            sample_rate,
            channels,
            samples: samples.into_boxed_slice(),
            envelope,
        })
    }

    /// The sample rate the samples are at.
    #[must_use]
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// 1 (mono) or 2 (interleaved stereo).
    #[must_use]
    pub fn channels(&self) -> u16 {
        self.channels
    }

    /// Length in frames.
    #[must_use]
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels)
    }

    /// The interleaved samples.
    #[must_use]
    pub fn samples(&self) -> &[f32] {
        &self.samples
    }

    /// Frame `i` as a stereo pair (a mono sound is centred: the same sample on both sides).
    ///
    /// # Panics
    /// If `i` is not below [`Sound::frames`].
    #[inline]
    #[must_use]
    pub fn frame(&self, i: usize) -> (f32, f32) {
        if self.channels == 1 {
            let s = self.samples[i];
            (s, s)
        } else {
            (self.samples[2 * i], self.samples[2 * i + 1])
        }
    }

    /// The peak level around frame `i` (0 past the end): a cheap loudness estimate.
    #[must_use]
    pub fn level_at(&self, i: usize) -> f32 {
        self.envelope
            .get(i / ENVELOPE_BLOCK)
            .copied()
            .unwrap_or(0.0)
    }

    /// The highest absolute sample value.
    #[must_use]
    pub fn peak(&self) -> f32 {
        self.envelope.iter().copied().fold(0.0, f32::max)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn rejects_what_would_break_the_mix() {
        assert_eq!(Sound::mono(48_000, vec![]), Err(SoundError::Empty));
        assert_eq!(
            Sound::from_interleaved(48_000, 3, vec![0.0; 3]),
            Err(SoundError::Channels(3))
        );
        assert_eq!(
            Sound::from_interleaved(48_000, 2, vec![0.0; 3]),
            Err(SoundError::PartialFrame {
                samples: 3,
                channels: 2
            })
        );
        assert_eq!(
            Sound::mono(48_000, vec![0.0, f32::NAN]),
            Err(SoundError::NotFinite(1))
        );
        assert_eq!(Sound::mono(0, vec![0.0]), Err(SoundError::ZeroRate));
    }

    #[test]
    fn mono_is_centred_and_levels_are_tracked() {
        let mut samples = vec![0.0; 3000];
        samples[0] = 0.5;
        samples[2500] = -0.25;
        let sound = Sound::mono(48_000, samples).unwrap();
        assert_eq!(sound.frame(0), (0.5, 0.5));
        assert_eq!(sound.level_at(0), 0.5);
        assert_eq!(sound.level_at(1500), 0.0);
        assert_eq!(sound.level_at(2500), 0.25);
        assert_eq!(sound.level_at(10_000), 0.0);
        assert_eq!(sound.peak(), 0.5);
    }
}
