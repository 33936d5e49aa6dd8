//! The "bali" pack: the default pack's instruments played as Balinese pairs, with a soft
//! and a hard saron.
//!
//! Balinese gamelan tunes its instruments in pairs, the *pengisep* a few hertz sharp of the
//! *pengumbang* (M: 5–7 Hz apart, GAMELAN.md §1), and strikes them together, so every note
//! beats — *ombak*, the shimmer the ensemble is known for. Here every voice of the default
//! pack gets its pengisep ([`Voice::with_twin`]) at [`pengisep_hz`] above it. The saron
//! comes with both beaters: `saron` struck hard (the default pack's bar, overtones strong
//! and drifting) and `saron-soft`, the same bars struck with a padded beater, close to a
//! sine (M). The tunings are the default pack's (A: GAMELAN.md gives no Balinese scale).

use super::instrument::{Instrument, default_instruments, saron};
use super::mallet;
use super::table::{Partial, p};
use super::tuning::PELOG_SARON_HZ;
use super::voice::Voice;

/// The beat between a pair, in hertz: the measured 6 Hz (M: 5–7 Hz), or 3 % of the
/// fundamental below 200 Hz (A). Six hertz on a 44.5 Hz gong would be a whole tone — two
/// pitches, not one that shimmers — so the low gongs keep their pair within half a
/// semitone, which lands their beat in GAMELAN.md's ombak range of 1–4 Hz (gong 1.3 Hz,
/// suwukan 2.2 Hz, kempul 3.5 Hz).
#[must_use]
pub fn pengisep_hz(f1: f64) -> f64 {
    (0.03 * f1).min(PAIR_BEAT_HZ)
}

/// The beat of a Balinese pair above 200 Hz (M: 5–7 Hz).
pub const PAIR_BEAT_HZ: f64 = 6.0;

/// A saron bar struck with a soft beater: the fundamental and its slight beat as the hard
/// stroke has them, the overtones 2.76 and 5.40 (D) some 34 and 46 dB down (M: near-sine).
const SARON_SOFT: [Partial; 4] = [
    p(1.0, 1.0),    // D
    p(1.002, 0.15), // A: the same near-degenerate twin as the hard stroke
    p(2.76, 0.02),  // D ratio, A gain: −34 dB
    p(5.4, 0.005),  // D ratio, A gain: −46 dB
];

/// The instruments of the bali pack: the default pack's, each voice paired with its
/// pengisep, plus `saron-soft`.
#[must_use]
pub fn bali_instruments() -> Vec<Instrument> {
    let mut instruments = default_instruments();
    let saron_gain_db = instruments
        .iter()
        .find(|i| i.name == "saron")
        .map_or(0.0, |i| i.gain_db);
    instruments.push(Instrument {
        name: "saron-soft",
        gain_db: saron_gain_db,
        voices: PELOG_SARON_HZ
            .iter()
            .enumerate()
            .map(|(i, &f)| saron(i, f, &SARON_SOFT, mallet::SOFT, "saron-soft"))
            .collect(),
    });
    for instrument in &mut instruments {
        instrument.voices = instrument.voices.iter().map(paired).collect();
    }
    instruments
}

/// `voice` with its pengisep.
fn paired(voice: &Voice) -> Voice {
    let f1 = voice.modes.first().map_or(0.0, |m| m.freq_hz);
    voice.with_twin(pengisep_hz(f1))
}
