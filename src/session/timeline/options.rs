//! [`TimelineOptions`]: the rate, speed and horizon a timeline is computed at.

use crate::audio::Frame;

use super::Speed;

/// How to compute a timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimelineOptions {
    /// Frames per second of the engine (0 is treated as 1).
    pub sample_rate: u32,
    /// Divides every plan duration.
    pub speed: Speed,
    /// Overtime reminders are generated only at frames up to this one (overtime has no
    /// end). Everything else is generated whatever the horizon. The actor passes "now plus
    /// its look-ahead"; an offline render passes the frame it renders to.
    pub horizon: Frame,
}

impl TimelineOptions {
    /// Real-time speed at `sample_rate`, with no horizon: overtime reminders are then
    /// bounded only by [`MAX_OVERTIME_REMINDERS`](super::MAX_OVERTIME_REMINDERS) per hold.
    /// The actor sets its own horizon (now plus its look-ahead); `render` sets the frame it
    /// renders to.
    #[must_use]
    pub fn new(sample_rate: u32) -> TimelineOptions {
        TimelineOptions {
            sample_rate,
            speed: Speed::NORMAL,
            horizon: Frame(u64::MAX),
        }
    }

    /// The same options at `speed`.
    #[must_use]
    pub fn with_speed(self, speed: Speed) -> TimelineOptions {
        TimelineOptions { speed, ..self }
    }

    /// The same options with overtime generated up to `horizon`.
    #[must_use]
    pub fn with_horizon(self, horizon: Frame) -> TimelineOptions {
        TimelineOptions { horizon, ..self }
    }
}
