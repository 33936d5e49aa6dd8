//! The timeline: a pure function from a plan, its steering history and options to every
//! stroke of the session at its exact frame.
//!
//! [`timeline()`] knows nothing of audio devices or wall clocks. The session actor calls it
//! again whenever the history changes (it is cheap: a few thousand strokes for a long
//! session) and schedules the strokes it has not yet sent. Because an event at frame `x`
//! never changes a stroke before `x`, the actor can cancel what it scheduled from `x` on
//! and send the new tail, with no diffing.
//!
//! ## The model (GAMELAN.md §4)
//!
//! - Frames are session-relative: frame 0 is when the buka begins.
//! - The buka — a fixed bonang phrase of [`BUKA_LENGTH`], never scaled by the speed —
//!   lands on the gong ageng exactly where segment 0 starts.
//! - A segment of planned length T (divided by the speed) with an N-beat form sounds beat
//!   k at `start + k·T/N`, computed from the start every time (integer arithmetic, no
//!   accumulation), so the last beat — the gong — is exactly on the deadline. Segment
//!   boundaries are computed from the plan's *cumulative* time, so an undisturbed session
//!   of any length ends exactly at `Σ durations × rate`.
//! - Each run of a segment ends with the gong suwukan, the session with the gong ageng.
//! - Warnings sound at `deadline − lead` as a saron + bonang pair.
//! - `end = "wait"` segments hold after their deadline gong with a soft kempul reminder
//!   every [`OVERTIME_INTERVAL`] of plan time (never closer than [`OVERTIME_MIN_GAP`] of
//!   real time) until steered; reminders are generated only up to `horizon`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::audio::Frame;

use super::history::{History, Steer};
use super::plan::ValidPlan;
// The tests (`test.rs`) build plans with this.
#[cfg(test)]
use super::duration::SegmentDuration;

mod builder;
mod instrument;
mod options;
mod position;
mod speed;

use builder::Builder;
pub use instrument::{Instrument, Stroke, StrokeKind};
pub use options::TimelineOptions;
pub use position::{BeatMark, Position, RunEnd, SegmentRun, State, WheelSpin};
pub use speed::{Speed, SpeedError};

/// How long the opening buka phrase lasts, from its first bonang stroke to the gong that
/// starts segment 0. Real time: not scaled by the speed.
pub const BUKA_LENGTH: Duration = Duration::from_secs(4);
/// The buka: (milliseconds from the session start, bonang pitch). A falling-then-settling
/// phrase, quickening slightly before the gong like a real buka.
const BUKA_PHRASE: [(u64, u8); 8] = [
    (0, 3),
    (500, 2),
    (1000, 3),
    (1500, 4),
    (2000, 3),
    (2400, 2),
    (2800, 1),
    (3300, 2),
];
/// Overtime reminder interval in plan time (divided by the speed).
pub const OVERTIME_INTERVAL: Duration = Duration::from_secs(60);
/// The closest two overtime reminders ever come, in real time, whatever the speed.
pub const OVERTIME_MIN_GAP: Duration = Duration::from_secs(5);
/// The closest two beats of a segment come when less time is left than its gongan needs
/// (`−1 min`, a time left set short): the beats in between are left out. Real time.
pub const MIN_BEAT_GAP: Duration = Duration::from_millis(250);
/// At most this many reminders per overtime hold are generated (a week of minutes), so a
/// far horizon can never make the timeline unbounded.
pub const MAX_OVERTIME_REMINDERS: usize = 10_080;

/// Every stroke of a session, with its segment runs and beat grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    sample_rate: u32,
    strokes: Vec<Stroke>,
    beats: Vec<BeatMark>,
    runs: Vec<SegmentRun>,
    pauses: Vec<(Frame, Option<Frame>)>,
    spins: Vec<WheelSpin>,
    planned_end: Frame,
    end: Option<Frame>,
    /// For each run, whether its segment holds at the deadline (`wait`).
    waits: Vec<bool>,
}

impl Timeline {
    /// The sample rate the frames count at.
    #[must_use]
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Every stroke, sorted by frame (strokes on the same frame keep a musical order: the
    /// gong after the kenong it is struck with).
    #[must_use]
    pub fn strokes(&self) -> &[Stroke] {
        &self.strokes
    }

    /// The strokes at frames `from..to` (half-open): what the actor sends the engine for
    /// one look-ahead window.
    #[must_use]
    pub fn strokes_between(&self, from: Frame, to: Frame) -> &[Stroke] {
        let lo = self.strokes.partition_point(|s| s.frame < from);
        let hi = self.strokes.partition_point(|s| s.frame < to).max(lo);
        &self.strokes[lo..hi]
    }

    /// Every beat of every run, sounding or not, sorted by frame.
    #[must_use]
    pub fn beats(&self) -> &[BeatMark] {
        &self.beats
    }

    /// The segment runs in order; run 0 is segment 0 starting right after the buka.
    #[must_use]
    pub fn runs(&self) -> &[SegmentRun] {
        &self.runs
    }

    /// Pauses as `(from, until)`; `until` is `None` for a pause not yet resumed.
    #[must_use]
    pub fn pauses(&self) -> &[(Frame, Option<Frame>)] {
        &self.pauses
    }

    /// Every spin of a wheel, in order.
    #[must_use]
    pub fn spins(&self) -> &[WheelSpin] {
        &self.spins
    }

    /// Where segment 0 starts: the end of the buka.
    #[must_use]
    pub fn first_segment_start(&self) -> Frame {
        self.runs.first().map_or(Frame::ZERO, |r| r.start)
    }

    /// Where the session would end without steering: buka plus the scaled plan. An
    /// undisturbed session's final gong is exactly here.
    #[must_use]
    pub fn planned_end(&self) -> Frame {
        self.planned_end
    }

    /// Where the session ended (the gong ageng), or `None` if it is still open at the end
    /// of the history (paused or holding in overtime).
    #[must_use]
    pub fn end(&self) -> Option<Frame> {
        self.end
    }

    /// Whether the session is over at `frame`: its final gong has sounded (at or before
    /// `frame`).
    #[must_use]
    pub fn is_finished_at(&self, frame: Frame) -> bool {
        self.end.is_some_and(|end| frame >= end)
    }
}

/// Computes every stroke of a session: `plan` steered by `history`, at `options`.
///
/// Pure and total: the same inputs always give the same timeline, nothing panics, and an
/// event at frame `x` never changes a stroke before `x`. An event during the buka takes
/// effect at its end, where segment 0 starts — except a stop, which ends it at once. Events that make no sense at their
/// moment (resume while running, anything after the end) are ignored. See the module docs
/// for the musical model.
#[must_use]
pub fn timeline(plan: &ValidPlan, history: &History, options: &TimelineOptions) -> Timeline {
    let mut builder = Builder::new(plan, options);
    builder.buka();
    let mut current = Some(builder.start_run(0, builder.buka_end));
    for event in history.events() {
        let Some(run) = current.take() else { break };
        if let Steer::Stop { at } = *event
            && at.0 < builder.buka_end
        {
            // Stopping during the opening phrase ends the session there and then: the
            // rest of the phrase is not played, and the session is over at once (not
            // "finished" later, with a start refused until the phrase would have landed).
            builder.cut_buka(run, at.0);
            break;
        }
        // Other steering during the buka takes effect when it lands: the opening phrase
        // is a few seconds long.
        let at = event.at().0.max(builder.buka_end);
        current = builder
            .advance(run, Some(at))
            .and_then(|run| builder.apply(run, event, at));
    }
    if let Some(run) = current {
        // What is left runs to the end; a run still paused or holding in overtime stays
        // open (its `end` is `None`).
        let _open = builder.advance(run, None);
    }
    builder.finish()
}

#[cfg(test)]
mod test;
