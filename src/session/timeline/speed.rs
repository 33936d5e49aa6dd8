//! [`Speed`]: the factor every plan duration is divided by.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use thiserror::Error;

/// The playback speed: every plan duration is divided by it (not the sounds, not the
/// buka). For rehearsing a plan (`--speed 60`: a minute a second) and for tests.
///
/// Kept as thousandths so that the frame arithmetic stays integer and exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Speed {
    millis: u64,
}

/// A speed outside what gongan can pace.
#[derive(Debug, Clone, Error, PartialEq)]
#[error("speed {0} is out of range: use a number from 0.01 to 10000")]
pub struct SpeedError(pub String);

impl Speed {
    /// Real time.
    pub const NORMAL: Speed = Speed { millis: 1000 };

    /// A speed factor from 0.01 to 10 000, rounded to thousandths.
    pub fn new(factor: f64) -> Result<Speed, SpeedError> {
        if factor.is_finite() && (0.01..=10_000.0).contains(&factor) {
            Ok(Speed {
                millis: (factor * 1000.0).round() as u64,
            })
        } else {
            Err(SpeedError(factor.to_string()))
        }
    }

    /// The factor.
    #[must_use]
    pub fn factor(self) -> f64 {
        self.millis as f64 / 1000.0
    }

    /// Frames of `plan_time` at this speed and `sample_rate`, rounded to the nearest frame
    /// once (exact integer arithmetic).
    #[must_use]
    pub fn frames(self, plan_time: Duration, sample_rate: u32) -> u64 {
        // Saturates rather than overflows for absurd inputs (`Duration::MAX`); plan
        // lengths are bounded far below that by validation.
        let num = plan_time
            .as_nanos()
            .saturating_mul(u128::from(sample_rate))
            .saturating_mul(1000);
        let den = u128::from(self.millis.max(1)) * 1_000_000_000;
        u64::try_from(num.saturating_add(den / 2) / den).unwrap_or(u64::MAX)
    }
}

impl Default for Speed {
    fn default() -> Speed {
        Speed::NORMAL
    }
}

impl FromStr for Speed {
    type Err = SpeedError;
    fn from_str(s: &str) -> Result<Speed, SpeedError> {
        let factor: f64 = s
            .trim()
            .trim_end_matches('x')
            .parse()
            .map_err(|_| SpeedError(s.to_owned()))?;
        Speed::new(factor)
    }
}

impl fmt::Display for Speed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.factor())
    }
}
