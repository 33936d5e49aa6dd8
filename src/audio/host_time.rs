//! [`HostTime`]: an instant on the host's monotonic clock, the clock sessions keep.

use std::ops::{Add, Sub};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// An instant on the host's monotonic clock, in nanoseconds since a process-wide epoch.
///
/// This is the master clock of a live session (PRODUCT.md §2): a segment of 20 minutes ends
/// 20 minutes of `HostTime` after it began, whatever the sound card does. It is a plain
/// number so that it can cross from the audio callback to the control side in an atomic or
/// a ring buffer, and so that offline renders can run on a *virtual* host clock (frames
/// rendered, converted to nanoseconds) with the same code.
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
pub struct HostTime(u64);

/// Where the process's first instant sits on this clock: ten years in, so that a session
/// that began before this process did (one resumed after a crash or a restart) still has a
/// frame 0 on it.
const LIVE_EPOCH: u64 = 10 * 365 * 86_400 * 1_000_000_000;

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

impl HostTime {
    /// The epoch itself (the start of an offline render's virtual clock).
    pub const ZERO: HostTime = HostTime(0);

    /// Now. Cheap (a vDSO clock read) and allocation-free, so the audio callback may call it.
    #[must_use]
    pub fn now() -> HostTime {
        HostTime::from_instant(Instant::now())
    }

    /// `instant` on this clock; instants before the process's first use of `HostTime`
    /// read as that first instant.
    #[must_use]
    pub fn from_instant(instant: Instant) -> HostTime {
        HostTime(LIVE_EPOCH + instant.saturating_duration_since(epoch()).as_nanos() as u64)
    }

    /// This time as an [`Instant`], to sleep until it (instants before the process's
    /// first read as that first instant).
    #[must_use]
    pub fn to_instant(self) -> Instant {
        epoch() + Duration::from_nanos(self.0.saturating_sub(LIVE_EPOCH))
    }

    /// `self − duration`, or `None` before the clock's zero.
    #[must_use]
    pub fn checked_sub(self, duration: Duration) -> Option<HostTime> {
        u64::try_from(duration.as_nanos())
            .ok()
            .and_then(|d| self.0.checked_sub(d))
            .map(HostTime)
    }

    /// Nanoseconds since the epoch.
    #[must_use]
    pub const fn from_nanos(nanos: u64) -> HostTime {
        HostTime(nanos)
    }

    /// Seconds since the epoch: the server's clock as clients see it (`GET /v1/time`).
    #[must_use]
    pub fn as_seconds(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// Nanoseconds since the epoch.
    #[must_use]
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// How long after `earlier` this is, or zero if it is not after it.
    #[must_use]
    pub fn saturating_since(self, earlier: HostTime) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// `self − other` in nanoseconds, negative when `other` is later.
    #[must_use]
    pub fn signed_nanos_since(self, other: HostTime) -> i64 {
        (i128::from(self.0) - i128::from(other.0)).clamp(i64::MIN.into(), i64::MAX.into()) as i64
    }

    /// `self + duration`, or `None` on overflow.
    #[must_use]
    pub fn checked_add(self, duration: Duration) -> Option<HostTime> {
        u64::try_from(duration.as_nanos())
            .ok()
            .and_then(|d| self.0.checked_add(d))
            .map(HostTime)
    }

    /// `self − duration`, or the epoch.
    #[must_use]
    pub fn saturating_sub(self, duration: Duration) -> HostTime {
        HostTime(
            self.0
                .saturating_sub(duration.as_nanos().min(u64::MAX.into()) as u64),
        )
    }
}

impl Add<Duration> for HostTime {
    type Output = HostTime;
    /// Saturates at the end of time (585 years after the epoch) instead of wrapping.
    fn add(self, rhs: Duration) -> HostTime {
        self.checked_add(rhs).unwrap_or(HostTime(u64::MAX))
    }
}

impl Sub<Duration> for HostTime {
    type Output = HostTime;
    fn sub(self, rhs: Duration) -> HostTime {
        self.saturating_sub(rhs)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn round_trips_through_instant() {
        // Instants before the epoch read as the epoch: set it first.
        let _ = HostTime::now();
        let now = Instant::now();
        let t = HostTime::from_instant(now);
        let back = t.to_instant();
        let error = back.max(now) - back.min(now);
        assert!(error < Duration::from_micros(1), "{error:?}");
    }

    #[test]
    fn a_live_clock_reaches_years_into_the_past() {
        let now = HostTime::now();
        let week = Duration::from_secs(7 * 86_400);
        let then = now.checked_sub(week).expect("a week ago is on the clock");
        assert_eq!(now.saturating_since(then), week);
    }

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        let t = HostTime::from_nanos(5);
        assert_eq!(t - Duration::from_secs(1), HostTime::ZERO);
        assert_eq!(
            HostTime::from_nanos(u64::MAX - 1) + Duration::from_secs(1).max(Duration::ZERO),
            HostTime::from_nanos(u64::MAX)
        );
        assert_eq!(t.checked_add(Duration::MAX), None);
        assert_eq!(HostTime::from_nanos(3).signed_nanos_since(t), -2);
        assert_eq!(t.saturating_since(HostTime::from_nanos(9)), Duration::ZERO);
    }
}
