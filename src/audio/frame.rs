//! [`Frame`]: a position on the audio frame clock.

use std::ops::{Add, AddAssign, Sub};
use std::time::Duration;

/// An absolute position on the engine's frame clock (frames rendered since the engine
/// started), or a length in frames. The frame clock is gongan's master clock: every stroke
/// is scheduled at a `Frame`, never at a wall-clock time.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Frame(pub u64);

impl Frame {
    /// Frame zero: where every engine's clock starts.
    pub const ZERO: Frame = Frame(0);

    /// The frame `seconds` after frame zero at `sample_rate`, rounded to the nearest frame.
    #[must_use]
    pub fn from_seconds(seconds: f64, sample_rate: u32) -> Frame {
        Frame((seconds * f64::from(sample_rate)).round().max(0.0) as u64)
    }

    /// The frame `duration` after frame zero at `sample_rate`, exact for whole
    /// nanoseconds (integer arithmetic, so long sessions do not accumulate rounding).
    #[must_use]
    pub fn from_duration(duration: Duration, sample_rate: u32) -> Frame {
        let nanos = duration.as_nanos();
        let frames = (nanos * u128::from(sample_rate) + 500_000_000) / 1_000_000_000;
        Frame(frames as u64)
    }

    /// This position in seconds at `sample_rate`.
    #[must_use]
    pub fn as_seconds(self, sample_rate: u32) -> f64 {
        self.0 as f64 / f64::from(sample_rate)
    }

    /// This position as a [`Duration`] at `sample_rate`.
    #[must_use]
    pub fn as_duration(self, sample_rate: u32) -> Duration {
        let nanos = u128::from(self.0) * 1_000_000_000 / u128::from(sample_rate);
        Duration::from_nanos(nanos as u64)
    }

    /// `self - earlier`, or zero if `earlier` is later.
    #[must_use]
    pub fn saturating_sub(self, earlier: Frame) -> Frame {
        Frame(self.0.saturating_sub(earlier.0))
    }
}

impl Add for Frame {
    type Output = Frame;
    fn add(self, rhs: Frame) -> Frame {
        Frame(self.0 + rhs.0)
    }
}

impl AddAssign for Frame {
    fn add_assign(&mut self, rhs: Frame) {
        self.0 += rhs.0;
    }
}

impl Sub for Frame {
    type Output = Frame;
    fn sub(self, rhs: Frame) -> Frame {
        Frame(self.0 - rhs.0)
    }
}

impl std::fmt::Display for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "frame {}", self.0)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn four_hours_is_exact() {
        let frames = Frame::from_duration(Duration::from_secs(4 * 3600), 48_000);
        assert_eq!(frames, Frame(4 * 3600 * 48_000));
        assert_eq!(frames.as_duration(48_000), Duration::from_secs(4 * 3600));
    }

    #[test]
    fn seconds_round_to_nearest_frame() {
        assert_eq!(Frame::from_seconds(0.5, 48_000), Frame(24_000));
        assert_eq!(Frame::from_seconds(1.0 / 96_000.0 * 0.9, 48_000), Frame(0));
    }
}
