//! [`Instrument`]: one loaded instrument of a pack — its sounds, loudness and gain.

use std::sync::Arc;

use crate::audio::Sound;

use super::loudness::{db_to_gain, loudness_lufs, normalising_gain};

/// An instrument ready to play: its sounds at the engine rate, shared by `Arc` with the
/// renderer, and the gain that evens it out with the rest of the pack.
///
/// A single-file instrument has one variant. Variants are numbered from 1, as gamelan
/// pitches are (kenong 1–6).
#[derive(Debug, Clone)]
pub struct Instrument {
    name: String,
    sounds: Vec<Arc<Sound>>,
    loudness_db: f32,
    gain: f32,
}

impl Instrument {
    /// Builds an instrument from its sounds in variant order (at least one), measuring their
    /// loudness. The loudest variant sets the instrument's loudness and the peak cap, so
    /// variants keep their balance with each other; `gain_db` from the manifest is applied
    /// on top of the normalisation as the pack author's deliberate choice.
    ///
    /// Returns `None` for an empty list of sounds.
    #[must_use]
    pub fn new(name: String, sounds: Vec<Arc<Sound>>, gain_db: f32) -> Option<Instrument> {
        let loudness_db = sounds
            .iter()
            .map(|s| loudness_lufs(s.samples(), s.channels(), s.sample_rate()))
            .reduce(f32::max)?;
        let peak = sounds.iter().map(|s| s.peak()).fold(0.0, f32::max);
        let gain = normalising_gain(loudness_db, peak) * db_to_gain(gain_db);
        Some(Instrument {
            name,
            sounds,
            loudness_db,
            gain,
        })
    }

    /// The instrument's name, as in the manifest.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many variants it has: 1 for a single-file instrument.
    #[must_use]
    pub fn variant_count(&self) -> usize {
        self.sounds.len()
    }

    /// The sound of 1-based `variant`, or the first (the `file`, or variant 1) for `None`.
    /// `None` for variant 0 or past the last.
    #[must_use]
    pub fn sound(&self, variant: Option<u32>) -> Option<&Arc<Sound>> {
        let index = match variant {
            None => 0,
            Some(v) => usize::try_from(v).ok()?.checked_sub(1)?,
        };
        self.sounds.get(index)
    }

    /// All the variants' sounds, variant 1 first.
    #[must_use]
    pub fn sounds(&self) -> &[Arc<Sound>] {
        &self.sounds
    }

    /// Linear gain to play the instrument at: loudness normalisation (capped so the
    /// normalised peak stays at or below full scale) times the manifest's `gain_db`.
    #[must_use]
    pub fn gain(&self) -> f32 {
        self.gain
    }

    /// Measured loudness of the loudest variant before any gain: EBU R 128 maximum
    /// momentary loudness in LUFS (see [`loudness`](super::loudness)).
    #[must_use]
    pub fn loudness_db(&self) -> f32 {
        self.loudness_db
    }
}
