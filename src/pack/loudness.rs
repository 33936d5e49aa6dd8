//! Loudness at load: how loud each instrument is, and the gain that evens a pack out.
//!
//! The measure is the loudest 400 ms of the sound, as RMS in dBFS (a full-scale sine reads
//! −3 dB): the same window length the EBU R 128 momentary loudness uses, without its
//! K-weighting. It is cheap, deterministic, and ranks gong strokes about as the ear does;
//! a sound shorter than the window is measured as if padded with silence, so a short click
//! counts as quieter than a sustained tone of the same peak, as it sounds.

/// The level every instrument is brought to, in dBFS RMS over the loudest window.
///
/// −20 dB leaves a gong ageng stroke (whose peak is ~12 dB above its loudest window) room
/// below full scale, so most instruments reach the target without hitting the peak cap.
pub const TARGET_LOUDNESS_DB: f32 = -20.0;
/// The loudness window, in milliseconds.
pub const WINDOW_MS: u32 = 400;
/// The level reported for digital silence, instead of −∞.
pub const SILENCE_DB: f32 = -120.0;

/// The loudest [`WINDOW_MS`] of interleaved `samples`, in dBFS RMS (mean over channels).
#[must_use]
pub fn loudness_db(samples: &[f32], channels: u16, sample_rate: u32) -> f32 {
    let channels = usize::from(channels.max(1));
    let window = ((u64::from(sample_rate) * u64::from(WINDOW_MS) / 1000) as usize).max(1);
    let energy = |frame: &[f32]| {
        frame
            .iter()
            .map(|s| f64::from(*s) * f64::from(*s))
            .sum::<f64>()
            / channels as f64
    };
    // A running sum over the window: each frame's energy enters, and leaves `window`
    // frames later (the lagged stream starts with `window` zeros).
    let energies = || samples.chunks_exact(channels).map(energy);
    let leaving = std::iter::repeat_n(0.0, window).chain(energies());
    let mut sum = 0.0f64;
    let mut loudest = 0.0f64;
    for (entering, leaving) in energies().zip(leaving) {
        sum += entering - leaving;
        loudest = loudest.max(sum);
    }
    let mean_square = loudest / window as f64;
    if mean_square <= 0.0 {
        return SILENCE_DB;
    }
    ((10.0 * mean_square.log10()) as f32).max(SILENCE_DB)
}

/// The linear gain that brings a sound measured at `loudness_db` to
/// [`TARGET_LOUDNESS_DB`], lowered if need be so that `peak × gain ≤ 1.0`.
///
/// Silent sounds keep unity gain: there is nothing to bring up.
#[must_use]
pub fn normalising_gain(loudness_db: f32, peak: f32) -> f32 {
    if loudness_db <= SILENCE_DB || peak <= 0.0 {
        return 1.0;
    }
    let wanted = db_to_gain(TARGET_LOUDNESS_DB - loudness_db);
    wanted.min(1.0 / peak)
}

/// Decibels to a linear amplitude factor.
#[must_use]
pub fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

#[cfg(test)]
mod test {
    use super::*;

    fn sine(amplitude: f32, frames: usize) -> Vec<f32> {
        (0..frames)
            .map(|i| amplitude * (i as f32 * 0.1).sin())
            .collect()
    }

    #[test]
    fn a_full_scale_sine_reads_minus_three() {
        let db = loudness_db(&sine(1.0, 48_000), 1, 48_000);
        assert!((db + 3.01).abs() < 0.05, "{db}");
    }

    #[test]
    fn short_sounds_count_as_padded_with_silence() {
        // 100 ms of a sine in a 400 ms window: a quarter of the energy, −6 dB.
        let db = loudness_db(&sine(1.0, 4_800), 1, 48_000);
        assert!((db + 9.03).abs() < 0.1, "{db}");
    }

    #[test]
    fn silence_is_floored_and_kept_at_unity() {
        assert_eq!(loudness_db(&[0.0; 10], 1, 48_000), SILENCE_DB);
        assert_eq!(normalising_gain(SILENCE_DB, 0.0), 1.0);
    }

    #[test]
    fn gain_reaches_target_unless_the_peak_would_clip() {
        assert!((normalising_gain(-26.0, 0.1) - db_to_gain(6.0)).abs() < 1e-6);
        assert_eq!(normalising_gain(-40.0, 0.5), 2.0);
    }
}
