//! [`Limiter`]: the last stage of the mix, so that the sum of many voices never clips.

/// A peak limiter with instant attack and a smooth release.
///
/// Below the threshold it is transparent (gain exactly 1). When the mix peaks above it, the
/// gain drops at once to bring that frame to the threshold — so the output can never exceed
/// it, with no look-ahead and no latency — and recovers exponentially over the release time,
/// which keeps the gain change smooth (no pumping clicks) while many strokes ring together.
#[derive(Debug, Clone)]
pub struct Limiter {
    threshold: f32,
    release: f32,
    envelope: f32,
}

impl Limiter {
    /// The default ceiling: −1 dBFS, leaving headroom for converters that overshoot.
    pub const DEFAULT_THRESHOLD: f32 = 0.891;
    /// The default release time in seconds.
    pub const DEFAULT_RELEASE_SECONDS: f32 = 0.15;

    /// A limiter for `sample_rate` with the default threshold and release.
    #[must_use]
    pub fn new(sample_rate: u32) -> Limiter {
        Limiter::with(
            sample_rate,
            Limiter::DEFAULT_THRESHOLD,
            Limiter::DEFAULT_RELEASE_SECONDS,
        )
    }

    /// A limiter with an explicit `threshold` (linear, > 0) and release time in seconds.
    #[must_use]
    pub fn with(sample_rate: u32, threshold: f32, release_seconds: f32) -> Limiter {
        // The envelope falls by 60 dB over the release time.
        let release = 0.001f32.powf(1.0 / (release_seconds * sample_rate.max(1) as f32));
        Limiter {
            threshold,
            release,
            envelope: 0.0,
        }
    }

    /// The ceiling no output sample will exceed.
    #[must_use]
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Limits an interleaved stereo block in place.
    #[inline]
    pub fn process(&mut self, block: &mut [f32]) {
        for frame in block.chunks_exact_mut(2) {
            let peak = frame[0].abs().max(frame[1].abs());
            self.envelope = peak.max(self.envelope * self.release);
            if self.envelope > self.threshold {
                let gain = self.threshold / self.envelope;
                // The clamp only absorbs the last bit of rounding in `gain`.
                frame[0] = (frame[0] * gain).clamp(-self.threshold, self.threshold);
                frame[1] = (frame[1] * gain).clamp(-self.threshold, self.threshold);
            }
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn quiet_audio_passes_untouched() {
        let mut limiter = Limiter::new(48_000);
        let original: Vec<f32> = (0..960).map(|i| (i as f32 * 0.01).sin() * 0.5).collect();
        let mut block = original.clone();
        limiter.process(&mut block);
        assert_eq!(block, original);
    }

    #[test]
    fn loud_audio_never_exceeds_the_threshold() {
        let mut limiter = Limiter::new(48_000);
        let mut block: Vec<f32> = (0..9600).map(|i| (i as f32 * 0.05).sin() * 8.0).collect();
        limiter.process(&mut block);
        let peak = block.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!(peak <= Limiter::DEFAULT_THRESHOLD + 1e-6, "peak {peak}");
        assert!(
            peak > 0.8,
            "the limiter should not crush the signal: peak {peak}"
        );
    }

    #[test]
    fn gain_recovers_after_a_peak() {
        let rate = 1000;
        let mut limiter = Limiter::with(rate, 0.5, 0.1);
        let mut spike = vec![2.0, 2.0];
        limiter.process(&mut spike);
        assert_eq!(spike, vec![0.5, 0.5]);
        // 0.3 s later (three release times) the envelope is far below the threshold again.
        let mut quiet = vec![0.0; 2 * 300];
        limiter.process(&mut quiet);
        let mut after = vec![0.25, -0.25];
        limiter.process(&mut after);
        assert_eq!(after, vec![0.25, -0.25]);
    }
}
