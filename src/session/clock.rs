//! [`SessionClock`]: a session's own time, on the host's monotonic clock.
//!
//! A session keeps real time (PRODUCT.md §2): its instant 0 — when the buka begins — is a
//! [`HostTime`], and every stroke and steering event is placed in *session frames*, ticks
//! of this clock at the timeline's rate, counted from that instant. Session frames are not
//! engine frames: the runner maps each session instant to the output's frames through the
//! output's own [`OutputClock`](crate::audio::OutputClock), so a sound card that stalls,
//! drifts or restarts never moves the session. For records the clock also knows which UTC
//! instant its origin was, so events can be placed by a browser, another machine or a
//! debrief.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::audio::{Frame, HostTime};

/// Maps a session's frames to host instants and UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionClock {
    origin: HostTime,
    utc_origin: SystemTime,
    rate: u32,
}

impl SessionClock {
    /// A session whose frame 0 is at `origin` on the host clock, counting `rate` session
    /// frames per second; `origin` is placed in UTC by reading both clocks now.
    #[must_use]
    pub fn starting_at(origin: HostTime, rate: u32) -> SessionClock {
        let now = HostTime::now();
        let utc_now = SystemTime::now();
        let utc_origin = if origin >= now {
            utc_now + origin.saturating_since(now)
        } else {
            utc_now
                .checked_sub(now.saturating_since(origin))
                .unwrap_or(SystemTime::UNIX_EPOCH)
        };
        SessionClock::new(origin, utc_origin, rate)
    }

    /// A clock from its parts (a resumed session knows its UTC origin).
    #[must_use]
    pub fn new(origin: HostTime, utc_origin: SystemTime, rate: u32) -> SessionClock {
        SessionClock {
            origin,
            utc_origin,
            rate: rate.max(1),
        }
    }

    /// An offline render's clock: frame 0 at the virtual host clock's epoch, where time is
    /// frames.
    #[must_use]
    pub fn offline(rate: u32) -> SessionClock {
        SessionClock::new(HostTime::ZERO, SystemTime::now(), rate)
    }

    /// Session frames per second.
    #[must_use]
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// The host instant of session frame 0.
    #[must_use]
    pub fn origin(&self) -> HostTime {
        self.origin
    }

    /// The session frame at host instant `instant` (frame 0 before the session began).
    #[must_use]
    pub fn frame_at(&self, instant: HostTime) -> Frame {
        Frame::from_duration(instant.saturating_since(self.origin), self.rate)
    }

    /// The host instant of session frame `frame`.
    #[must_use]
    pub fn instant_of(&self, frame: Frame) -> HostTime {
        self.origin + frame.as_duration(self.rate)
    }

    /// The UTC instant of session frame `frame`.
    #[must_use]
    pub fn utc_of(&self, frame: Frame) -> SystemTime {
        self.utc_origin + frame.as_duration(self.rate)
    }

    /// Session frame `frame` as a [`Moment`] for events and snapshots.
    #[must_use]
    pub fn moment(&self, frame: Frame) -> Moment {
        Moment {
            seconds: frame.as_seconds(self.rate),
            utc: rfc3339(self.utc_of(frame)),
        }
    }
}

/// When something happened in a session: seconds of session time since its start, and
/// the same instant in UTC (RFC 3339, milliseconds), so that a browser, another machine or
/// a debrief can place it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Moment {
    /// Seconds since the session's start (when the buka began).
    pub seconds: f64,
    /// The UTC instant, e.g. `2026-11-22T09:30:00.125Z`.
    pub utc: String,
}

/// `time` as RFC 3339 UTC with milliseconds. (Days to civil date: Howard Hinnant's
/// algorithm, so no date crate is needed for one format.)
#[must_use]
pub fn rfc3339(time: SystemTime) -> String {
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let secs = since.as_secs();
    let millis = since.subsec_millis();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn frames_and_instants_round_trip_exactly() {
        let clock = SessionClock::new(HostTime::from_nanos(7_000), SystemTime::UNIX_EPOCH, 48_000);
        for f in [0u64, 1, 47_999, 48_000, 48_000 * 3600 * 4 + 17] {
            assert_eq!(clock.frame_at(clock.instant_of(Frame(f))), Frame(f));
        }
        assert_eq!(clock.frame_at(HostTime::from_nanos(3)), Frame(0));
        assert_eq!(
            clock.instant_of(Frame(48_000)),
            HostTime::from_nanos(1_000_007_000)
        );
    }

    #[test]
    fn utc_is_rfc3339() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_339_800_125);
        assert_eq!(rfc3339(t), "2026-11-22T09:30:00.125Z");
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000Z"
        );
        let clock = SessionClock::new(HostTime::ZERO, t, 1000);
        assert_eq!(clock.moment(Frame(1500)).utc, "2026-11-22T09:30:01.625Z");
        assert_eq!(clock.moment(Frame(1500)).seconds, 1.5);
    }
}
