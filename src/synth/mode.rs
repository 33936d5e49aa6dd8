//! [`Mode`]: one vibrating mode (partial) of a struck instrument, rung by a two-pole
//! resonator.

use std::f64::consts::TAU;

/// One mode of a struck instrument: a partial with a fixed frequency, a strength and its
/// own decay.
///
/// Pitch is fixed for the whole sound: no source on bossed gongs shows a glide
/// (GAMELAN.md §1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mode {
    /// Frequency in hertz; must be below the Nyquist frequency of the render.
    pub freq_hz: f64,
    /// Amplitude the mode rings at right after an ideal (impulse) strike, relative to the
    /// other modes of the same voice.
    pub gain: f64,
    /// Seconds for the mode to fall by 60 dB.
    pub t60_s: f64,
}

impl Mode {
    /// Adds this mode's response to `excitation` into `out`, sample by sample.
    ///
    /// The resonator is Faust's `physmodels.lib` `modeFilter`: poles at radius
    /// `r = 0.001^(1/(t60·SR))` (so the ringing falls 60 dB in `t60_s`) and angle
    /// `ω = 2π·f/SR`, zeros at DC and Nyquist. Its numerator is halved so an impulse rings
    /// at amplitude `gain` (cosine phase), which keeps the instrument tables readable as
    /// "how loud is each partial". The excitation is read as zero past its end, so one
    /// short mallet burst drives a sound of any length.
    pub fn ring_into(&self, excitation: &[f64], out: &mut [f64], sample_rate: u32) {
        let sr = f64::from(sample_rate);
        let r = 0.001f64.powf(1.0 / (self.t60_s * sr));
        let a1 = -2.0 * r * (TAU * self.freq_hz / sr).cos();
        let a2 = r * r;
        let b = self.gain / 2.0;
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        for (n, sample) in out.iter_mut().enumerate() {
            let x = excitation.get(n).copied().unwrap_or(0.0);
            let y = b * (x - x2) - a1 * y1 - a2 * y2;
            x2 = x1;
            x1 = x;
            y2 = y1;
            y1 = y;
            *sample += y;
        }
    }
}
