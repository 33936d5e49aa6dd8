//! [`Limiter`]: the last stage of the mix, so that the sum of many voices never clips.

/// A peak limiter with instant attack and a smooth release.
///
/// Below the threshold it is transparent (gain exactly 1). When the mix peaks above it, the
/// gain drops at once to bring that frame to the threshold — so the output can never exceed
/// it, with no look-ahead and no latency — and recovers exponentially over the release time,
/// which keeps the gain change smooth (no pumping clicks) while many strokes ring together.
///
/// The envelope never becomes a denormal (subnormal) number: between strokes it decays
/// towards zero for minutes, and in `f32` that decay would leave the normal range after about
/// two seconds and then stick on a subnormal value, where every multiply takes the CPU's slow
/// path — once 90 % of the time of an offline render of a quiet plan. See [`Limiter::process`].
#[derive(Debug, Clone)]
pub struct Limiter {
    threshold: f32,
    release: f32,
    /// Below this the envelope is snapped to exactly zero.
    floor: f32,
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

    /// How far below the threshold the envelope is snapped to zero: −120 dB.
    ///
    /// Any floor at or below the threshold leaves the output bit for bit unchanged (see
    /// [`Limiter::process`]), so the value only decides how soon the snap happens: 120 dB
    /// under the ceiling is two release times after the envelope falls below it, long
    /// before the ~750 dB of decay after which `f32` turns subnormal, and far enough down
    /// that the envelope still reads as the signal's level to anyone inspecting it.
    const FLOOR_BELOW_THRESHOLD: f32 = 1e-6;

    /// A limiter with an explicit `threshold` (linear, > 0) and release time in seconds.
    #[must_use]
    pub fn with(sample_rate: u32, threshold: f32, release_seconds: f32) -> Limiter {
        // The envelope falls by 60 dB over the release time.
        let release = 0.001f32.powf(1.0 / (release_seconds * sample_rate.max(1) as f32));
        Limiter {
            threshold,
            release,
            floor: threshold * Limiter::FLOOR_BELOW_THRESHOLD,
            envelope: 0.0,
        }
    }

    /// The ceiling no output sample will exceed.
    #[must_use]
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Limits an interleaved stereo block in place.
    ///
    /// The envelope is snapped to zero once it falls below the floor, so it is always zero
    /// or a normal number and the multiply stays on the fast path through any silence.
    /// This cannot change a single output sample, because the envelope is only ever used
    /// when it is above the threshold, and the floor is below it: as long as the exact
    /// envelope stays at or above the floor the two agree; once it falls below, the
    /// snapped one is 0 and the exact one keeps decaying below the floor until a peak at or
    /// above the floor arrives, at which point both equal that peak again. Wherever they
    /// differ, both are under the threshold and the gain is exactly 1 either way.
    ///
    /// A silent block (every sample under the floor) met with the envelope at zero is
    /// skipped whole: frame by frame it would leave the envelope at zero and every sample
    /// as it is, so skipping changes nothing — and between the strokes of a session, most
    /// blocks are silent. The check is one pass with no carried dependency, unlike the
    /// envelope's, so it costs a fraction of the loop it saves.
    #[inline]
    pub fn process(&mut self, block: &mut [f32]) {
        // The largest magnitude as bits: for non-negative floats, integer order is float
        // order, and a NaN sorts above every number (so it never passes for silence).
        let loudest = block
            .iter()
            .fold(0u32, |loudest, s| loudest.max(s.to_bits() & !(1 << 31)));
        if self.envelope == 0.0 && f32::from_bits(loudest) < self.floor {
            return;
        }
        for frame in block.chunks_exact_mut(2) {
            let peak = frame[0].abs().max(frame[1].abs());
            let envelope = peak.max(self.envelope * self.release);
            // A select, not a jump: this compiles to a compare and a mask, no branch. It
            // also catches a subnormal `peak` from the mix.
            self.envelope = if envelope < self.floor { 0.0 } else { envelope };
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

    /// Regression: a render of a mostly silent hour ran at 268× real time instead of
    /// ≥ 1000×, because after about 2 s of silence the envelope decayed into subnormal
    /// numbers (and stuck there) and every later sample took the CPU's slow path.
    #[test]
    fn envelope_reaches_exactly_zero_in_silence_not_a_denormal() {
        let rate = 48_000;
        let mut limiter = Limiter::new(rate);
        let mut spike = vec![4.0, -4.0];
        limiter.process(&mut spike);
        assert!(limiter.envelope > Limiter::DEFAULT_THRESHOLD);
        let mut silence = vec![0.0; 2 * 1024];
        for _ in 0..(5 * rate as usize).div_ceil(1024) {
            limiter.process(&mut silence);
            assert!(
                !limiter.envelope.is_subnormal(),
                "the envelope went subnormal: {:e}",
                limiter.envelope
            );
        }
        assert_eq!(limiter.envelope.to_bits(), 0.0f32.to_bits());
    }

    /// The exact limiter, without the snap to zero or the skip of silent blocks: what
    /// `process` must match sample for sample.
    fn process_exactly(threshold: f32, release: f32, envelope: &mut f32, block: &mut [f32]) {
        for frame in block.chunks_exact_mut(2) {
            let peak = frame[0].abs().max(frame[1].abs());
            *envelope = peak.max(*envelope * release);
            if *envelope > threshold {
                let gain = threshold / *envelope;
                frame[0] = (frame[0] * gain).clamp(-threshold, threshold);
                frame[1] = (frame[1] * gain).clamp(-threshold, threshold);
            }
        }
    }

    #[test]
    fn snapping_to_zero_and_skipping_silence_change_no_sample() {
        let rate = 1000;
        let mut limiter = Limiter::with(rate, 0.5, 0.05);
        let mut exact_envelope = 0.0;
        // Loud bursts, each followed by a tail fading from just under the threshold,
        // through the floor, down to subnormal levels and silence, then loud again.
        let mut input = Vec::new();
        for burst in 0..4 {
            let loud = 1.0 + burst as f32;
            for i in 0..50 {
                let s = (i as f32 * 0.7).sin() * loud;
                input.extend([s, -s * 0.5]);
            }
            for i in 0..3000 {
                let level = 0.49 * 0.97f32.powi(i);
                let s = (i as f32 * 0.3).sin() * level;
                input.extend([s, s * 0.25]);
            }
            input.extend([1e-7, -3e-7, f32::MIN_POSITIVE / 4.0, 0.0]);
            input.extend(std::iter::repeat_n(0.0, 2 * 1000));
        }
        let mut expected = input.clone();
        process_exactly(
            limiter.threshold,
            limiter.release,
            &mut exact_envelope,
            &mut expected,
        );
        // The exact envelope has decayed into (and stuck among) the subnormals.
        assert!(exact_envelope.is_subnormal(), "{exact_envelope:e}");
        let mut output = input.clone();
        for block in output.chunks_mut(2 * 64) {
            limiter.process(block);
        }
        assert_eq!(output.len(), expected.len());
        for (i, (o, e)) in output.iter().zip(&expected).enumerate() {
            assert_eq!(o.to_bits(), e.to_bits(), "sample {i}: {o:e} vs {e:e}");
        }
        assert_ne!(output, input, "the bursts should have been limited");
    }
}
