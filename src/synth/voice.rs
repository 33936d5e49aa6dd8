//! [`Voice`]: one playable sound — modes, a mallet and an optional tremolo — and its
//! render to a [`Sound`].

use std::f64::consts::TAU;

use crate::audio::{Sound, SoundError};

use super::mallet::Mallet;
use super::mode::Mode;

/// The peak every rendered sound is normalised to: −1.1 dBFS, under the pack's −1 dBFS
/// (0.89) ceiling with room for 24-bit rounding. Loudness between instruments is the
/// manifest's `gain_db`, not the sample peak.
pub const PEAK: f64 = 0.88;

/// How long a sound lasts, as a multiple of its longest mode's T60: by then the ring is
/// 60 dB down, and the last [`FADE`] of it fades to silence so the file ends cleanly.
const LENGTH_PER_T60: f64 = 1.05;

/// The fraction of the sound, at its end, that fades out.
const FADE: f64 = 0.08;

/// A slow amplitude modulation of the ringing (GAMELAN.md: partials of a gong ageng show
/// an AM of about 20 Hz on top of the beating).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tremolo {
    /// Modulation rate in hertz.
    pub rate_hz: f64,
    /// Modulation depth: the gain swings between `1 − depth` and `1 + depth`.
    pub depth: f64,
}

/// One playable sound: an instrument, or one pitched variant of it (kenong 3).
#[derive(Debug, Clone, PartialEq)]
pub struct Voice {
    /// The modes that ring. The first is the fundamental by convention (instrument tables
    /// list it first), but rendering does not depend on the order.
    pub modes: Vec<Mode>,
    /// The beater.
    pub mallet: Mallet,
    /// Optional amplitude modulation of the ringing.
    pub tremolo: Option<Tremolo>,
    /// Seed of the strike noise: fixing it makes the render reproducible byte for byte.
    pub seed: u64,
}

impl Voice {
    /// Length of the rendered sound in seconds: until the longest-ringing mode is 60 dB
    /// down (plus a little), never shorter than the mallet's contact.
    #[must_use]
    pub fn duration_s(&self) -> f64 {
        let longest = self.modes.iter().map(|m| m.t60_s).fold(0.0, f64::max);
        (longest * LENGTH_PER_T60).max(self.mallet.contact_s)
    }

    /// This voice together with its twin, the same instrument tuned `detune_hz` sharp and
    /// struck in unison: every mode doubled at `f · (f1 + detune_hz) / f1`, where `f1` is the
    /// first mode's frequency (the fundamental, by the tables' convention). The fundamentals
    /// beat at `detune_hz`, each partial `k` times faster — the shimmer of a Balinese pair
    /// (*pengumbang* and *pengisep*, GAMELAN.md §1).
    #[must_use]
    pub fn with_twin(&self, detune_hz: f64) -> Voice {
        let Some(f1) = self.modes.first().map(|m| m.freq_hz) else {
            return self.clone();
        };
        let sharpen = (f1 + detune_hz) / f1;
        let twins: Vec<Mode> = self
            .modes
            .iter()
            .map(|m| Mode {
                freq_hz: m.freq_hz * sharpen,
                ..*m
            })
            .collect();
        let mut modes = self.modes.clone();
        modes.extend(twins);
        Voice {
            modes,
            ..self.clone()
        }
    }

    /// Renders the voice as a mono [`Sound`] at `sample_rate`, peak-normalised to [`PEAK`].
    ///
    /// The result depends only on the voice and the sample rate (the noise is seeded), so
    /// rendering twice gives identical samples. The first sample is the stroke's onset and
    /// is never silent, but it is tens of decibels under the peak: the modes start in
    /// cosine phase and the mallet's attack ramp brings them in smoothly (no click).
    ///
    /// # Errors
    /// [`SoundError`] if `sample_rate` is zero or the voice's numbers make non-finite
    /// samples (a zero or negative T60, a NaN frequency). Modes at or above the Nyquist
    /// frequency of `sample_rate` are not rendered.
    pub fn render(&self, sample_rate: u32) -> Result<Sound, SoundError> {
        if sample_rate == 0 {
            return Err(SoundError::ZeroRate);
        }
        let sr = f64::from(sample_rate);
        let len = (self.duration_s() * sr).ceil() as usize;
        let burst = self.mallet.burst(sample_rate, self.seed);
        let excitation = self.mallet.excitation(&burst);

        let mut ring = vec![0.0f64; len];
        // A mode at or above Nyquist cannot be played at this rate; rung, it would alias
        // to a false partial (a saron's ×5.40 at an 8 kHz engine rate), so it is left out.
        for mode in self.modes.iter().filter(|m| m.freq_hz < sr / 2.0) {
            mode.ring_into(&excitation, &mut ring, sample_rate);
        }
        if let Some(tremolo) = self.tremolo {
            for (n, s) in ring.iter_mut().enumerate() {
                *s *= 1.0 + tremolo.depth * (TAU * tremolo.rate_hz * n as f64 / sr).sin();
            }
        }
        for (n, s) in ring.iter_mut().enumerate().take(burst.len()) {
            *s *= self.mallet.attack_gain(n, sample_rate);
        }

        // The beater's own noise sits at a fixed level under the ringing's peak.
        let ring_peak = peak(&ring);
        for (s, b) in ring.iter_mut().zip(&burst) {
            *s += b * self.mallet.thud * ring_peak;
        }

        let fade_len = ((len as f64) * FADE) as usize;
        for (i, s) in ring[len - fade_len..].iter_mut().enumerate() {
            *s *= 0.5 + 0.5 * (std::f64::consts::PI * i as f64 / fade_len as f64).cos();
        }

        let total_peak = peak(&ring);
        let scale = if total_peak > 0.0 {
            PEAK / total_peak
        } else {
            0.0
        };
        let samples = ring.iter().map(|s| (s * scale) as f32).collect();
        Sound::mono(sample_rate, samples)
    }
}

fn peak(samples: &[f64]) -> f64 {
    samples.iter().fold(0.0, |m, s| m.max(s.abs()))
}
