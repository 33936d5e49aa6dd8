//! [`Mallet`]: how a stroke excites the modes — contact time, strike noise, attack.

use super::noise::Noise;

/// The beater that strikes an instrument, reduced to what the ear hears of it: how fast
/// the sound starts, how much strike noise it adds and how bright that noise is.
///
/// A stroke is modelled as an impulse (the moment of contact) plus a short burst of
/// low-passed noise whose level follows the contact force, a half sine over the contact
/// time (the usual model of a mallet pressing into a bar and springing back). The impulse
/// and a little of the burst drive the mode resonators; the burst is also radiated directly
/// as the audible "thud" or "tick" of the beater. The sound's level rises over the contact
/// time on a raised-cosine ramp from about −60 dB (a hard beater's 1 ms) or less (a padded
/// one's 8 ms), so no stroke starts with a step — a one-sample step is a click, broadband
/// up to Nyquist, that no beater makes — while the first sample is still non-zero and the
/// stroke's onset frame stays exact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mallet {
    /// Contact time in seconds: the length of the attack ramp and of the noise burst.
    pub contact_s: f64,
    /// Cutoff of the two-pole low-pass on the strike noise, in hertz.
    pub cutoff_hz: f64,
    /// Level of the directly radiated strike noise, relative to the peak of the ringing.
    pub thud: f64,
    /// How far the strike noise can push each mode's strength up or down (0.25 = at most
    /// ±25 %): the small stroke-to-stroke variation of a real beater.
    pub grain: f64,
}

/// Padded gong beater (gong ageng, suwukan, kempul): 5–10 ms contact, noise low-passed
/// at 300–600 Hz (A).
pub const PADDED: Mallet = Mallet {
    contact_s: 0.008, // A: inside 5–10 ms
    cutoff_hz: 450.0, // A: inside 300–600 Hz
    thud: 0.12,       // A: by ear, a soft felt thump under the ring
    grain: 0.2,       // A
};

/// String-wrapped stick (kenong, bonang): 2–3 ms contact, low-passed near 2 kHz (A).
pub const STRING_WRAPPED: Mallet = Mallet {
    contact_s: 0.0025, // A: inside 2–3 ms
    cutoff_hz: 2000.0, // A
    thud: 0.1,         // A
    grain: 0.2,        // A
};

/// Hard beater (kempyang, saron): a near-instant contact with a bright tick (A).
pub const HARD: Mallet = Mallet {
    contact_s: 0.001,  // A
    cutoff_hz: 4500.0, // A
    thud: 0.15,        // A
    grain: 0.25,       // A
};

/// Soft (padded) saron beater: a longer, duller contact that leaves the bar close to a
/// sine (M: a soft beater gives a near-sine saron). 4 ms and 800 Hz: A.
pub const SOFT: Mallet = Mallet {
    contact_s: 0.004, // A
    cutoff_hz: 800.0, // A
    thud: 0.05,       // A: a faint pad
    grain: 0.15,      // A
};

/// Hard beater held against the boss (ketuk): the damped "thuk" is more strike than ring,
/// so its noise is louder and duller than [`HARD`] (D/A): a knock under 600 Hz, the
/// held boss's, not a tick (a brighter one was the steepest edge of the whole pack).
pub const HARD_DAMPED: Mallet = Mallet {
    contact_s: 0.0015, // A
    cutoff_hz: 600.0,  // A
    thud: 0.25,        // A
    grain: 0.25,       // A
};

impl Mallet {
    /// Contact time in whole samples (at least one).
    #[must_use]
    pub fn contact_samples(&self, sample_rate: u32) -> usize {
        ((self.contact_s * f64::from(sample_rate)).round() as usize).max(1)
    }

    /// The strike-noise burst: `contact_samples` long, peak 1, rising from and falling to
    /// silence.
    ///
    /// White noise from `seed` through two one-pole low-passes at `cutoff_hz`, shaped by
    /// the half-sine contact force.
    #[must_use]
    pub fn burst(&self, sample_rate: u32, seed: u64) -> Vec<f64> {
        let len = self.contact_samples(sample_rate);
        let alpha = 1.0 - (-std::f64::consts::TAU * self.cutoff_hz / f64::from(sample_rate)).exp();
        let mut noise = Noise::new(seed);
        let (mut lp1, mut lp2) = (0.0, 0.0);
        let mut burst: Vec<f64> = (0..len)
            .map(|n| {
                lp1 += alpha * (noise.next_sample() - lp1);
                lp2 += alpha * (lp1 - lp2);
                let force = (std::f64::consts::PI * (n as f64 + 0.5) / len as f64).sin();
                lp2 * force
            })
            .collect();
        let peak = burst.iter().fold(0.0f64, |m, s| m.max(s.abs()));
        if peak > 0.0 {
            burst.iter_mut().for_each(|s| *s /= peak);
        }
        burst
    }

    /// What drives the mode resonators: a unit impulse at the first sample plus the burst
    /// scaled so that, at any frequency, it changes a mode's strength by at most `grain`.
    #[must_use]
    pub fn excitation(&self, burst: &[f64]) -> Vec<f64> {
        let area: f64 = burst.iter().map(|s| s.abs()).sum();
        let scale = if area > 0.0 { self.grain / area } else { 0.0 };
        let mut excitation: Vec<f64> = burst.iter().map(|s| s * scale).collect();
        if excitation.is_empty() {
            excitation.push(0.0);
        }
        excitation[0] += 1.0;
        excitation
    }

    /// The attack gain at sample `n`: a raised-cosine ramp over the contact time, then 1.
    ///
    /// The ramp is sampled at `(n + 1) / (len + 1)` of its length, so it never reads
    /// exactly 0 (the first sample is the onset) nor jumps: the first sample is
    /// `(π / (len + 1))² / 4` — −60 dB for a 1 ms contact at 48 kHz — and the gain rises by
    /// at most `π / (2 (len + 1))` a sample.
    #[must_use]
    pub fn attack_gain(&self, n: usize, sample_rate: u32) -> f64 {
        let len = self.contact_samples(sample_rate);
        if n >= len {
            return 1.0;
        }
        0.5 - 0.5 * (std::f64::consts::PI * (n + 1) as f64 / (len + 1) as f64).cos()
    }
}
