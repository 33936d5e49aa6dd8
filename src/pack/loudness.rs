//! Loudness at load: how loud each instrument is by EBU R 128, and the gain that evens a
//! pack out.
//!
//! # The measure: maximum momentary loudness
//!
//! Loudness is measured as EBU R 128 / ITU-R BS.1770 prescribe it — K-weighted (a high-pass
//! near 38 Hz that hears bass as the ear does, and a +4 dB shelf above ~1.7 kHz), summed over
//! channels, in LUFS — by the `ebur128` crate. Of the three R 128 figures, the one used is
//! the **maximum momentary loudness**: the loudest 400 ms window, taken every 100 ms from
//! the sound's first frame (EBU Tech 3341's "max momentary"). Why not the other two:
//!
//! - *Integrated* loudness is built for programmes minutes long: the mean over 400 ms
//!   blocks, gated at −70 LUFS and then at 10 LU under the running mean. A decaying stroke
//!   reads however much of its tail passes that gate, which depends on its decay, not on
//!   how loud it is struck: on the default pack it reads from 3.7 LU (kempyang) to 7.2 LU
//!   (kenong) under the maximum momentary loudness, so equal integrated loudness would
//!   reorder strokes by how they decay. A sound shorter than one block has none at all:
//!   the ketuk (0.23 s) measures −∞.
//! - *Short-term* loudness (3 s) averages the strike with what follows it: the 0.23 s
//!   ketuk reads 8.8 LU under its momentary maximum, a bonang 8.7 LU, the 23 s gong only
//!   2.8 LU, so short strokes would be pushed up 6 LU past the gong's for the same strike.
//! - *Momentary* loudness (400 ms) is close to the ear's own integration time for short
//!   sounds (a few hundred ms): it rates a stroke by its strike and first ring, which is
//!   what a listener compares, and it still counts a click shorter than the window as
//!   quieter than a ringing tone of the same peak (the window is padded with silence), as it
//!   sounds. A stroke that starts at frame 0 and decays is loudest in a window that starts
//!   there, which is on the 100 ms grid, so reading the meter every 100 ms loses nothing.
//!
//! A mono sound is measured as *dual mono*: the engine plays it centred, the same samples
//! on both speakers, so it is as loud as a stereo file with those samples in both channels
//! (BS.1770 would otherwise read it 3 dB quieter than it plays).
//!
//! K-weighting is defined for audio rates: its shelf sits at 1.68 kHz, so below
//! [`MIN_MEASURED_RATE`] (where the shelf would pass Nyquist and the filter stops being
//! stable) a sound is not measured and plays at unity gain — only unit tests with toy
//! rates go there.

use ebur128::{Channel, EbuR128, Mode};

/// The level every instrument is brought to, as maximum momentary loudness in LUFS, before
/// the manifest's `gain_db`.
///
/// −12 LUFS is where the default pack's gong ageng (`gain_db` 0, the loudest instrument)
/// peaks at −2.8 dBFS, so a session uses the headroom under the engine's −1 dBFS limiter
/// instead of playing 6–8 dB quiet; the quieter parts are set below the gong by `gain_db`.
/// A sound whose crest (peak over maximum momentary loudness) exceeds 12 dB cannot reach
/// −12 LUFS without passing full scale, so the peak cap holds it there: the gong's crest is
/// 9 dB, the short, damped ketuk's 17 dB (capped, 4.6 LU short).
pub const TARGET_LOUDNESS_LUFS: f32 = -12.0;
/// The level reported for digital silence (and for a sound that cannot be measured),
/// instead of −∞.
pub const SILENCE_LUFS: f32 = -120.0;
/// The lowest sample rate a sound's loudness is measured at (the packs' own minimum).
pub const MIN_MEASURED_RATE: u32 = 8_000;
/// The momentary loudness window, in milliseconds (EBU R 128).
pub const WINDOW_MS: u32 = 400;
/// How often the window is read, in milliseconds: R 128's gating-block hop.
pub const HOP_MS: u32 = 100;

/// The maximum momentary loudness of interleaved `samples`, in LUFS (see the module doc).
///
/// [`SILENCE_LUFS`] for silence, for an empty sound and for a rate below
/// [`MIN_MEASURED_RATE`]; never lower, never NaN.
#[must_use]
pub fn loudness_lufs(samples: &[f32], channels: u16, sample_rate: u32) -> f32 {
    measure(samples, channels, sample_rate).unwrap_or(SILENCE_LUFS)
}

fn measure(samples: &[f32], channels: u16, sample_rate: u32) -> Option<f32> {
    if sample_rate < MIN_MEASURED_RATE || channels == 0 {
        return None;
    }
    let mut meter = EbuR128::new(u32::from(channels), sample_rate, Mode::M).ok()?;
    if channels == 1 {
        meter.set_channel(0, Channel::DualMono).ok()?;
    }
    let channels = usize::from(channels);
    let hop = (sample_rate as usize * HOP_MS as usize / 1000).max(1) * channels;
    let mut loudest = f64::NEG_INFINITY;
    for chunk in samples.chunks(hop) {
        meter.add_frames_f32(chunk).ok()?;
        loudest = loudest.max(meter.loudness_momentary().ok()?);
    }
    // A sound shorter than the window is measured with the window holding all of it.
    let loudest = loudest as f32;
    loudest.is_finite().then_some(loudest.max(SILENCE_LUFS))
}

/// The linear gain that brings a sound measured at `loudness_lufs` to
/// [`TARGET_LOUDNESS_LUFS`], lowered if need be so that `peak × gain ≤ 1.0`.
///
/// Silent or unmeasured sounds keep unity gain: there is nothing to bring up.
#[must_use]
pub fn normalising_gain(loudness_lufs: f32, peak: f32) -> f32 {
    if loudness_lufs <= SILENCE_LUFS || peak <= 0.0 {
        return 1.0;
    }
    let wanted = db_to_gain(TARGET_LOUDNESS_LUFS - loudness_lufs);
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

    fn sine(hz: f32, amplitude: f32, frames: usize) -> Vec<f32> {
        (0..frames)
            .map(|i| amplitude * (std::f32::consts::TAU * hz * i as f32 / 48_000.0).sin())
            .collect()
    }

    #[test]
    fn a_1_khz_sine_reads_as_bs_1770_says() {
        // BS.1770: a 0 dBFS 1 kHz sine in one channel of a stereo pair reads −3.01 LUFS
        // (K-weighting adds +0.69 dB at 1 kHz, cancelled by the −0.691 offset). As dual mono
        // it is in both channels: 0 LUFS.
        let mono = loudness_lufs(&sine(1000.0, 1.0, 48_000), 1, 48_000);
        assert!(mono.abs() < 0.1, "{mono}");
        let left_only: Vec<f32> = sine(1000.0, 1.0, 48_000)
            .into_iter()
            .flat_map(|s| [s, 0.0])
            .collect();
        let stereo = loudness_lufs(&left_only, 2, 48_000);
        assert!((stereo + 3.01).abs() < 0.1, "{stereo}");
    }

    #[test]
    fn k_weighting_hears_a_low_gong_quieter_than_its_rms() {
        // The 38 Hz high-pass takes several dB off a 45 Hz tone of the same amplitude.
        let low = loudness_lufs(&sine(45.0, 1.0, 48_000), 1, 48_000);
        let mid = loudness_lufs(&sine(500.0, 1.0, 48_000), 1, 48_000);
        assert!(mid - low > 3.0, "45 Hz {low}, 500 Hz {mid}");
    }

    #[test]
    fn short_sounds_count_as_padded_with_silence() {
        // 100 ms of a sine in a 400 ms window: a quarter of the energy, −6 dB.
        let long = loudness_lufs(&sine(1000.0, 1.0, 48_000), 1, 48_000);
        let short = loudness_lufs(&sine(1000.0, 1.0, 4_800), 1, 48_000);
        assert!((long - short - 6.02).abs() < 0.2, "{long} vs {short}");
    }

    #[test]
    fn the_loudest_window_counts_wherever_it_is() {
        let mut quiet_then_loud = sine(1000.0, 0.01, 96_000);
        quiet_then_loud.extend(sine(1000.0, 0.5, 24_000));
        let db = loudness_lufs(&quiet_then_loud, 1, 48_000);
        assert!((db - 20.0 * 0.5f32.log10()).abs() < 0.2, "{db}");
    }

    #[test]
    fn silence_and_toy_rates_are_floored_and_kept_at_unity() {
        assert_eq!(loudness_lufs(&[0.0; 10_000], 1, 48_000), SILENCE_LUFS);
        assert_eq!(loudness_lufs(&[], 1, 48_000), SILENCE_LUFS);
        assert_eq!(loudness_lufs(&[0.5; 100], 1, 1_000), SILENCE_LUFS);
        assert_eq!(normalising_gain(SILENCE_LUFS, 0.0), 1.0);
        assert_eq!(normalising_gain(SILENCE_LUFS, 0.5), 1.0);
    }

    #[test]
    fn gain_reaches_target_unless_the_peak_would_clip() {
        let up_6 = TARGET_LOUDNESS_LUFS - 6.0;
        assert!((normalising_gain(up_6, 0.1) - db_to_gain(6.0)).abs() < 1e-6);
        assert_eq!(normalising_gain(TARGET_LOUDNESS_LUFS - 20.0, 0.5), 2.0);
    }
}
