//! [`Noise`]: the seeded white noise behind every mallet stroke.

/// A seeded white-noise source (SplitMix64).
///
/// The default pack is committed and must re-render byte for byte, so the noise is an
/// algorithm pinned in this file rather than a dependency whose stream could change in a
/// minor release. Same seed, same stream, on every platform: it is integer arithmetic and
/// one exact conversion to `f64`.
#[derive(Debug, Clone)]
pub struct Noise {
    state: u64,
}

impl Noise {
    /// A noise source whose whole stream is fixed by `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Noise {
        Noise { state: seed }
    }

    /// The next sample, uniform in `[-1, 1)`.
    pub fn next_sample(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // The top 53 bits fill an f64 mantissa exactly.
        (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}
