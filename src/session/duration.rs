//! [`SegmentDuration`]: a plan's lengths of time, written the way facilitators say them.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use thiserror::Error;

/// A length of plan time: a segment's timebox, a warning's lead, an extension.
///
/// Written compactly, the way a facilitator says it: `"20m"`, `"90s"`, `"1h30m"`,
/// `"1h 30m"`, `"500ms"`. Units are `h`, `m`, `s` and `ms`, each a whole number, each at most
/// once and largest first; spaces between parts are allowed. It serialises back in the
/// canonical compact form (`"90s"` → `"1m30s"`), so a plan read and written again means the
/// same thing.
///
/// Parsing accepts zero (`"0s"`) because "zero" is a property of the *use* (a zero-length
/// segment is an error, that is plan validation's call), not of the notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SegmentDuration(Duration);

/// Why a duration string could not be read.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum DurationError {
    /// Nothing was written.
    #[error("empty duration (write it like \"20m\", \"90s\" or \"1h30m\")")]
    Empty,
    /// A leading minus sign: plan time never runs backwards.
    #[error("{0:?} is negative; durations must be positive")]
    Negative(String),
    /// A number without a unit, or an unknown unit.
    #[error("{input:?}: expected a number followed by h, m, s or ms at {what:?}")]
    Syntax {
        /// The whole input.
        input: String,
        /// The part that could not be read.
        what: String,
    },
    /// The same unit twice, or units out of order (`"30m1h"`).
    #[error("{input:?}: units must each appear once, largest first (like \"1h30m\")")]
    Order {
        /// The whole input.
        input: String,
    },
    /// More than fits in a `u64` of milliseconds.
    #[error("{0:?} is too long to represent")]
    Overflow(String),
}

impl SegmentDuration {
    /// Zero length.
    pub const ZERO: SegmentDuration = SegmentDuration(Duration::ZERO);

    /// Wraps a [`Duration`]. Sub-millisecond parts are kept but cannot be written back
    /// exactly by [`Display`](fmt::Display), which rounds down to whole milliseconds.
    #[must_use]
    pub const fn new(duration: Duration) -> SegmentDuration {
        SegmentDuration(duration)
    }

    /// `secs` whole seconds.
    #[must_use]
    pub const fn from_secs(secs: u64) -> SegmentDuration {
        SegmentDuration(Duration::from_secs(secs))
    }

    /// `mins` whole minutes.
    #[must_use]
    pub const fn from_mins(mins: u64) -> SegmentDuration {
        SegmentDuration(Duration::from_secs(mins.saturating_mul(60)))
    }

    /// The length as a standard [`Duration`].
    #[must_use]
    pub const fn get(self) -> Duration {
        self.0
    }

    /// `true` for a zero length.
    #[must_use]
    pub const fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// Reads the compact notation (see the type's docs). Never panics.
    pub fn parse(input: &str) -> Result<SegmentDuration, DurationError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(DurationError::Empty);
        }
        if trimmed.starts_with('-') {
            return Err(DurationError::Negative(input.to_owned()));
        }
        let syntax = |what: &str| DurationError::Syntax {
            input: input.to_owned(),
            what: what.to_owned(),
        };
        let overflow = || DurationError::Overflow(input.to_owned());
        let bytes = trimmed.as_bytes();
        let mut i = 0;
        let mut total_ms: u64 = 0;
        // Rank of the last unit seen (h = 0 … ms = 3): units must strictly increase.
        let mut last_rank: Option<u8> = None;
        while i < bytes.len() {
            while i < bytes.len() && bytes[i] == b' ' {
                i += 1;
            }
            if i == bytes.len() {
                break;
            }
            let digits_start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i == digits_start {
                return Err(syntax(&trimmed[digits_start..]));
            }
            let number: u64 = trimmed[digits_start..i].parse().map_err(|_| overflow())?;
            let unit_start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            let (rank, ms_per_unit) = match &trimmed[unit_start..i] {
                "h" => (0, 3_600_000),
                "m" => (1, 60_000),
                "s" => (2, 1_000),
                "ms" => (3, 1),
                _ => return Err(syntax(&trimmed[digits_start..])),
            };
            if last_rank.is_some_and(|last| last >= rank) {
                return Err(DurationError::Order {
                    input: input.to_owned(),
                });
            }
            last_rank = Some(rank);
            total_ms = number
                .checked_mul(ms_per_unit)
                .and_then(|ms| total_ms.checked_add(ms))
                .ok_or_else(overflow)?;
        }
        Ok(SegmentDuration(Duration::from_millis(total_ms)))
    }
}

impl From<Duration> for SegmentDuration {
    fn from(duration: Duration) -> SegmentDuration {
        SegmentDuration(duration)
    }
}

impl From<SegmentDuration> for Duration {
    fn from(duration: SegmentDuration) -> Duration {
        duration.0
    }
}

impl FromStr for SegmentDuration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<SegmentDuration, DurationError> {
        SegmentDuration::parse(s)
    }
}

impl fmt::Display for SegmentDuration {
    /// The canonical compact form: `1h30m`, `45s`, `2m500ms`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total_ms = self.0.as_millis();
        if total_ms == 0 {
            return f.write_str("0s");
        }
        let (h, rest) = (total_ms / 3_600_000, total_ms % 3_600_000);
        let (m, rest) = (rest / 60_000, rest % 60_000);
        let (s, ms) = (rest / 1_000, rest % 1_000);
        for (value, unit) in [(h, "h"), (m, "m"), (s, "s"), (ms, "ms")] {
            if value > 0 {
                write!(f, "{value}{unit}")?;
            }
        }
        Ok(())
    }
}

impl serde::Serialize for SegmentDuration {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SegmentDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        SegmentDuration::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod test;
