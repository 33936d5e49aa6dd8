//! The instrument tables' vocabulary: partials as ratios and strengths, turned into
//! [`Mode`]s with frequency-dependent decay, and the small rules every table shares.

use super::mallet::Mallet;
use super::mode::Mode;
use super::voice::Voice;

/// One partial in an instrument table: a ratio to the fundamental, an optional detuning
/// in hertz (for beating twins), and a strength.
#[derive(Debug, Clone, Copy)]
pub(super) struct Partial {
    /// Frequency as a multiple of the fundamental.
    pub ratio: f64,
    /// Hertz added after the ratio: a beating twin's offset.
    pub detune_hz: f64,
    /// Strength relative to the fundamental's.
    pub gain: f64,
}

/// A partial at `ratio` × f1 with strength `gain`.
pub(super) const fn p(ratio: f64, gain: f64) -> Partial {
    Partial {
        ratio,
        detune_hz: 0.0,
        gain,
    }
}

/// A twin `detune_hz` above partial `ratio`: near-degenerate mode pairs are what make
/// bossed gongs beat (GAMELAN.md: 451.9/455 Hz).
pub(super) const fn twin(ratio: f64, detune_hz: f64, gain: f64) -> Partial {
    Partial {
        ratio,
        detune_hz,
        gain,
    }
}

/// Exponent of the frequency-dependent decay, from Faust's modal models (2.5–3).
const DECAY_SLOPE: f64 = 2.5;

/// Turns a partial table into modes with T60s that shrink with frequency, per Faust:
/// `T60_i ∝ (1 − f_i/f_max·tilt)^slope`, scaled so the fundamental decays in exactly
/// `t60_s`. `tilt` 0 gives every mode the same decay; 0.5 makes the top mode ring about
/// a fifth as long.
pub(super) fn modes(f1: f64, t60_s: f64, tilt: f64, partials: &[Partial]) -> Vec<Mode> {
    let freq = |p: &Partial| p.ratio * f1 + p.detune_hz;
    let f_max = partials.iter().map(freq).fold(f1, f64::max);
    let shape = |f: f64| (1.0 - f / f_max * tilt).powf(DECAY_SLOPE);
    partials
        .iter()
        .map(|p| Mode {
            freq_hz: freq(p),
            gain: p.gain,
            t60_s: t60_s * shape(freq(p)) / shape(f1),
        })
        .collect()
}

/// A stable seed per instrument and variant, so every sound has its own strike noise.
pub(super) fn seed(name: &str, variant: usize) -> u64 {
    // FNV-1a: fixed forever, unlike `std`'s hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes().chain(variant.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A voice without tremolo.
pub(super) fn voice(modes: Vec<Mode>, mallet: Mallet, seed: u64) -> Voice {
    Voice {
        modes,
        mallet,
        tremolo: None,
        seed,
    }
}

/// The T60 of a bar or pot at `f1`, given `t60_s` at the lowest pitch `lowest_hz` of its
/// set: higher bars decay faster (GAMELAN.md: per-mode decay shrinks with frequency).
/// T60 ∝ 1/f is a constant quality factor Q — the same number of cycles to die away,
/// which is what a set of bars or pots of one alloy and one shape gives when internal
/// friction and radiation are the losses (A).
pub(super) fn t60_at_pitch(t60_s: f64, lowest_hz: f64, f1: f64) -> f64 {
    t60_s * lowest_hz / f1
}
