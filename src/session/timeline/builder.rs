//! The [`Builder`] that replays a plan and its steering into a [`Timeline`]: the
//! musical model of the module docs, one run at a time.

use std::time::Duration;

use crate::audio::Frame;
use crate::session::form::{Density, Part};
use crate::session::history::Steer;
use crate::session::plan::{EndAction, ValidPlan};

use crate::session::wheel::{MIN_STRIKE_GAP, SPIN_LENGTH, SpinPath};

use super::{
    BUKA_LENGTH, BUKA_PHRASE, BeatMark, Instrument, MAX_OVERTIME_REMINDERS, MIN_BEAT_GAP,
    OVERTIME_INTERVAL, OVERTIME_MIN_GAP, RunEnd, SegmentRun, Speed, Stroke, StrokeKind, Timeline,
    TimelineOptions, WheelSpin,
};

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
pub(super) struct Current {
    run: usize,
    segment: usize,
    deadline: u64,
    /// Sorted by frame; everything at or after the last processed event.
    pending: Vec<Pending>,
    paused_at: Option<u64>,
    /// In overtime: the frame of the next reminder and how many were made.
    overtime: Option<(u64, usize)>,
}

pub(super) struct Builder<'a> {
    plan: &'a ValidPlan,
    rate: u32,
    speed: Speed,
    horizon: u64,
    pub(super) buka_end: u64,
    /// Planned frames of each segment, from the cumulative plan time (no drift).
    lengths: Vec<u64>,
    overtime_gap: u64,
    strokes: Vec<Stroke>,
    beats: Vec<BeatMark>,
    runs: Vec<SegmentRun>,
    waits: Vec<bool>,
    pauses: Vec<(Frame, Option<Frame>)>,
    spins: Vec<WheelSpin>,
    end: Option<u64>,
}

impl<'a> Builder<'a> {
    pub(super) fn new(plan: &'a ValidPlan, options: &TimelineOptions) -> Builder<'a> {
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
            spins: Vec::new(),
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

    pub(super) fn buka(&mut self) {
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
    pub(super) fn start_run(&mut self, segment: usize, start: u64) -> Current {
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
    pub(super) fn advance(&mut self, mut cur: Current, until: Option<u64>) -> Option<Current> {
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
    pub(super) fn apply(&mut self, mut cur: Current, event: &Steer, at: u64) -> Option<Current> {
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
                let deadline = if cur.overtime.is_some() {
                    from.saturating_add(by)
                } else {
                    cur.deadline.saturating_add(by)
                };
                self.move_deadline(&mut cur, from, deadline);
                Some(cur)
            }
            Steer::SetLeft { left, .. } => {
                let from = cur.paused_at.unwrap_or(at);
                let deadline = from.saturating_add(self.speed.frames(left, self.rate));
                self.move_deadline(&mut cur, from, deadline);
                Some(cur)
            }
            Steer::Spin { entry, .. } => {
                self.spin(&cur, at, entry);
                Some(cur)
            }
            Steer::Next { .. } | Steer::Previous { .. } | Steer::Jump { .. } => {
                let count = self.plan.segments().len();
                let target = match *event {
                    Steer::Next { .. } => cur.segment + 1,
                    Steer::Previous { .. } => cur.segment.saturating_sub(1),
                    Steer::Jump { segment, .. } => usize::try_from(segment).unwrap_or(usize::MAX),
                    _ => cur.segment,
                };
                if matches!(event, Steer::Jump { .. }) && target >= count {
                    // A segment the plan does not have: nothing to do.
                    return Some(cur);
                }
                self.end_pause(&mut cur, at);
                cur.pending.clear();
                if target >= count {
                    self.session_end(&cur, at, RunEnd::Next);
                    return None;
                }
                let how = if target > cur.segment {
                    RunEnd::Next
                } else {
                    RunEnd::Previous
                };
                self.close(&cur, at, how);
                let suwuk = [
                    proto(Instrument::Kenong, Some(6), StrokeKind::Suwuk),
                    proto(Instrument::Suwukan, None, StrokeKind::Suwuk),
                ];
                for p in suwuk {
                    self.push(at, p, cur.segment, cur.run);
                }
                Some(self.start_run(target, at))
            }
            Steer::Stop { .. } => {
                self.end_pause(&mut cur, at);
                self.session_end(&cur, at, RunEnd::Stop);
                None
            }
        }
    }

    /// Moves the deadline of `cur` to `deadline`, from frame `from` on (the steering's
    /// frame, or the pause's while paused). In overtime the gongan has been played out:
    /// the segment gets a fresh deadline with its gong. Otherwise what has not sounded is
    /// re-spread over the new remaining time — an affine map of `from..old` onto
    /// `from..deadline`, so the gong lands exactly on the new deadline — and, when that
    /// squeezes it, the beats that would come closer than [`MIN_BEAT_GAP`] are left out.
    /// Warnings are placed again for the new deadline.
    fn move_deadline(&mut self, cur: &mut Current, from: u64, deadline: u64) {
        if cur.overtime.take().is_some() {
            let of = self
                .plan
                .segments()
                .get(cur.segment)
                .map_or(1, |s| u16::try_from(s.pattern().len()).unwrap_or(u16::MAX));
            cur.pending = self
                .beat_items(cur.segment, of)
                .into_iter()
                .map(|item| Pending {
                    frame: deadline,
                    item,
                })
                .collect();
        } else {
            let old = cur.deadline;
            let (span, new_span) = (old.saturating_sub(from), deadline.saturating_sub(from));
            cur.pending.retain(|p| {
                !matches!(
                    p.item,
                    Item::Stroke(Proto {
                        kind: StrokeKind::Warning { .. },
                        ..
                    })
                )
            });
            let gap = Speed::NORMAL.frames(MIN_BEAT_GAP, self.rate);
            let squeezed = new_span < span;
            // The frame of the last beat kept; the deadline's own beat is always kept.
            let mut kept = from;
            cur.pending.retain_mut(|p| {
                let on_deadline = p.frame >= old;
                let offset = p.frame.saturating_sub(from);
                let moved = if span == 0 {
                    new_span
                } else {
                    let scaled = u128::from(offset) * u128::from(new_span) / u128::from(span);
                    u64::try_from(scaled).unwrap_or(u64::MAX)
                };
                p.frame = from.saturating_add(moved);
                if on_deadline || !squeezed {
                    return true;
                }
                // A beat is kept with room before the deadline's, and after the last
                // kept one (the strokes of one beat share its frame).
                let room = p.frame.saturating_add(gap) <= deadline
                    && (p.frame == kept || p.frame >= kept.saturating_add(gap));
                if room {
                    kept = p.frame;
                }
                room
            });
        }
        cur.deadline = deadline;
        let warnings = self.warnings(cur.segment, cur.deadline, from);
        cur.pending.extend(warnings);
        cur.pending.sort_by_key(|p| p.frame);
        if let Some(run) = self.runs.get_mut(cur.run) {
            run.deadline = Frame(cur.deadline);
        }
    }

    /// Spins the wheel of `cur`'s segment at `at`, landing on `entry`: a bonang run that
    /// slows down, each stroke an entry passing the pointer (its pitch the entry's), and
    /// the gong with the last. It starts from where the same wheel last stopped. A spin
    /// still turning stops where the new one begins. An entry the segment does not have
    /// is ignored.
    fn spin(&mut self, cur: &Current, at: u64, entry: u32) {
        let entries = self
            .plan
            .segments()
            .get(cur.segment)
            .map_or(0, |s| s.entries().len());
        if usize::try_from(entry).map_or(true, |e| e >= entries) {
            return;
        }
        self.strokes
            .retain(|s| !(matches!(s.kind, StrokeKind::Spin { .. }) && s.frame.0 >= at));
        // The wheel turns on from where it last stopped, in whichever segment that was.
        let from = self
            .spins
            .iter()
            .rev()
            .find(|s| self.plan.same_wheel(s.segment, cur.segment))
            .map_or(0, |s| s.path.to as usize);
        let path = SpinPath::new(entries, from, entry as usize);
        let length = Speed::NORMAL.frames(SPIN_LENGTH, self.rate);
        let gap = MIN_STRIKE_GAP.as_secs_f64() / SPIN_LENGTH.as_secs_f64();
        let bonang_pitches = u32::from(Instrument::Bonang.max_variant()).max(1);
        for strike in path.strikes(gap) {
            let offset = (strike.at * length as f64).round() as u64;
            let frame = at.saturating_add(offset.min(length));
            let kind = StrokeKind::Spin {
                landing: strike.landing,
            };
            let pitch = u8::try_from(strike.entry % bonang_pitches + 1).unwrap_or(1);
            self.push(
                frame,
                proto(Instrument::Bonang, Some(pitch), kind),
                cur.segment,
                cur.run,
            );
            if strike.landing {
                self.push(
                    frame,
                    proto(Instrument::Gong, None, kind),
                    cur.segment,
                    cur.run,
                );
            }
        }
        self.spins.push(WheelSpin {
            segment: cur.segment,
            run: cur.run,
            start: Frame(at),
            land: Frame(at.saturating_add(length)),
            path,
        });
    }

    /// Stops the session at `at`, inside the opening phrase: the phrase's strokes from `at`
    /// on are dropped, segment 0's run is an empty run at `at`, and the session ends there
    /// with its gong.
    pub(super) fn cut_buka(&mut self, mut cur: Current, at: u64) {
        self.strokes.retain(|stroke| stroke.frame.0 < at);
        if let Some(run) = self.runs.get_mut(cur.run) {
            run.start = Frame(at);
        }
        cur.pending.clear();
        self.session_end(&cur, at, RunEnd::Stop);
    }

    /// Ends the session at `at` with the gong ageng; a spin still turning stops there.
    fn session_end(&mut self, cur: &Current, at: u64, how: RunEnd) {
        self.strokes
            .retain(|s| !(matches!(s.kind, StrokeKind::Spin { .. }) && s.frame.0 > at));
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

    pub(super) fn finish(mut self) -> Timeline {
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
            spins: self.spins,
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
