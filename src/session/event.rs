//! [`SessionEvent`]: what a running session tells the world (terminal, SSE, history).

use serde::Serialize;

use super::clock::Moment;
use super::record::{Actor, SessionId};
use super::runner::SpinStatus;
use super::timeline::{Instrument, StrokeKind};
use crate::audio::Frame;

/// Something that happened in a session, at a [`Moment`] of session time (seconds since
/// its start, and the UTC instant), flattened into each event as `seconds` and `utc`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SessionEvent {
    /// A session began: its buka starts at `at`.
    SessionStarted {
        /// The session's id.
        id: SessionId,
        /// Who started it.
        by: Actor,
        /// The plan's name.
        plan: String,
        /// Segments in the plan.
        segments: usize,
        /// When the buka begins.
        #[serde(flatten)]
        at: Moment,
    },
    /// A segment began (or began again, after `previous`).
    SegmentStarted {
        /// Index of this run of a segment (runs repeat segments after `previous`).
        run: usize,
        /// The plan segment.
        segment: usize,
        /// Its title.
        title: String,
        /// When it started.
        #[serde(flatten)]
        at: Moment,
        /// Session seconds of its deadline (the gong), as things stand.
        deadline_seconds: f64,
    },
    /// A stroke sounded.
    Stroke {
        /// The engine frame its first sample was rendered at (for audio analysis).
        frame: Frame,
        /// The session frame it was planned for (at the timeline's rate).
        planned: Frame,
        /// When it was planned to be heard (and, within the output clock's precision, was).
        #[serde(flatten)]
        at: Moment,
        /// What was struck.
        instrument: Instrument,
        /// Which pitch, for pitched instruments.
        #[serde(skip_serializing_if = "Option::is_none")]
        variant: Option<u8>,
        /// The plan segment.
        segment: usize,
        /// Why it sounded.
        kind: StrokeKind,
    },
    /// The facilitator paused the session.
    Paused {
        /// When.
        #[serde(flatten)]
        at: Moment,
        /// Who.
        by: Actor,
    },
    /// The session goes on: after a pause (`by` whoever resumed it), or after the server
    /// was down (`by` the server, with `down_seconds`; a session paused before the crash
    /// stays paused and says so in its snapshot).
    Resumed {
        /// When.
        #[serde(flatten)]
        at: Moment,
        /// Who.
        by: Actor,
        /// How long the server was down, when it resumes after a restart.
        #[serde(skip_serializing_if = "Option::is_none")]
        down_seconds: Option<f64>,
    },
    /// The current segment got longer.
    Extended {
        /// When.
        #[serde(flatten)]
        at: Moment,
        /// Who.
        by: Actor,
        /// By how many seconds of plan time.
        by_seconds: f64,
    },
    /// The facilitator moved to the next or previous segment.
    Skipped {
        /// When.
        #[serde(flatten)]
        at: Moment,
        /// Who.
        by: Actor,
        /// `next` or `previous`.
        to: &'static str,
    },
    /// The facilitator stopped the session; its gong ageng sounds now.
    Stopped {
        /// When.
        #[serde(flatten)]
        at: Moment,
        /// Who.
        by: Actor,
    },
    /// A warning of the running segment sounded (or would have: its moment passed in a
    /// stall): `lead_seconds` of plan time before its deadline. Type `time_warning`, not to
    /// be confused with the server's `warning` events.
    TimeWarning {
        /// The plan segment.
        segment: usize,
        /// How long before the deadline, in plan seconds.
        lead_seconds: f64,
        /// When.
        #[serde(flatten)]
        at: Moment,
    },
    /// A `wait` segment passed its deadline and holds until the facilitator moves on.
    Overtime {
        /// The plan segment.
        segment: usize,
        /// The deadline.
        #[serde(flatten)]
        at: Moment,
    },
    /// Strokes whose moment passed while the output or the server stalled (a sound card
    /// that stopped taking audio, a stopped process) were not played: never late, never
    /// in a burst.
    Missed {
        /// How many.
        strokes: usize,
        /// The planned moment of the first of them.
        #[serde(flatten)]
        at: Moment,
    },
    /// The facilitator set the current segment's time left (`−1 min` does too).
    TimeLeftSet {
        /// When.
        #[serde(flatten)]
        at: Moment,
        /// Who.
        by: Actor,
        /// The time left now, in plan seconds.
        left_seconds: f64,
    },
    /// The facilitator jumped to a segment of the plan.
    Jumped {
        /// When.
        #[serde(flatten)]
        at: Moment,
        /// Who.
        by: Actor,
        /// The plan segment, from 0.
        segment: usize,
    },
    /// The wheel was spun: it lands on `entry` at `land_seconds`, with the gong.
    Spin {
        /// When it began.
        #[serde(flatten)]
        at: Moment,
        /// Who spun it.
        by: Actor,
        /// Where it lands, and how it gets there.
        #[serde(flatten)]
        spin: Option<SpinStatus>,
    },
    /// A new turn of a segment's rotation began.
    Turn {
        /// The plan segment.
        segment: usize,
        /// Whose turn it is.
        person: String,
        /// Who comes next (none on the last turn).
        next: Option<String>,
        /// Which turn, from 0.
        turn: usize,
        /// How many turns.
        of: usize,
        /// When it began.
        #[serde(flatten)]
        at: Moment,
    },
    /// The session ended (its gong ageng sounded, or it was stopped).
    Finished {
        /// When.
        #[serde(flatten)]
        at: Moment,
    },
}
