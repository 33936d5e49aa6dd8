//! [`Instrument`]: the default pack's instruments, with the numbers from GAMELAN.md (the
//! bali pack builds on them: [`bali`](super::bali)).
//!
//! Every number carries its source as GAMELAN.md does: **M** measured on real instruments,
//! **D** documented convention, **A** an approximation chosen here, tuned by ear and held
//! in range by the analysis tests (`tests/it/synth.rs`).

use super::mallet::{self, Mallet};
use super::table::{Partial, modes, p, seed, t60_at_pitch, twin, voice};
use super::tuning::{PELOG_SARON_HZ, SLENDRO_KANYUT_MESEM_HZ};
use super::voice::{Tremolo, Voice};

/// An instrument of a built-in pack: a name the session timeline and the HTTP API use,
/// a mixing gain, and one voice — or several pitched variants, numbered from 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Instrument {
    /// The instrument's name in `pack.toml` (`gong`, `kenong`…).
    pub name: &'static str,
    /// Gain in the manifest, so that the big gongs stand out over the small gongs (A).
    pub gain_db: f32,
    /// One voice for an instrument without pitches; otherwise variant `k` is
    /// `voices[k - 1]`.
    pub voices: Vec<Voice>,
}

impl Instrument {
    /// Whether the instrument has pitched variants (written as `variants` in the manifest).
    #[must_use]
    pub fn is_pitched(&self) -> bool {
        self.voices.len() > 1
    }

    /// The file name of each voice, in variant order: `gong.wav`, or `kenong-1.wav`….
    #[must_use]
    pub fn file_names(&self) -> Vec<String> {
        if self.is_pitched() {
            (1..=self.voices.len())
                .map(|k| format!("{}-{k}.wav", self.name))
                .collect()
        } else {
            vec![format!("{}.wav", self.name)]
        }
    }
}

/// The instruments of the default pack, in colotomic order from the biggest gong down.
///
/// Their `gain_db` set the mix by each instrument's part in the ensemble, on top of the
/// pack loader's loudness normalisation (every instrument brought to one EBU R 128
/// loudness first): the gong that closes the session loudest, the suwukan just under it, kempul and kenong — the structural quarters
/// and eighths — 3 dB down, bonang and saron (the buka and the time warnings) 6 dB down,
/// and the time-keeping kempyang and ketuk well under them (A). The ketuk's damped 0.23 s
/// "thuk" fills half of R 128's 400 ms window, so the meter rates it several dB quieter
/// than it sounds, and its crest (peak over loudness) is 17 dB: the loader's peak cap stops
/// its normalisation 4.6 LU short of the target, and its −10.5 dB counts from there. It
/// plays at −27 LUFS, 12 LU under the kenong, with its peak under the kenong's.
#[must_use]
pub fn default_instruments() -> Vec<Instrument> {
    vec![
        Instrument {
            name: "gong",
            gain_db: 0.0, // A
            voices: vec![gong_ageng()],
        },
        Instrument {
            name: "suwukan",
            gain_db: -1.0, // A
            voices: vec![suwukan()],
        },
        Instrument {
            name: "kempul",
            gain_db: -3.0, // A
            voices: vec![kempul()],
        },
        Instrument {
            name: "kenong",
            gain_db: -3.0, // A
            voices: (0..6).map(kenong).collect(),
        },
        Instrument {
            name: "ketuk",
            gain_db: -10.5, // A
            voices: vec![ketuk()],
        },
        Instrument {
            name: "kempyang",
            gain_db: -10.0, // A
            voices: vec![kempyang()],
        },
        Instrument {
            name: "bonang",
            gain_db: -6.0, // A
            voices: BONANG_HZ
                .iter()
                .enumerate()
                .map(|(i, &f)| bonang(i, f))
                .collect(),
        },
        Instrument {
            name: "saron",
            gain_db: -6.0, // A
            voices: PELOG_SARON_HZ
                .iter()
                .enumerate()
                .map(|(i, &f)| saron(i, f, &SARON_HARD, mallet::HARD, "saron"))
                .collect(),
        },
    ]
}

/// Gong ageng. One measured gong is 44.5 Hz (M) and the gong is usually pitched near 6.
/// About 12 partials (M); the two dominant modes sit near 2:1 (M). The second dominant mode
/// is `OMBAK_HZ` sharp of an exact octave and beats against the octave that the fundamental's
/// large swing puts at exactly 2·f1: the slow *ombak* (recipe A). Because GAMELAN.md makes
/// the beating modes the *dominant* ones, the pair is set as strong as the fundamental and
/// its two halves close in strength (0.95 and 0.75), so the beat swings the level of the
/// whole sound by several decibels — the swell a listener hears — and not only one partial's.
/// A weak 20 Hz AM rides on top (M: ~20 Hz AM on the partials; depth A).
fn gong_ageng() -> Voice {
    const F1: f64 = 44.5; // M
    const OMBAK_HZ: f64 = 2.2; // A: inside δ = 1–4 Hz
    let partials = [
        p(1.0, 1.0),               // M: fundamental, dominant
        twin(2.0, OMBAK_HZ, 0.95), // M: second dominant mode near 2:1; δ A
        p(2.0, 0.75),              // A: the exact octave it beats against
        p(2.93, 0.22),             // A: inharmonic upper partials, falling in strength
        p(3.47, 0.18),             // A
        p(4.13, 0.15),             // A
        p(4.76, 0.12),             // A
        p(5.38, 0.1),              // A
        p(6.21, 0.08),             // A
        p(7.04, 0.06),             // A
        p(8.12, 0.05),             // A
        p(9.45, 0.04),             // A
    ];
    Voice {
        tremolo: Some(Tremolo {
            rate_hz: 20.3, // M: ~20 Hz
            depth: 0.06,   // A: weak
        }),
        // T60 22 s: A, inside 15–25 s.
        ..voice(
            modes(F1, 22.0, 0.4, &partials),
            mallet::PADDED,
            seed("gong", 1),
        )
    }
}

/// Gong suwukan: a smaller hanging gong, 60–100 Hz (A), pitched here two octaves under
/// slendro high 1 (582 Hz / 8, A). Two close "fundamentals" that beat (M) and about five
/// clear peaks (M).
fn suwukan() -> Voice {
    const F1: f64 = 72.75; // A: inside 60–100 Hz
    let partials = [
        p(1.0, 1.0),         // M: first "fundamental"
        twin(1.0, 1.4, 0.8), // M: second, 1.4 Hz (A) above: beats
        p(2.02, 0.45),       // A
        p(2.64, 0.3),        // A
        p(3.18, 0.2),        // A
        p(4.05, 0.1),        // A
    ];
    // T60 11 s: A, inside 8–12 s.
    voice(
        modes(F1, 11.0, 0.35, &partials),
        mallet::PADDED,
        seed("suwukan", 1),
    )
}

/// Kempul: 115 Hz with partials 1, 1.565, 1.87, 2.0 (M: 115/180/215/230 Hz).
fn kempul() -> Voice {
    const F1: f64 = 115.0; // M
    let partials = [
        p(1.0, 1.0),         // M
        twin(1.0, 0.6, 0.3), // A: a slow beat on the fundamental
        p(1.565, 0.55),      // M ratio, A gain
        p(1.87, 0.4),        // M ratio, A gain
        p(2.0, 0.45),        // M ratio, A gain
        p(2.72, 0.1),        // A: faint metal above
        p(3.41, 0.06),       // A
    ];
    // T60 7 s: A, inside 5–8 s.
    voice(
        modes(F1, 7.0, 0.3, &partials),
        mallet::PADDED,
        seed("kempul", 1),
    )
}

/// Strong second partial of each kenong, ×f1 (A: spread over the measured ×1.29–1.63,
/// M: 295+470, 410+530, 450+640 Hz).
const KENONG_SECOND: [f64; 6] = [1.59, 1.55, 1.48, 1.42, 1.36, 1.31];

/// Decay of each kenong, lower pots ringing longer (A: inside the measured 1.5–5.5 s).
const KENONG_T60_S: [f64; 6] = [4.8, 4.4, 4.0, 3.5, 3.0, 2.6];

/// Kenong pitch `index + 1`, tuned to slendro Kyai Kanyut Mesem (M) so that rising
/// kenong strokes tell which quarter of the gongan it is.
fn kenong(index: usize) -> Voice {
    let f1 = SLENDRO_KANYUT_MESEM_HZ[index]; // M
    let partials = [
        p(1.0, 1.0),                  // M
        twin(1.0, 0.8, 0.3),          // A: beating twin
        p(KENONG_SECOND[index], 0.6), // M: one strong partial
        p(2.71, 0.12),                // A
        p(3.9, 0.06),                 // A
    ];
    voice(
        modes(f1, KENONG_T60_S[index], 0.4, &partials),
        mallet::STRING_WRAPPED,
        seed("kenong", index + 1),
    )
}

/// Ketuk: a small kettle gong near 270–320 Hz (D), struck and held: a damped "thuk" of
/// 0.1–0.3 s (D/A). Partials 1 and 2.0 (A) with a faint inharmonic third (A).
fn ketuk() -> Voice {
    const F1: f64 = 300.0; // A: inside 270–320 Hz
    let partials = [
        p(1.0, 1.0),  // A
        p(2.0, 0.35), // A
        p(3.1, 0.08), // A
    ];
    // T60 0.22 s: A, inside 0.1–0.3 s.
    voice(
        modes(F1, 0.22, 0.3, &partials),
        mallet::HARD_DAMPED,
        seed("ketuk", 1),
    )
}

/// Kempyang: about an octave above the ketuk (D), left to ring about 1 s (A).
fn kempyang() -> Voice {
    const F1: f64 = 600.0; // D: an octave above the 300 Hz ketuk
    let partials = [
        p(1.0, 1.0),          // A
        twin(1.0, 1.1, 0.25), // A: beating twin
        p(2.0, 0.3),          // A
        p(2.9, 0.08),         // A
    ];
    // T60 1.05 s: A, ~1 s.
    voice(
        modes(F1, 1.05, 0.3, &partials),
        mallet::HARD,
        seed("kempyang", 1),
    )
}

/// Bonang barung low-row pitches used as variants: slendro 2, 3, 5, 6 of Kyai Kanyut
/// Mesem (M), inside the measured low row 300–513 Hz (M).
const BONANG_HZ: [f64; 4] = [331.0, 383.0, 439.0, 500.0];

/// Bonang barung: nearly harmonic (M), strong attack and fast decay (M), 0.8–1.5 s (A),
/// the higher pots decaying faster ([`t60_at_pitch`]).
fn bonang(index: usize, f1: f64) -> Voice {
    let partials = [
        p(1.0, 1.0),                 // M
        twin(1.0, 0.0021 * f1, 0.2), // A: beating twin, 0.7 Hz at the lowest pot
        p(2.01, 0.45),               // M: nearly harmonic; exact ratios A
        p(3.03, 0.2),                // A
        p(4.06, 0.08),               // A
    ];
    let hard_stick = Mallet {
        thud: 0.15, // A: strong attack
        ..mallet::STRING_WRAPPED
    };
    // T60 1.45 s at the lowest pot: A, inside 0.8–1.5 s; 0.96 s at the highest.
    let t60 = t60_at_pitch(1.45, BONANG_HZ[0], f1);
    voice(
        modes(f1, t60, 0.45, &partials),
        hard_stick,
        seed("bonang", index + 1),
    )
}

/// Saron barung in pelog (M pitches), bar `index + 1` at `f1`, struck with `mallet`.
///
/// An ideal free bar has partials 1, 2.76, 5.40 (D). T60 1.75 s at the lowest bar (A,
/// inside 1–2 s), the higher bars decaying faster ([`t60_at_pitch`]), and overtones that
/// die sooner than the fundamental but not so soon that the 5.40 partial is gone before it
/// is heard (tilt 0.35 gives it about a third of the fundamental's T60).
pub(super) fn saron(
    index: usize,
    f1: f64,
    partials: &[Partial],
    mallet: Mallet,
    name: &str,
) -> Voice {
    let t60 = t60_at_pitch(1.75, PELOG_SARON_HZ[0], f1);
    voice(
        modes(f1, t60, 0.35, partials),
        mallet,
        seed(name, index + 1),
    )
}

/// A saron bar struck hard, as the melody and the default pack's saron are: a hard beater
/// brings out the overtones and they drift (M), so 2.76 and 5.40 (D) are strong — the
/// 5.40 partial 14 dB under the fundamental at the strike, 23–27 dB in the spectrum of the
/// first half second (it dies sooner) — and each has a weaker
/// near-degenerate twin whose slow beat makes it wander in level and pitch (A).
pub(super) const SARON_HARD: [Partial; 6] = [
    p(1.0, 1.0),     // D
    p(1.002, 0.15),  // A: a near-degenerate twin, a slight beat (1.2 Hz on the lowest bar)
    p(2.76, 0.3),    // D ratio, A gain
    p(2.7645, 0.12), // A: the drift, 2.7 Hz on the lowest bar
    p(5.4, 0.2),     // D ratio, A gain
    p(5.407, 0.08),  // A: the drift, 4.2 Hz on the lowest bar
];
