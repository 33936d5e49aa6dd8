//! Colotomic forms: the patterns of gong-family strokes that subdivide one gongan.
//!
//! A [`Form`] is a cycle of beats 1..N whose last beat is the gong (GAMELAN.md §3). gongan
//! stretches one cycle over one timebox, so the kenong marks quarters of a lancaran timebox,
//! the kempul eighths, and the gong lands on the deadline (§4). [`Density`] chooses which of
//! those strokes actually sound.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// The most beats a pattern may have. A gendhing has 64; more than this would make a
/// drone rather than a pulse, and keeps a hostile plan from asking for millions of strokes.
pub const MAX_BEATS: usize = 128;

/// One colotomic part: a pattern symbol (GAMELAN.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// `p` — kempyang, the high small gong that fills between ketuk strokes.
    Kempyang,
    /// `T` — ketuk, the damped "thuk".
    Ketuk,
    /// `N` — kenong, marking the kenongan (quarters of a lancaran).
    Kenong,
    /// `P` — kempul.
    Kempul,
    /// `W` — wela: the place where a kempul is deliberately silent. It never sounds.
    Wela,
    /// `G` — the gong that closes the cycle, always struck together with the kenong.
    Gong,
}

impl Part {
    const ALL: [Part; 6] = [
        Part::Kempyang,
        Part::Ketuk,
        Part::Kenong,
        Part::Kempul,
        Part::Wela,
        Part::Gong,
    ];

    /// The part's pattern symbol.
    #[must_use]
    pub const fn symbol(self) -> char {
        match self {
            Part::Kempyang => 'p',
            Part::Ketuk => 'T',
            Part::Kenong => 'N',
            Part::Kempul => 'P',
            Part::Wela => 'W',
            Part::Gong => 'G',
        }
    }

    /// The part a pattern symbol stands for (`.` is "nothing" and has no part).
    #[must_use]
    pub const fn from_symbol(symbol: char) -> Option<Part> {
        Some(match symbol {
            'p' => Part::Kempyang,
            'T' => Part::Ketuk,
            'N' => Part::Kenong,
            'P' => Part::Kempul,
            'W' => Part::Wela,
            'G' => Part::Gong,
            _ => return None,
        })
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The parts struck on one beat of a cycle (a small set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Beat(u8);

impl Beat {
    /// A beat on which nothing is struck (`.`).
    pub const REST: Beat = Beat(0);

    /// This beat plus `part`.
    #[must_use]
    pub const fn with(self, part: Part) -> Beat {
        Beat(self.0 | part.bit())
    }

    /// Whether `part` is struck on this beat.
    #[must_use]
    pub const fn has(self, part: Part) -> bool {
        self.0 & part.bit() != 0
    }

    /// Whether the kenong sounds on this beat: an `N`, or a `G` (the gong is always
    /// doubled by the kenong).
    #[must_use]
    pub const fn has_kenong(self) -> bool {
        self.has(Part::Kenong) || self.has(Part::Gong)
    }

    /// The parts on this beat, in symbol order.
    pub fn parts(self) -> impl Iterator<Item = Part> {
        Part::ALL.into_iter().filter(move |p| self.has(*p))
    }
}

impl fmt::Display for Beat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str(".");
        }
        self.parts().try_for_each(|p| write!(f, "{}", p.symbol()))
    }
}

/// A validated cycle of beats: 1..=[`MAX_BEATS`] beats, the gong on the last beat and only
/// there.
///
/// Written as whitespace-separated beats, each beat one or more symbols
/// (`p T N P W G`, or `.` for nothing): `"T W T N T P T N T P T N T P T G"`. Several
/// symbols in one beat sound together (`"TN"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    beats: Vec<Beat>,
}

/// Why a pattern string is not a usable cycle.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum PatternError {
    /// No beats at all.
    #[error("the pattern is empty")]
    Empty,
    /// A character that is not a pattern symbol.
    #[error("unknown symbol {symbol:?} in beat {beat} (symbols: p T N P W G and . for a rest)")]
    UnknownSymbol {
        /// The offending character.
        symbol: char,
        /// The beat it is in, from 1.
        beat: usize,
    },
    /// No `G`: a cycle must end on the gong.
    #[error("the pattern has no gong (G); it must end on one")]
    NoGong,
    /// A `G` before the last beat.
    #[error("gong (G) on beat {beat} of {of}; the gong must be the last beat only")]
    GongNotLast {
        /// Where the early gong is, from 1.
        beat: usize,
        /// Beats in the pattern.
        of: usize,
    },
    /// More than [`MAX_BEATS`] beats.
    #[error("{0} beats; a pattern has at most {MAX_BEATS}")]
    TooLong(usize),
}

impl Pattern {
    /// Reads a pattern string (see the type's docs). Never panics.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let mut beats = Vec::new();
        for (index, token) in text.split_whitespace().enumerate() {
            if index == MAX_BEATS {
                return Err(PatternError::TooLong(text.split_whitespace().count()));
            }
            let mut beat = Beat::REST;
            for symbol in token.chars() {
                match Part::from_symbol(symbol) {
                    Some(part) => beat = beat.with(part),
                    None if symbol == '.' => {}
                    None => {
                        return Err(PatternError::UnknownSymbol {
                            symbol,
                            beat: index + 1,
                        });
                    }
                }
            }
            beats.push(beat);
        }
        Pattern::from_beats(beats)
    }

    /// A pattern from beats, checked like [`Pattern::parse`].
    pub fn from_beats(beats: Vec<Beat>) -> Result<Pattern, PatternError> {
        let Some(last) = beats.last() else {
            return Err(PatternError::Empty);
        };
        if beats.len() > MAX_BEATS {
            return Err(PatternError::TooLong(beats.len()));
        }
        if let Some(early) = beats[..beats.len() - 1]
            .iter()
            .position(|b| b.has(Part::Gong))
        {
            return Err(PatternError::GongNotLast {
                beat: early + 1,
                of: beats.len(),
            });
        }
        if !last.has(Part::Gong) {
            return Err(PatternError::NoGong);
        }
        Ok(Pattern { beats })
    }

    /// The beats, beat 1 first. Never empty; the last one has the gong.
    #[must_use]
    pub fn beats(&self) -> &[Beat] {
        &self.beats
    }

    /// Number of beats N in one cycle (≥ 1).
    #[must_use]
    pub fn len(&self) -> usize {
        self.beats.len()
    }

    /// Always `false`: a pattern has at least its gong. Here for API symmetry.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.beats.is_empty()
    }

    /// The kenong pitch (variant 1..=6) for each beat that has a kenong, rising through the
    /// cycle so that listeners hear *which* kenongan they are in (GAMELAN.md §4). The gong
    /// beat always gets pitch 6 (nem, the pitch the gong ageng is tuned to); a cycle with
    /// more than six kenong strokes repeats pitches but never falls.
    #[must_use]
    pub fn kenong_variants(&self) -> Vec<Option<u8>> {
        let count = self.beats.iter().filter(|b| b.has_kenong()).count();
        let mut seen = 0usize;
        self.beats
            .iter()
            .map(|b| {
                if !b.has_kenong() {
                    return None;
                }
                seen += 1;
                let variant = if count <= 1 {
                    6
                } else {
                    // Spread 1..=6 over the kenong strokes; integer, monotone.
                    1 + (seen - 1) * 5 / (count - 1)
                };
                Some(variant as u8)
            })
            .collect()
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, beat) in self.beats.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{beat}")?;
        }
        Ok(())
    }
}

/// A segment's colotomic form: a named traditional form or a custom [`Pattern`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Form {
    /// 16 beats: `T W T N  T P T N  T P T N  T P T G`. Kenong on quarters, kempul on
    /// eighths, ketuk on sixteenths. The default: it says "how far along" most clearly.
    #[default]
    Lancaran,
    /// 16 beats: `p T p W  p T p N  p T p P  p T p G`. Only two kenong strokes, so the
    /// timebox is heard in halves.
    Ketawang,
    /// 32 beats: kempyang on odd beats, ketuk on 2, 6 … 30, wela on 4, kenong on 8, 16, 24,
    /// 32, kempul on 12, 20, 28, gong on 32.
    Ladrang,
    /// Gendhing kethuk 2 kerep, 64 beats: four kenongan of 16 beats, ketuk twice per
    /// kenongan (beats 4 and 12 of each, an approximation to check against Pickvance), no
    /// kempul, gong on 64. For long timeboxes.
    Gendhing,
    /// A single stroke when the segment starts and the gong at its end, nothing between:
    /// for breaks and for segments that should not be paced.
    Bell,
    /// Any pattern string.
    Custom(Pattern),
}

/// Why a form name is not usable.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum FormError {
    /// A word that names no form and is not a pattern either.
    #[error(
        "unknown form {0:?}: use lancaran, ketawang, ladrang, gendhing, bell, or a pattern like \"T W T N T P T G\""
    )]
    Unknown(String),
    /// A pattern string that is not a valid cycle.
    #[error("bad pattern: {0}")]
    Pattern(#[from] PatternError),
}

impl Form {
    /// The forms that have names, in the order documentation lists them.
    pub const NAMED: [Form; 5] = [
        Form::Lancaran,
        Form::Ketawang,
        Form::Ladrang,
        Form::Gendhing,
        Form::Bell,
    ];

    /// Reads a form name (`"lancaran"`, case-insensitive) or a pattern string. A single
    /// word that is neither is reported as an unknown form rather than as a pattern with
    /// bad symbols, since that is what the writer most likely meant.
    pub fn parse(text: &str) -> Result<Form, FormError> {
        let trimmed = text.trim();
        if let Some(named) = Form::NAMED
            .into_iter()
            .find(|f| f.name().is_some_and(|n| n.eq_ignore_ascii_case(trimmed)))
        {
            return Ok(named);
        }
        match Pattern::parse(trimmed) {
            Ok(pattern) => Ok(Form::Custom(pattern)),
            Err(PatternError::UnknownSymbol { .. })
                if trimmed.len() > 1
                    && !trimmed.contains(char::is_whitespace)
                    && trimmed.chars().all(|c| c.is_alphanumeric() || c == '-') =>
            {
                Err(FormError::Unknown(trimmed.to_owned()))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// The form's name, or `None` for a custom pattern.
    #[must_use]
    pub const fn name(&self) -> Option<&'static str> {
        Some(match self {
            Form::Lancaran => "lancaran",
            Form::Ketawang => "ketawang",
            Form::Ladrang => "ladrang",
            Form::Gendhing => "gendhing",
            Form::Bell => "bell",
            Form::Custom(_) => return None,
        })
    }

    /// Whether the form strikes once when its segment starts (only [`Form::Bell`]: the
    /// other forms are heard from their first beat).
    #[must_use]
    pub const fn strikes_at_start(&self) -> bool {
        matches!(self, Form::Bell)
    }

    /// The cycle of beats this form plays over one timebox.
    #[must_use]
    pub fn pattern(&self) -> Pattern {
        let symbols = |text: &str| {
            // The built-in strings are tested to parse; fall back to a lone gong rather
            // than panic if one ever did not.
            Pattern::parse(text).unwrap_or_else(|_| Pattern {
                beats: vec![Beat::REST.with(Part::Gong)],
            })
        };
        match self {
            Form::Lancaran => symbols("T W T N T P T N T P T N T P T G"),
            Form::Ketawang => symbols("p T p W p T p N p T p P p T p G"),
            Form::Ladrang => Pattern {
                beats: (1..=32)
                    .map(|beat: usize| {
                        let mut b = Beat::REST;
                        if beat % 2 == 1 {
                            b = b.with(Part::Kempyang);
                        }
                        if beat % 4 == 2 {
                            b = b.with(Part::Ketuk);
                        }
                        match beat {
                            4 => b = b.with(Part::Wela),
                            12 | 20 | 28 => b = b.with(Part::Kempul),
                            8 | 16 | 24 => b = b.with(Part::Kenong),
                            32 => b = b.with(Part::Gong),
                            _ => {}
                        }
                        b
                    })
                    .collect(),
            },
            Form::Gendhing => Pattern {
                beats: (1..=64)
                    .map(|beat: usize| match (beat, beat % 16) {
                        (64, _) => Beat::REST.with(Part::Gong),
                        (_, 0) => Beat::REST.with(Part::Kenong),
                        (_, 4 | 12) => Beat::REST.with(Part::Ketuk),
                        _ => Beat::REST,
                    })
                    .collect(),
            },
            Form::Bell => symbols("G"),
            Form::Custom(pattern) => pattern.clone(),
        }
    }
}

impl fmt::Display for Form {
    /// The name for a named form, the pattern string for a custom one; either reads back
    /// with [`Form::parse`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.name(), self) {
            (Some(name), _) => f.write_str(name),
            (None, Form::Custom(pattern)) => write!(f, "{pattern}"),
            (None, _) => Ok(()),
        }
    }
}

impl FromStr for Form {
    type Err = FormError;
    fn from_str(s: &str) -> Result<Form, FormError> {
        Form::parse(s)
    }
}

/// How many of a form's strokes sound: the facilitator's choice, so long timeboxes can be a
/// pulse rather than a drone (GAMELAN.md §4).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Density {
    /// Kenong and gong only.
    Sparse,
    /// Kenong, gong and kempul.
    #[default]
    Normal,
    /// Everything: also ketuk and kempyang.
    Full,
}

impl Density {
    /// All densities, sparsest first.
    pub const ALL: [Density; 3] = [Density::Sparse, Density::Normal, Density::Full];

    /// Whether `part` sounds at this density. The wela never sounds (it is a silence).
    #[must_use]
    pub const fn admits(self, part: Part) -> bool {
        match part {
            Part::Kenong | Part::Gong => true,
            Part::Kempul => !matches!(self, Density::Sparse),
            Part::Ketuk | Part::Kempyang => matches!(self, Density::Full),
            Part::Wela => false,
        }
    }

    /// The lowercase name used in plans.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Density::Sparse => "sparse",
            Density::Normal => "normal",
            Density::Full => "full",
        }
    }
}

impl fmt::Display for Density {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Density {
    type Err = String;
    /// Reads `sparse`, `normal` or `full` (case-insensitive); the error is the input.
    fn from_str(s: &str) -> Result<Density, String> {
        Density::ALL
            .into_iter()
            .find(|d| d.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| s.to_owned())
    }
}

#[cfg(test)]
mod test;
