//! [`SessionEvent`]: what a running session tells the world (terminal, SSE, history).

use serde::Serialize;

use super::timeline::{Instrument, StrokeKind};
use crate::audio::Frame;

/// Something that happened in a session, at an engine frame.
///
/// Frames are the engine's (absolute) frames, so they can be compared with every other
/// frame the server reports; `seconds` is the same moment measured from the session's
/// start, for people.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SessionEvent {
    /// A session began: its buka starts at `frame`.
    SessionStarted {
        /// The plan's name.
        plan: String,
        /// Segments in the plan.
        segments: usize,
        /// Engine frame of the session's start.
        frame: Frame,
    },
    /// A segment began (or began again, after `previous`).
    SegmentStarted {
        /// Index of this run of a segment (runs repeat segments after `previous`).
        run: usize,
        /// The plan segment.
        segment: usize,
        /// Its title.
        title: String,
        /// Engine frame where it started.
        frame: Frame,
        /// Engine frame of its deadline (the gong), as things stand.
        deadline: Frame,
        /// Seconds since the session started.
        seconds: f64,
    },
    /// A stroke sounded: the engine started it at exactly `frame`.
    Stroke {
        /// Engine frame of its first sample.
        frame: Frame,
        /// Seconds since the session started.
        seconds: f64,
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
        /// Engine frame.
        frame: Frame,
    },
    /// The facilitator resumed it.
    Resumed {
        /// Engine frame.
        frame: Frame,
    },
    /// The current segment got longer.
    Extended {
        /// Engine frame.
        frame: Frame,
        /// By how many seconds of plan time.
        seconds: f64,
    },
    /// The facilitator moved to the next or previous segment.
    Skipped {
        /// Engine frame.
        frame: Frame,
        /// `next` or `previous`.
        to: &'static str,
    },
    /// The facilitator stopped the session; its gong ageng sounds now.
    Stopped {
        /// Engine frame.
        frame: Frame,
    },
    /// A `wait` segment passed its deadline and holds until the facilitator moves on.
    Overtime {
        /// The plan segment.
        segment: usize,
        /// Engine frame of the deadline.
        frame: Frame,
    },
    /// Strokes whose time had passed when the session caught up after a stall were
    /// dropped instead of played late.
    Dropped {
        /// How many.
        strokes: usize,
        /// Engine frame where the session caught up.
        frame: Frame,
    },
    /// The session ended (its gong ageng sounded, or it was stopped).
    Finished {
        /// Engine frame.
        frame: Frame,
    },
}
