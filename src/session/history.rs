//! [`History`]: how the facilitator steered a session, as events on the session's frames.
//!
//! The timeline is a pure function of the plan *and* this history, so the session actor
//! never mutates a schedule: it appends an event and recomputes. Everything before the
//! newest event is unchanged by construction, which is what makes journaling and replay
//! (a server killed mid-session resumes at the right place) straightforward.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::audio::Frame;

use super::plan::MAX_SEGMENT;

/// One steering event, at a session-relative frame (frame 0 = the session's start, when
/// the buka begins).
///
/// An event at frame `at` governs everything from `at` on: strokes before `at` are never
/// changed by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Steer {
    /// Freeze the position: nothing sounds until [`Steer::Resume`], and everything after
    /// moves later by the paused length.
    Pause {
        /// When.
        at: Frame,
    },
    /// End a pause.
    Resume {
        /// When.
        at: Frame,
    },
    /// End the current segment now with a suwuk and start the next one with its full
    /// length (or end the session, from the last segment). Resumes a paused session.
    Next {
        /// When.
        at: Frame,
    },
    /// Restart the previous segment (the current one, if it is the first) now, with its
    /// full length. Resumes a paused session.
    Previous {
        /// When.
        at: Frame,
    },
    /// Lengthen the current segment by `by` (plan time: divided by the speed like every
    /// plan duration). The rest of its gongan is re-spread to end on the new deadline and
    /// every later segment moves `by` later. In overtime, the segment gets a fresh deadline
    /// `by` after `at`.
    Extend {
        /// When.
        at: Frame,
        /// How much longer; more than zero, at most 24 h.
        #[serde(with = "duration_secs")]
        by: Duration,
    },
    /// End the session now with the gong ageng.
    Stop {
        /// When.
        at: Frame,
    },
    /// Give the current segment exactly `left` more (plan time): the rest of its gongan is
    /// re-spread to end on the new deadline, beats that would crowd are left out, and
    /// later segments move with it. `left` of zero ends the segment now, on its gong. In
    /// overtime, the segment gets a fresh deadline `left` after `at`.
    #[serde(rename = "set_left")]
    SetLeft {
        /// When.
        at: Frame,
        /// The time left from `at`, at most 24 h.
        #[serde(with = "duration_secs")]
        left: Duration,
    },
    /// Close the current segment now (a suwuk, as `next` does) and start segment
    /// `segment` with its full length; the same segment starts again.
    Jump {
        /// When.
        at: Frame,
        /// The plan segment, from 0.
        segment: u32,
    },
    /// Spin the current segment's wheel: a bonang run that slows down and lands, with the
    /// gong, on entry `entry` (from 0) a [`SPIN_LENGTH`](super::wheel::SPIN_LENGTH) after
    /// `at`. It does not move the session's time.
    Spin {
        /// When the run begins.
        at: Frame,
        /// The entry it lands on (picked by the server), from 0.
        entry: u32,
    },
}

impl Steer {
    /// The frame the event happens at.
    #[must_use]
    pub const fn at(&self) -> Frame {
        match *self {
            Steer::Pause { at }
            | Steer::Resume { at }
            | Steer::Next { at }
            | Steer::Previous { at }
            | Steer::Extend { at, .. }
            | Steer::Stop { at }
            | Steer::SetLeft { at, .. }
            | Steer::Jump { at, .. }
            | Steer::Spin { at, .. } => at,
        }
    }
}

/// Why an event cannot be appended to a history.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum HistoryError {
    /// Events must come in time order.
    #[error("event at {at} is before the previous event at {previous}")]
    OutOfOrder {
        /// The new event's frame.
        at: Frame,
        /// The last recorded event's frame.
        previous: Frame,
    },
    /// Nothing can follow a stop.
    #[error("the session was stopped at {0}")]
    Stopped(Frame),
    /// An extension of zero or of more than 24 h.
    #[error("cannot extend by {0:?}: use more than zero and at most 24h")]
    BadExtension(Duration),
    /// A time left of more than 24 h.
    #[error("cannot leave {0:?}: use at most 24h")]
    BadTimeLeft(Duration),
}

/// The steering events of one session, in time order (equal frames keep their order).
///
/// Only ordering and the obviously meaningless are rejected here; events that do not fit
/// the session's state at that moment (a resume while running, a next after the session
/// ended) are accepted and ignored by the timeline, so a replayed journal never fails.
/// The session actor decides what to accept from users by asking the timeline
/// ([`Timeline::position_at`](super::Timeline::position_at)) first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<Steer>", into = "Vec<Steer>")]
pub struct History {
    events: Vec<Steer>,
}

impl History {
    /// A session nobody has steered.
    #[must_use]
    pub const fn new() -> History {
        History { events: Vec::new() }
    }

    /// A history from events, checked like [`History::push`].
    pub fn from_events(events: impl IntoIterator<Item = Steer>) -> Result<History, HistoryError> {
        let mut history = History::new();
        for event in events {
            history.push(event)?;
        }
        Ok(history)
    }

    /// Appends `event`, which must not be earlier than the last one nor follow a stop.
    pub fn push(&mut self, event: Steer) -> Result<(), HistoryError> {
        self.accepts(&event)?;
        self.events.push(event);
        Ok(())
    }

    /// Whether [`History::push`] would take `event`; nothing changes.
    pub fn accepts(&self, event: &Steer) -> Result<(), HistoryError> {
        if let Some(last) = self.events.last() {
            if let Steer::Stop { at } = last {
                return Err(HistoryError::Stopped(*at));
            }
            if event.at() < last.at() {
                return Err(HistoryError::OutOfOrder {
                    at: event.at(),
                    previous: last.at(),
                });
            }
        }
        if let Steer::Extend { by, .. } = *event
            && (by.is_zero() || by > MAX_SEGMENT)
        {
            return Err(HistoryError::BadExtension(by));
        }
        if let Steer::SetLeft { left, .. } = *event
            && left > MAX_SEGMENT
        {
            return Err(HistoryError::BadTimeLeft(left));
        }
        Ok(())
    }

    /// The events, in order.
    #[must_use]
    pub fn events(&self) -> &[Steer] {
        &self.events
    }

    /// The newest event, if any.
    #[must_use]
    pub fn last(&self) -> Option<&Steer> {
        self.events.last()
    }
}

impl TryFrom<Vec<Steer>> for History {
    type Error = HistoryError;
    fn try_from(events: Vec<Steer>) -> Result<History, HistoryError> {
        History::from_events(events)
    }
}

impl From<History> for Vec<Steer> {
    fn from(history: History) -> Vec<Steer> {
        history.events
    }
}

/// `Duration` as fractional seconds in JSON (`{"by": 300.0}`), which is what the HTTP API's
/// `extend {seconds}` and the journal want to read.
mod duration_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn keeps_time_order_and_nothing_after_stop() {
        let mut h = History::new();
        h.push(Steer::Pause { at: Frame(10) }).unwrap();
        assert_eq!(
            h.push(Steer::Resume { at: Frame(5) }),
            Err(HistoryError::OutOfOrder {
                at: Frame(5),
                previous: Frame(10)
            })
        );
        h.push(Steer::Resume { at: Frame(10) }).unwrap();
        h.push(Steer::Stop { at: Frame(20) }).unwrap();
        assert_eq!(
            h.push(Steer::Next { at: Frame(30) }),
            Err(HistoryError::Stopped(Frame(20)))
        );
        assert!(matches!(
            h.clone().push(Steer::Extend {
                at: Frame(30),
                by: Duration::ZERO
            }),
            Err(HistoryError::Stopped(_))
        ));
        assert_eq!(h.events().len(), 3);
    }

    #[test]
    fn rejects_meaningless_extensions() {
        let mut h = History::new();
        for by in [Duration::ZERO, Duration::from_secs(25 * 3600)] {
            assert_eq!(
                h.push(Steer::Extend { at: Frame(1), by }),
                Err(HistoryError::BadExtension(by))
            );
        }
    }

    #[test]
    fn serialises_for_the_journal() {
        let h = History::from_events([
            Steer::Extend {
                at: Frame(48_000),
                by: Duration::from_secs(300),
            },
            Steer::Next { at: Frame(96_000) },
        ])
        .unwrap();
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(
            json,
            r#"[{"event":"extend","at":48000,"by":300.0},{"event":"next","at":96000}]"#
        );
        assert_eq!(serde_json::from_str::<History>(&json).unwrap(), h);
        assert!(
            serde_json::from_str::<History>(
                r#"[{"event":"next","at":5},{"event":"pause","at":1}]"#
            )
            .is_err()
        );
    }
}
