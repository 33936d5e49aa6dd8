//! Where a session is: its segment runs ([`SegmentRun`], [`RunEnd`]), its beat grid
//! ([`BeatMark`]), and the [`Timeline`]'s queries for a frame ([`State`], [`Position`]).

use serde::{Deserialize, Serialize};

use crate::audio::Frame;
use crate::session::wheel::SpinPath;

use super::Timeline;

/// A beat of a segment's form, sounding or not (density may silence it): the grid that
/// quantised cues snap to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeatMark {
    /// When.
    pub frame: Frame,
    /// The segment run.
    pub run: usize,
    /// Which beat, from 1.
    pub beat: u16,
    /// Beats in the form; `beat == of` is the gong.
    pub of: u16,
}

/// One spin of a segment's wheel: when it begins and lands, and how it travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WheelSpin {
    /// The plan segment whose wheel it is.
    pub segment: usize,
    /// The segment run it happened in.
    pub run: usize,
    /// When its run begins.
    pub start: Frame,
    /// When it lands, with the gong (unless a later spin or the end cut it short).
    pub land: Frame,
    /// From which entry to which, passing how many.
    pub path: SpinPath,
}

/// How a segment run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunEnd {
    /// Its deadline passed (an `auto` segment).
    Deadline,
    /// The facilitator moved on.
    Next,
    /// The facilitator went back.
    Previous,
    /// The session was stopped.
    Stop,
}

/// One run of a segment: usually one per segment; a segment restarted by `previous` runs
/// again, and every segment `next` passes through still gets a (possibly very short) run.
///
/// Spans are half-open: the run covers `start..end`; its deadline gong sounds at
/// `deadline`, which is also the next run's `start` for an `auto` segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentRun {
    /// The plan segment.
    pub segment: usize,
    /// Beats in the segment's form (N).
    pub of: u16,
    /// When it started.
    pub start: Frame,
    /// Its deadline after pauses and extensions (the last one computed, for a run still
    /// open).
    pub deadline: Frame,
    /// When it actually ended, or `None` if it is still open (paused, or holding in
    /// overtime, at the end of the history).
    pub end: Option<Frame>,
    /// How it ended.
    pub ended_by: Option<RunEnd>,
}

/// What a session is doing at a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// The opening phrase; segment 0 has not started.
    Buka,
    /// A segment is running.
    Running,
    /// Paused: the position is frozen.
    Paused,
    /// A `wait` segment is past its deadline, holding until the facilitator moves on.
    Overtime,
    /// The session has ended.
    Finished,
}

/// Where a session is at a frame: what the status endpoint and the progress display show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// What the session is doing.
    pub state: State,
    /// The current (or, when finished, the last) segment run; 0 during the buka.
    pub run: usize,
    /// Its plan segment.
    pub segment: usize,
    /// The last beat that has sounded in this run, from 1; 0 before the first.
    pub beat: u16,
    /// Beats in the segment's form.
    pub of: u16,
    /// Frames until the run's deadline (0 once it has passed).
    pub remaining: Frame,
}

impl Timeline {
    /// The first beat (sounding or silent) strictly after `frame`: where a cue quantised
    /// to the beat goes. `None` when no beat follows (finished, paused for good, or in
    /// overtime).
    #[must_use]
    pub fn next_beat_after(&self, frame: Frame) -> Option<Frame> {
        let i = self.beats.partition_point(|b| b.frame <= frame);
        self.beats.get(i).map(|b| b.frame)
    }

    /// The next gong (the last beat of a run's form) strictly after `frame`.
    #[must_use]
    pub fn next_gong_after(&self, frame: Frame) -> Option<Frame> {
        let i = self.beats.partition_point(|b| b.frame <= frame);
        self.beats[i..]
            .iter()
            .find(|b| b.beat == b.of)
            .map(|b| b.frame)
    }

    /// The run that is current at `frame`: the last one started at or before it (so at
    /// a boundary the new run is current). `None` during the buka.
    #[must_use]
    pub fn run_at(&self, frame: Frame) -> Option<usize> {
        self.runs
            .partition_point(|r| r.start <= frame)
            .checked_sub(1)
    }

    /// Where the session is at `frame`.
    #[must_use]
    pub fn position_at(&self, frame: Frame) -> Position {
        let Some(run_index) = self.run_at(frame) else {
            let first = self.runs.first();
            return Position {
                state: State::Buka,
                run: 0,
                segment: 0,
                beat: 0,
                of: first.map_or(0, |r| r.of),
                remaining: first.map_or(Frame::ZERO, |r| r.deadline.saturating_sub(frame)),
            };
        };
        let Some(run) = self.runs.get(run_index).copied() else {
            return Position {
                state: State::Finished,
                run: run_index,
                segment: 0,
                beat: 0,
                of: 0,
                remaining: Frame::ZERO,
            };
        };
        // Beats of one run are contiguous and sorted, so the latest beat at or before
        // `frame` is this run's last sounded beat if it belongs to this run at all.
        let i = self.beats.partition_point(|b| b.frame <= frame);
        let beat = i
            .checked_sub(1)
            .and_then(|j| self.beats.get(j))
            .filter(|b| b.run == run_index)
            .map_or(0, |b| b.beat);
        let of = run.of;
        let paused = self
            .pauses
            .iter()
            .any(|&(from, until)| from <= frame && until.is_none_or(|u| frame < u));
        let state = if self.is_finished_at(frame) {
            State::Finished
        } else if paused {
            State::Paused
        } else if self.waits.get(run_index).copied().unwrap_or(false) && frame >= run.deadline {
            State::Overtime
        } else {
            State::Running
        };
        Position {
            state,
            run: run_index,
            segment: run.segment,
            beat,
            of,
            remaining: run.deadline.saturating_sub(frame),
        }
    }
}
