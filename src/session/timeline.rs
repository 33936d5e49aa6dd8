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

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::audio::Frame;

use super::duration::SegmentDuration;
use super::form::{Density, Part};
use super::history::{History, Steer};
use super::plan::{EndAction, ValidPlan};

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
/// At most this many reminders per overtime hold are generated (a week of minutes), so a
/// far horizon can never make the timeline unbounded.
pub const MAX_OVERTIME_REMINDERS: usize = 10_080;

/// A sound of the pack's colotomic section, by its pack name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Instrument {
    /// `gong`: the gong ageng, which opens (buka) and closes the session.
    Gong,
    /// `suwukan`: the smaller gong that closes each segment.
    Suwukan,
    /// `kempul`.
    Kempul,
    /// `kenong`, variants 1–6 (pitch).
    Kenong,
    /// `ketuk`.
    Ketuk,
    /// `kempyang`.
    Kempyang,
    /// `bonang`, variants 1–4 (pitch), as the default pack has them.
    Bonang,
    /// `saron`, variants 1–7 (pitch).
    Saron,
}

impl Instrument {
    /// The instrument's name in a sound pack.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Instrument::Gong => "gong",
            Instrument::Suwukan => "suwukan",
            Instrument::Kempul => "kempul",
            Instrument::Kenong => "kenong",
            Instrument::Ketuk => "ketuk",
            Instrument::Kempyang => "kempyang",
            Instrument::Bonang => "bonang",
            Instrument::Saron => "saron",
        }
    }

    /// The highest variant the timeline uses (variants count from 1), or 0 for an
    /// instrument it strikes without a variant.
    #[must_use]
    pub const fn max_variant(self) -> u8 {
        match self {
            Instrument::Kenong => 6,
            Instrument::Bonang => 4,
            Instrument::Saron => 7,
            _ => 0,
        }
    }

    /// The default level of this instrument in the colotomic mix, before the pack's own
    /// gain: the big gongs loudest, the fillers (ketuk, kempyang) well below.
    const fn gain_db(self) -> f32 {
        match self {
            Instrument::Gong => 0.0,
            Instrument::Suwukan => -1.0,
            Instrument::Kempul => -3.0,
            Instrument::Kenong => -2.0,
            Instrument::Ketuk => -6.0,
            Instrument::Kempyang => -9.0,
            Instrument::Bonang | Instrument::Saron => -4.0,
        }
    }
}

impl fmt::Display for Instrument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a stroke is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StrokeKind {
    /// Part of the opening phrase (including the gong that lands on segment 0's start).
    Buka,
    /// A colotomic stroke on beat `beat` of `of` of the segment's form. Beat 0 is the
    /// opening stroke of a [`Form::Bell`](super::Form::Bell). On the last beat, this is the
    /// kenong; the gong itself is a [`StrokeKind::SegmentEnd`] or
    /// [`StrokeKind::SessionEnd`], except in a `wait` segment, where the deadline gong
    /// does not end the segment and is a `Beat` too.
    Beat {
        /// Which beat, from 1 (0 for a bell's opening stroke).
        beat: u16,
        /// Beats in the form.
        of: u16,
    },
    /// A warning `lead` before the deadline.
    Warning {
        /// How long before the deadline.
        lead: SegmentDuration,
    },
    /// A reminder that a `wait` segment is past its deadline.
    Overtime,
    /// The gong suwukan on the deadline of a segment that ends there.
    SegmentEnd,
    /// The gong ageng: the session's end (last deadline, `next` from the last segment, or
    /// `stop`).
    SessionEnd,
    /// The strokes that close a segment early when the facilitator moves on.
    Suwuk,
}

/// One stroke at an exact frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stroke {
    /// When, session-relative.
    pub frame: Frame,
    /// What to strike.
    pub instrument: Instrument,
    /// Which pitch, from 1, for pitched instruments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<u8>,
    /// Level relative to the pack's normalised level.
    pub gain_db: f32,
    /// The plan segment it belongs to (0 for the buka).
    pub segment: usize,
    /// The index in [`Timeline::runs`] of the segment run it belongs to (0 for the buka).
    pub run: usize,
    /// Why it is there.
    pub kind: StrokeKind,
}

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
    /// bounded only by [`MAX_OVERTIME_REMINDERS`] per hold. The actor sets its own horizon
    /// (now plus its look-ahead); `render` sets the frame it renders to.
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

/// Every stroke of a session, with its segment runs and beat grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    sample_rate: u32,
    strokes: Vec<Stroke>,
    beats: Vec<BeatMark>,
    runs: Vec<SegmentRun>,
    pauses: Vec<(Frame, Option<Frame>)>,
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

/// Computes every stroke of a session: `plan` steered by `history`, at `options`.
///
/// Pure and total: the same inputs always give the same timeline, nothing panics, and an
/// event at frame `x` never changes a stroke before `x`. An event during the buka takes
/// effect at its end, where segment 0 starts. Events that make no sense at their
/// moment (resume while running, anything after the end) are ignored. See the module docs
/// for the musical model.
#[must_use]
pub fn timeline(plan: &ValidPlan, history: &History, options: &TimelineOptions) -> Timeline {
    let mut builder = Builder::new(plan, options);
    builder.buka();
    let mut current = Some(builder.start_run(0, builder.buka_end));
    for event in history.events() {
        let Some(run) = current.take() else { break };
        // Steering during the buka takes effect when it lands: the opening phrase is a
        // few seconds long and is never cut off.
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

/// A stroke before it has a frame.
#[derive(Debug, Clone, Copy)]
struct Proto {
    instrument: Instrument,
    variant: Option<u8>,
    gain_db: f32,
    kind: StrokeKind,
}

#[derive(Debug, Clone, Copy)]
enum Item {
    Stroke(Proto),
    Beat { beat: u16, of: u16 },
}

/// Something a run will do at a frame, not yet final: steering can still move it.
#[derive(Debug, Clone, Copy)]
struct Pending {
    frame: u64,
    item: Item,
}

/// The run in progress while the history is replayed.
#[derive(Debug)]
struct Current {
    run: usize,
    segment: usize,
    deadline: u64,
    /// Sorted by frame; everything at or after the last processed event.
    pending: Vec<Pending>,
    paused_at: Option<u64>,
    /// In overtime: the frame of the next reminder and how many were made.
    overtime: Option<(u64, usize)>,
}

struct Builder<'a> {
    plan: &'a ValidPlan,
    rate: u32,
    speed: Speed,
    horizon: u64,
    buka_end: u64,
    /// Planned frames of each segment, from the cumulative plan time (no drift).
    lengths: Vec<u64>,
    overtime_gap: u64,
    strokes: Vec<Stroke>,
    beats: Vec<BeatMark>,
    runs: Vec<SegmentRun>,
    waits: Vec<bool>,
    pauses: Vec<(Frame, Option<Frame>)>,
    end: Option<u64>,
}

impl<'a> Builder<'a> {
    fn new(plan: &'a ValidPlan, options: &TimelineOptions) -> Builder<'a> {
        let rate = options.sample_rate.max(1);
        let speed = options.speed;
        let mut cumulative = Duration::ZERO;
        let mut previous = 0u64;
        let lengths = plan
            .segments()
            .iter()
            .map(|s| {
                cumulative = cumulative.saturating_add(s.duration().get());
                let boundary = speed.frames(cumulative, rate);
                let length = boundary.saturating_sub(previous);
                previous = boundary;
                length
            })
            .collect();
        let overtime_gap = speed
            .frames(OVERTIME_INTERVAL, rate)
            .max(Speed::NORMAL.frames(OVERTIME_MIN_GAP, rate))
            .max(1);
        Builder {
            plan,
            rate,
            speed,
            horizon: options.horizon.0,
            buka_end: Speed::NORMAL.frames(BUKA_LENGTH, rate),
            lengths,
            overtime_gap,
            strokes: Vec::new(),
            beats: Vec::new(),
            runs: Vec::new(),
            waits: Vec::new(),
            pauses: Vec::new(),
            end: None,
        }
    }

    fn push(&mut self, frame: u64, proto: Proto, segment: usize, run: usize) {
        self.strokes.push(Stroke {
            frame: Frame(frame),
            instrument: proto.instrument,
            variant: proto.variant,
            gain_db: proto.gain_db,
            segment,
            run,
            kind: proto.kind,
        });
    }

    fn buka(&mut self) {
        for (ms, pitch) in BUKA_PHRASE {
            let frame = Speed::NORMAL.frames(Duration::from_millis(ms), self.rate);
            self.push(
                frame,
                proto(Instrument::Bonang, Some(pitch), StrokeKind::Buka),
                0,
                0,
            );
        }
        let land = self.buka_end;
        self.push(
            land,
            proto(Instrument::Kenong, Some(6), StrokeKind::Buka),
            0,
            0,
        );
        self.push(land, proto(Instrument::Gong, None, StrokeKind::Buka), 0, 0);
    }

    /// Starts a run of `segment` at `start` with its full planned length.
    fn start_run(&mut self, segment: usize, start: u64) -> Current {
        let length = self.lengths.get(segment).copied().unwrap_or(0);
        let deadline = start.saturating_add(length);
        let run = self.runs.len();
        let spec = self.plan.segments().get(segment);
        let of = spec.map_or(1, |s| u16::try_from(s.pattern().len()).unwrap_or(u16::MAX));
        self.waits
            .push(spec.is_some_and(|s| s.end() == EndAction::Wait));
        self.runs.push(SegmentRun {
            segment,
            of,
            start: Frame(start),
            deadline: Frame(deadline),
            end: None,
            ended_by: None,
        });
        let mut pending = Vec::new();
        if spec.is_some_and(|s| s.form().strikes_at_start()) {
            pending.push(Pending {
                frame: start,
                item: Item::Stroke(proto(
                    Instrument::Kenong,
                    Some(1),
                    StrokeKind::Beat { beat: 0, of },
                )),
            });
        }
        for beat in 1..=of {
            let offset = u128::from(beat) * u128::from(length) / u128::from(of.max(1));
            let frame = start.saturating_add(u64::try_from(offset).unwrap_or(u64::MAX));
            pending.extend(
                self.beat_items(segment, beat)
                    .into_iter()
                    .map(|item| Pending { frame, item }),
            );
        }
        pending.extend(self.warnings(segment, deadline, start));
        pending.sort_by_key(|p| p.frame);
        Current {
            run,
            segment,
            deadline,
            pending,
            paused_at: None,
            overtime: None,
        }
    }

    /// What sounds on `beat` of `segment`'s form: the beat mark, then its strokes in
    /// musical order (the gong last).
    fn beat_items(&self, segment: usize, beat: u16) -> Vec<Item> {
        let Some(spec) = self.plan.segments().get(segment) else {
            return Vec::new();
        };
        let pattern = spec.pattern();
        let of = u16::try_from(pattern.len()).unwrap_or(u16::MAX);
        let index = usize::from(beat).saturating_sub(1);
        let Some(parts) = pattern.beats().get(index).copied() else {
            return Vec::new();
        };
        let density: Density = spec.density();
        let kind = StrokeKind::Beat { beat, of };
        let mut items = vec![Item::Beat { beat, of }];
        let mut strike = |instrument, variant| {
            items.push(Item::Stroke(proto(instrument, variant, kind)));
        };
        if density.admits(Part::Kempyang) && parts.has(Part::Kempyang) {
            strike(Instrument::Kempyang, None);
        }
        if density.admits(Part::Ketuk) && parts.has(Part::Ketuk) {
            strike(Instrument::Ketuk, None);
        }
        if density.admits(Part::Kempul) && parts.has(Part::Kempul) {
            strike(Instrument::Kempul, None);
        }
        if parts.has_kenong() {
            let variant = pattern.kenong_variants().get(index).copied().flatten();
            strike(Instrument::Kenong, variant);
        }
        if parts.has(Part::Gong) {
            let last = segment + 1 == self.plan.segments().len();
            let gong = match (spec.end(), last) {
                (EndAction::Wait, _) => proto(Instrument::Suwukan, None, kind),
                (EndAction::Auto, false) => {
                    proto(Instrument::Suwukan, None, StrokeKind::SegmentEnd)
                }
                (EndAction::Auto, true) => proto(Instrument::Gong, None, StrokeKind::SessionEnd),
            };
            items.push(Item::Stroke(gong));
        }
        items
    }

    /// The warning pairs of `segment` for a run ending at `deadline`, from frame `from` on.
    fn warnings(&self, segment: usize, deadline: u64, from: u64) -> Vec<Pending> {
        let Some(spec) = self.plan.segments().get(segment) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, &lead) in spec.warnings().iter().enumerate() {
            let lead_frames = self.speed.frames(lead.get(), self.rate);
            let Some(frame) = deadline.checked_sub(lead_frames) else {
                continue;
            };
            if lead_frames == 0 || frame < from {
                continue;
            }
            // Later warnings sound higher: the last one is the most urgent.
            let step = u8::try_from(i.min(2)).unwrap_or(2);
            let kind = StrokeKind::Warning { lead };
            for p in [
                proto(Instrument::Saron, Some(5 + step), kind),
                proto(Instrument::Bonang, Some(2 + step), kind),
            ] {
                out.push(Pending {
                    frame,
                    item: Item::Stroke(p),
                });
            }
        }
        out
    }

    /// Makes final everything of `cur` before `until` (exclusive; `None` = forever): its
    /// strokes, its natural end at the deadline, the next runs that start by themselves,
    /// and overtime reminders. Returns the run current at `until`, or `None` when the
    /// session ended first.
    fn advance(&mut self, mut cur: Current, until: Option<u64>) -> Option<Current> {
        loop {
            if cur.paused_at.is_some() {
                return Some(cur);
            }
            if let Some((mut next, mut count)) = cur.overtime {
                let spec_segment = cur.segment;
                while until.is_none_or(|u| next < u)
                    && next <= self.horizon
                    && count < MAX_OVERTIME_REMINDERS
                {
                    let reminder = Proto {
                        gain_db: Instrument::Kempul.gain_db() - 6.0,
                        ..proto(Instrument::Kempul, None, StrokeKind::Overtime)
                    };
                    self.push(next, reminder, spec_segment, cur.run);
                    next = next.saturating_add(self.overtime_gap);
                    count += 1;
                }
                cur.overtime = Some((next, count));
                return Some(cur);
            }
            if until.is_some_and(|u| cur.deadline > u) {
                let u = until.unwrap_or(u64::MAX);
                let keep = cur.pending.partition_point(|p| p.frame < u);
                let done: Vec<Pending> = cur.pending.drain(..keep).collect();
                self.emit(&cur, &done);
                return Some(cur);
            }
            // The deadline comes first: the whole gongan sounds.
            let done = std::mem::take(&mut cur.pending);
            self.emit(&cur, &done);
            let wait = self
                .plan
                .segments()
                .get(cur.segment)
                .is_some_and(|s| s.end() == EndAction::Wait);
            if wait {
                cur.overtime = Some((cur.deadline.saturating_add(self.overtime_gap), 0));
                continue;
            }
            self.close(&cur, cur.deadline, RunEnd::Deadline);
            if cur.segment + 1 >= self.plan.segments().len() {
                self.end = Some(cur.deadline);
                return None;
            }
            cur = self.start_run(cur.segment + 1, cur.deadline);
        }
    }

    fn emit(&mut self, cur: &Current, done: &[Pending]) {
        for p in done {
            match p.item {
                Item::Stroke(proto) => self.push(p.frame, proto, cur.segment, cur.run),
                Item::Beat { beat, of } => self.beats.push(BeatMark {
                    frame: Frame(p.frame),
                    run: cur.run,
                    beat,
                    of,
                }),
            }
        }
    }

    fn close(&mut self, cur: &Current, at: u64, how: RunEnd) {
        if let Some(run) = self.runs.get_mut(cur.run) {
            run.end = Some(Frame(at));
            run.ended_by = Some(how);
            run.deadline = Frame(cur.deadline);
        }
    }

    fn end_pause(&mut self, cur: &mut Current, at: u64) {
        if cur.paused_at.take().is_some()
            && let Some(last) = self.pauses.last_mut()
        {
            last.1 = Some(Frame(at));
        }
    }

    /// Applies one steering event at its frame to the run current there (everything
    /// before the frame is already final).
    fn apply(&mut self, mut cur: Current, event: &Steer, at: u64) -> Option<Current> {
        match *event {
            Steer::Pause { .. } => {
                if cur.paused_at.is_none() {
                    cur.paused_at = Some(at);
                    self.pauses.push((Frame(at), None));
                }
                Some(cur)
            }
            Steer::Resume { .. } => {
                if let Some(from) = cur.paused_at {
                    let shift = at.saturating_sub(from);
                    for p in &mut cur.pending {
                        p.frame = p.frame.saturating_add(shift);
                    }
                    cur.deadline = cur.deadline.saturating_add(shift);
                    if let Some((next, _)) = &mut cur.overtime {
                        *next = next.saturating_add(shift);
                    }
                    if let Some(run) = self.runs.get_mut(cur.run) {
                        run.deadline = Frame(cur.deadline);
                    }
                    self.end_pause(&mut cur, at);
                }
                Some(cur)
            }
            Steer::Extend { by, .. } => {
                // While paused the position is frozen at the pause.
                let from = cur.paused_at.unwrap_or(at);
                let by = self.speed.frames(by, self.rate);
                if cur.overtime.take().is_some() {
                    // The gongan has been played out: a fresh deadline with its gong.
                    cur.deadline = from.saturating_add(by);
                    let of = self
                        .plan
                        .segments()
                        .get(cur.segment)
                        .map_or(1, |s| u16::try_from(s.pattern().len()).unwrap_or(u16::MAX));
                    let frame = cur.deadline;
                    cur.pending = self
                        .beat_items(cur.segment, of)
                        .into_iter()
                        .map(|item| Pending { frame, item })
                        .collect();
                } else {
                    // Re-spread what has not sounded over the new remaining time: an affine
                    // map of from..deadline onto from..deadline+by, so the gong lands
                    // exactly on the new deadline.
                    let old = cur.deadline;
                    let new = old.saturating_add(by);
                    let (span, new_span) = (old.saturating_sub(from), new.saturating_sub(from));
                    cur.pending.retain(|p| {
                        !matches!(
                            p.item,
                            Item::Stroke(Proto {
                                kind: StrokeKind::Warning { .. },
                                ..
                            })
                        )
                    });
                    for p in &mut cur.pending {
                        let offset = p.frame.saturating_sub(from);
                        let moved = if span == 0 {
                            new_span
                        } else {
                            let scaled =
                                u128::from(offset) * u128::from(new_span) / u128::from(span);
                            u64::try_from(scaled).unwrap_or(u64::MAX)
                        };
                        p.frame = from.saturating_add(moved);
                    }
                    cur.deadline = new;
                }
                let warnings = self.warnings(cur.segment, cur.deadline, from);
                cur.pending.extend(warnings);
                cur.pending.sort_by_key(|p| p.frame);
                if let Some(run) = self.runs.get_mut(cur.run) {
                    run.deadline = Frame(cur.deadline);
                }
                Some(cur)
            }
            Steer::Next { .. } | Steer::Previous { .. } => {
                self.end_pause(&mut cur, at);
                cur.pending.clear();
                let next = matches!(event, Steer::Next { .. });
                let last = cur.segment + 1 >= self.plan.segments().len();
                if next && last {
                    self.session_end(&cur, at, RunEnd::Next);
                    return None;
                }
                let how = if next { RunEnd::Next } else { RunEnd::Previous };
                self.close(&cur, at, how);
                let suwuk = [
                    proto(Instrument::Kenong, Some(6), StrokeKind::Suwuk),
                    proto(Instrument::Suwukan, None, StrokeKind::Suwuk),
                ];
                for p in suwuk {
                    self.push(at, p, cur.segment, cur.run);
                }
                let target = if next {
                    cur.segment + 1
                } else {
                    cur.segment.saturating_sub(1)
                };
                Some(self.start_run(target, at))
            }
            Steer::Stop { .. } => {
                self.end_pause(&mut cur, at);
                self.session_end(&cur, at, RunEnd::Stop);
                None
            }
        }
    }

    /// Ends the session at `at` with the gong ageng.
    fn session_end(&mut self, cur: &Current, at: u64, how: RunEnd) {
        self.push(
            at,
            proto(Instrument::Kenong, Some(6), StrokeKind::SessionEnd),
            cur.segment,
            cur.run,
        );
        self.push(
            at,
            proto(Instrument::Gong, None, StrokeKind::SessionEnd),
            cur.segment,
            cur.run,
        );
        self.close(cur, at, how);
        self.end = Some(at);
    }

    fn finish(mut self) -> Timeline {
        // Emission is in time order already; the stable sort is a cheap guarantee.
        self.strokes.sort_by_key(|s| s.frame);
        self.beats.sort_by_key(|b| b.frame);
        let planned_end = self
            .buka_end
            .saturating_add(self.lengths.iter().fold(0u64, |a, l| a.saturating_add(*l)));
        Timeline {
            sample_rate: self.rate,
            strokes: self.strokes,
            beats: self.beats,
            runs: self.runs,
            pauses: self.pauses,
            planned_end: Frame(planned_end),
            end: self.end.map(Frame),
            waits: self.waits,
        }
    }
}

fn proto(instrument: Instrument, variant: Option<u8>, kind: StrokeKind) -> Proto {
    Proto {
        instrument,
        variant,
        gain_db: instrument.gain_db(),
        kind,
    }
}

#[cfg(test)]
mod test;
