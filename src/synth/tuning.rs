//! Tunings (GAMELAN.md §2) and cents arithmetic.
//!
//! Every gamelan has its own tuning (*embat*); the default pack is pitched to one measured
//! slendro set and one measured pelog saron, not to a mean or to equal temperament.

/// Slendro pitches 1, 2, 3, 5, 6 and high 1 of the gamelan Kyai Kanyut Mesem, in hertz (M).
/// Kenong variant `k` (1-based) is `SLENDRO_KANYUT_MESEM_HZ[k - 1]`.
pub const SLENDRO_KANYUT_MESEM_HZ: [f64; 6] = [291.0, 331.0, 383.0, 439.0, 500.0, 582.0];

/// Slendro Kyai Kanyut Mesem in cents above pitch 1 (M): 0, 223, 476, 712, 937, 1200.
pub const SLENDRO_KANYUT_MESEM_CENTS: [f64; 6] = [0.0, 223.0, 476.0, 712.0, 937.0, 1200.0];

/// Pelog saron barung pitches 1–7 of one measured gamelan, in hertz (M).
pub const PELOG_SARON_HZ: [f64; 7] = [594.0, 637.0, 699.0, 794.0, 855.0, 936.0, 1024.0];

/// The interval from `from_hz` up to `to_hz` in cents (negative when `to_hz` is lower).
#[must_use]
pub fn cents_between(from_hz: f64, to_hz: f64) -> f64 {
    1200.0 * (to_hz / from_hz).log2()
}

/// The frequency `cents` above `base_hz`.
#[must_use]
pub fn transpose_cents(base_hz: f64, cents: f64) -> f64 {
    base_hz * (cents / 1200.0).exp2()
}
