//! [`Runner`]: a session played on an engine — the synchronous core shared by the live
//! session actor and the offline render.
//!
//! The runner keeps the plan, the facilitator's [`History`] and the [`Timeline`] computed
//! from them, all in session frames of its [`SessionClock`] — real time, not the sound
//! card's frames. Steering appends to the history and recomputes; strokes already handed
//! to the engine that the new timeline no longer wants are cancelled. Strokes are sent a
//! little ahead of their instant (the look-ahead), each at the engine frame the output's
//! clock mapping says is heard at that instant. A stroke whose moment has passed for the
//! output (the output or the process stalled) is reported as missed, never played late.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::clock::SessionClock;
use super::event::SessionEvent;
use super::history::{History, HistoryError, Steer};
use super::plan::{Draw, ValidPlan};
use super::record::{Actor, SessionId, SessionRecord};
use super::timeline::{State, Stroke, StrokeKind, Timeline, TimelineOptions, WheelSpin, timeline};
use super::wheel::{turn_at, turn_start};
use crate::audio::{Controller, EngineError, EngineEvent, Frame, HostTime, VoiceId};
use crate::pack::Pack;

/// How late a stroke may still be heard. Anything later means the output or the control
/// side stalled (a sound card that stopped taking audio, a stopped process): such strokes
/// are reported missed rather than played late or in a burst, and the session goes on from
/// where real time is.
pub const LATE_TOLERANCE: Duration = Duration::from_millis(20);

/// A facilitator's command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SteerCommand {
    /// Freeze the session.
    Pause,
    /// Continue after a pause.
    Resume,
    /// Close the current segment and start the next.
    Next,
    /// Restart the previous segment.
    Previous,
    /// Lengthen the current segment.
    Extend(Duration),
    /// Shorten the current segment (`−1 min`): its time left less this, at least none.
    Shorten(Duration),
    /// Set the current segment's time left (plan time).
    SetLeft(Duration),
    /// Close the current segment and start this one (from 0).
    Jump(usize),
    /// Spin the current segment's wheel. The number is a random roll from the caller
    /// (the core stays deterministic): it picks among the entries the wheel may draw.
    Spin(u64),
    /// End the session now.
    Stop,
}

impl SteerCommand {
    /// The command's name, as in the API paths.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SteerCommand::Pause => "pause",
            SteerCommand::Resume => "resume",
            SteerCommand::Next => "next",
            SteerCommand::Previous => "previous",
            SteerCommand::Extend(_) => "extend",
            SteerCommand::Shorten(_) => "shorten",
            SteerCommand::SetLeft(_) => "time-left",
            SteerCommand::Jump(_) => "jump",
            SteerCommand::Spin(_) => "spin",
            SteerCommand::Stop => "stop",
        }
    }
}

/// Why a command was refused. The session is unchanged.
#[derive(Debug, Error, PartialEq)]
pub enum SteerError {
    /// Nothing to steer.
    #[error("the session has finished; start a new one")]
    Finished,
    /// Pause while paused.
    #[error("the session is already paused")]
    AlreadyPaused,
    /// Resume while not paused.
    #[error("the session is not paused")]
    NotPaused,
    /// A jump to a segment the plan does not have.
    #[error("the plan has no segment {number}: it has {count} (numbered from 1)")]
    NoSuchSegment {
        /// The segment asked for, from 1 as people count.
        number: usize,
        /// How many the plan has.
        count: usize,
    },
    /// A spin where the current segment has no wheel.
    #[error("segment {0:?} has no wheel to spin: give it entries = [\"…\", \"…\"] in the plan")]
    NoWheel(String),
    /// Time taken off a segment already past its deadline.
    #[error("the segment is already past its deadline: move on with next")]
    NothingLeft,
    /// The history refused the event (e.g. an extension out of range).
    #[error(transparent)]
    History(#[from] HistoryError),
}

/// A session being played: plan, history, timeline, and what has been sent to the engine.
pub struct Runner {
    id: SessionId,
    plan: ValidPlan,
    options: TimelineOptions,
    history: History,
    timeline: Timeline,
    clock: SessionClock,
    /// Session frame up to which strokes have been sent (or missed).
    sent_until: Frame,
    /// Strokes sent to the engine that have not started yet.
    in_flight: HashMap<VoiceId, Stroke>,
    /// Strokes withdrawn after the output's clock re-anchored, until the engine confirms.
    withdrawn: HashMap<VoiceId, Stroke>,
    /// Strokes to place again with the new clock mapping.
    replan: Vec<Stroke>,
    /// Missed strokes not yet announced: how many, and the first one's session frame.
    missed: Option<(usize, Frame)>,
    runs_announced: usize,
    /// Session frame up to which warnings have been announced (exclusive).
    warned_until: Frame,
    overtime_announced: Option<usize>,
    /// Set when a command leaves the announced overtime (an extension, moving on): from
    /// this session frame on the same run's overtime is news again. Before it, the
    /// command has not taken effect yet and the overtime already told still holds.
    overtime_news_from: Option<Frame>,
    finished: bool,
    /// The last rotation turn announced: (run, turn).
    turn_announced: Option<(usize, usize)>,
    /// Instruments the pack lacked, warned about once each.
    missing: Vec<String>,
}

/// Where a stroke planned for a host instant goes on the output.
enum Placement {
    /// Schedule it at this engine frame.
    At(Frame),
    /// Its moment has passed for this output.
    Missed,
}

impl Runner {
    /// Session `id` of `plan` on `clock` (its frame 0 is when the buka begins).
    #[must_use]
    pub fn new(
        id: SessionId,
        plan: ValidPlan,
        options: TimelineOptions,
        clock: SessionClock,
    ) -> Runner {
        Runner::with_history(id, plan, History::new(), options, clock)
    }

    /// A session taken up again after the server was down: its timeline is rebuilt from
    /// the plan and the recorded steering, on `clock`, and everything due before `now` is
    /// left unplayed and unannounced (it happened, or would have, while nobody could hear
    /// it). A session that was paused stays paused; one that ran past its end is over.
    #[must_use]
    pub fn resumed(
        record: &SessionRecord,
        options: TimelineOptions,
        clock: SessionClock,
        now: HostTime,
    ) -> Runner {
        let mut runner = Runner::with_history(
            record.id.clone(),
            record.plan.clone(),
            record.steering.clone(),
            options,
            clock,
        );
        let at = runner.session_frame(now);
        runner.sent_until = at;
        runner.warned_until = at;
        // What lies strictly before `at` happened while the server was down; a moment on
        // `at` itself is still to be announced, since its strokes are still to be played
        // (announcements follow the clock once it has passed a moment).
        runner.runs_announced = runner
            .timeline
            .runs()
            .iter()
            .take_while(|run| run.start < at)
            .count();
        if let Some(before) = at.0.checked_sub(1).map(Frame) {
            let position = runner.timeline.position_at(before);
            if position.state == State::Overtime {
                runner.overtime_announced = Some(position.run);
            }
        }
        runner.turn_announced = runner
            .turn_at(Frame(at.0.saturating_sub(1)))
            .map(|turn| (turn.run, turn.turn));
        runner.finished = record.finished.is_some();
        runner
    }

    fn with_history(
        id: SessionId,
        plan: ValidPlan,
        history: History,
        options: TimelineOptions,
        clock: SessionClock,
    ) -> Runner {
        let timeline = timeline(&plan, &history, &options);
        Runner {
            id,
            plan,
            options,
            history,
            timeline,
            clock,
            sent_until: Frame::ZERO,
            in_flight: HashMap::new(),
            withdrawn: HashMap::new(),
            replan: Vec::new(),
            missed: None,
            runs_announced: 0,
            warned_until: Frame::ZERO,
            overtime_announced: None,
            overtime_news_from: None,
            finished: false,
            turn_announced: None,
            missing: Vec::new(),
        }
    }

    /// The session's id.
    #[must_use]
    pub fn id(&self) -> &SessionId {
        &self.id
    }

    /// The plan.
    #[must_use]
    pub fn plan(&self) -> &ValidPlan {
        &self.plan
    }

    /// The current timeline (session frames).
    #[must_use]
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// The steering so far.
    #[must_use]
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The session's clock.
    #[must_use]
    pub fn clock(&self) -> &SessionClock {
        &self.clock
    }

    /// The options the timeline is computed with.
    #[must_use]
    pub fn options(&self) -> &TimelineOptions {
        &self.options
    }

    /// The session frame at host instant `now`.
    #[must_use]
    pub fn session_frame(&self, now: HostTime) -> Frame {
        self.clock.frame_at(now)
    }

    /// Whether the session has announced its end.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Whether it was ended by a stop.
    #[must_use]
    pub fn was_stopped(&self) -> bool {
        matches!(self.history.last(), Some(Steer::Stop { .. }))
    }

    /// Marks the session as over without announcing it (it ended while the server was
    /// down).
    pub fn mark_finished(&mut self) {
        self.finished = true;
        self.runs_announced = self.timeline.runs().len();
    }

    /// Whether the session is over at `now`: its final gong is due at or before `now` (it
    /// may not have been announced yet).
    #[must_use]
    pub fn is_over(&self, now: HostTime) -> bool {
        self.timeline.is_finished_at(self.session_frame(now))
    }

    /// Checks a facilitator's command at host instant `now` against the session's state
    /// and returns the steering event it would record; nothing changes. (The conductor
    /// journals the event before it [applies](Runner::apply) it.)
    pub fn check(&self, command: SteerCommand, now: HostTime) -> Result<Steer, SteerError> {
        let now_frame = self.session_frame(now);
        // No command is refused for its timing. During the opening phrase a stop cuts it
        // short; anything else takes effect as the phrase lands, on the first segment's
        // first frame (so a pause then a resume pressed during the buka are both taken).
        let at = match (self.timeline.position_at(now_frame).state, command) {
            (State::Buka, c) if c != SteerCommand::Stop => {
                self.timeline.first_segment_start().max(now_frame)
            }
            _ => now_frame,
        };
        let state = self.timeline.position_at(at).state;
        match (state, command) {
            (State::Finished, _) => return Err(SteerError::Finished),
            (State::Paused, SteerCommand::Pause) => return Err(SteerError::AlreadyPaused),
            (s, SteerCommand::Resume) if s != State::Paused => return Err(SteerError::NotPaused),
            _ => {}
        }
        let steer = match command {
            SteerCommand::Pause => Steer::Pause { at },
            SteerCommand::Resume => Steer::Resume { at },
            SteerCommand::Next => Steer::Next { at },
            SteerCommand::Previous => Steer::Previous { at },
            SteerCommand::Extend(by) => Steer::Extend { at, by },
            SteerCommand::Shorten(by) => {
                if state == State::Overtime {
                    return Err(SteerError::NothingLeft);
                }
                let left = self.plan_time_left(at).saturating_sub(by);
                Steer::SetLeft { at, left }
            }
            SteerCommand::SetLeft(left) => Steer::SetLeft { at, left },
            SteerCommand::Jump(segment) => {
                let count = self.plan.segments().len();
                if segment >= count {
                    return Err(SteerError::NoSuchSegment {
                        number: segment.saturating_add(1),
                        count,
                    });
                }
                Steer::Jump {
                    at,
                    segment: u32::try_from(segment).unwrap_or(u32::MAX),
                }
            }
            SteerCommand::Spin(roll) => {
                let segment = self.timeline.position_at(at).segment;
                let candidates = self.wheel_candidates(segment);
                if candidates.is_empty() {
                    let title = self.plan.segments().get(segment).map(|s| s.title());
                    return Err(SteerError::NoWheel(title.unwrap_or_default().to_owned()));
                }
                let pick = candidates[(roll % candidates.len() as u64) as usize];
                Steer::Spin {
                    at,
                    entry: u32::try_from(pick).unwrap_or(u32::MAX),
                }
            }
            SteerCommand::Stop => Steer::Stop { at },
        };
        // What the history would refuse (an extension out of range) is refused here.
        self.history.accepts(&steer)?;
        Ok(steer)
    }

    /// The current segment's time left at session frame `at`, in plan time (standing
    /// still while paused).
    fn plan_time_left(&self, at: Frame) -> Duration {
        let remaining = self.timeline.position_at(self.frozen_at(at)).remaining;
        let seconds =
            remaining.as_seconds(self.timeline.sample_rate()) * self.options.speed.factor();
        Duration::try_from_secs_f64(seconds).unwrap_or_default()
    }

    /// `at`, or while paused the frame the pause began (where the position stands still).
    fn frozen_at(&self, at: Frame) -> Frame {
        if self.timeline.position_at(at).state != State::Paused {
            return at;
        }
        self.timeline
            .pauses()
            .iter()
            .rev()
            .find(|(from, until)| *from <= at && until.is_none_or(|u| at < u))
            .map_or(at, |(from, _)| *from)
    }

    /// The entries of `segment`'s wheel a spin may land on now: all of them, or — drawn
    /// without repetition — those not drawn yet in this round (a round ends when every
    /// entry has been drawn once; the draws of every segment with the same wheel count).
    fn wheel_candidates(&self, segment: usize) -> Vec<usize> {
        let Some(spec) = self.plan.segments().get(segment) else {
            return Vec::new();
        };
        let count = spec.entries().len();
        let mut drawn = vec![false; count];
        if spec.draw() == Draw::WithoutRepetition {
            for spin in self
                .timeline
                .spins()
                .iter()
                .filter(|s| self.plan.same_wheel(s.segment, segment))
            {
                if drawn.iter().all(|d| *d) {
                    drawn.fill(false);
                }
                if let Some(d) = drawn.get_mut(spin.path.to as usize) {
                    *d = true;
                }
            }
            if drawn.iter().all(|d| *d) {
                drawn.fill(false);
            }
        }
        (0..count).filter(|i| !drawn[*i]).collect()
    }

    /// Checks and applies a command at once (renders and rehearsals, which keep no
    /// journal).
    pub fn steer(
        &mut self,
        command: SteerCommand,
        now: HostTime,
        by: &Actor,
        engine: &mut Controller,
    ) -> Result<SessionEvent, SteerError> {
        let steer = self.check(command, now)?;
        self.apply(steer, by, engine)
    }

    /// Applies a steering event that [`Runner::check`] returned: records it, recomputes
    /// the timeline, and cancels the strokes sent for instants from its frame on (they are
    /// sent again from the new timeline by the next [`Runner::pump`]).
    pub fn apply(
        &mut self,
        steer: Steer,
        by: &Actor,
        engine: &mut Controller,
    ) -> Result<SessionEvent, SteerError> {
        let at = steer.at();
        self.history.push(steer)?;
        self.timeline = timeline(&self.plan, &self.history, &self.options);
        let unwanted = |stroke: &Stroke| stroke.frame >= at;
        self.in_flight.retain(|id, stroke| {
            if unwanted(stroke) {
                // A full queue means the renderer is not running; the voice then never
                // plays anyway, so there is nothing better to do than carry on.
                let _ = engine.cancel(*id);
                return false;
            }
            true
        });
        self.withdrawn.retain(|_, stroke| !unwanted(stroke));
        self.replan.retain(|stroke| !unwanted(stroke));
        self.sent_until = self.sent_until.min(at);
        self.warned_until = self.warned_until.min(at);
        // An overtime already announced is news again only once the session has left it
        // (an extension moved the deadline, the facilitator moved on): a pause or any
        // other command that leaves it holding in the same overtime does not repeat it.
        if let Some(run) = self.overtime_announced {
            let position = self.timeline.position_at(at);
            let holding = matches!(position.state, State::Overtime | State::Paused);
            if !holding || position.run != run {
                self.overtime_news_from = Some(at);
            }
        }
        let at = self.clock.moment(at);
        let by = by.clone();
        Ok(match steer {
            Steer::Pause { .. } => SessionEvent::Paused { at, by },
            Steer::Resume { .. } => SessionEvent::Resumed {
                at,
                by,
                down_seconds: None,
            },
            Steer::Next { .. } => SessionEvent::Skipped { at, by, to: "next" },
            Steer::Previous { .. } => SessionEvent::Skipped {
                at,
                by,
                to: "previous",
            },
            Steer::Extend { by: length, .. } => SessionEvent::Extended {
                at,
                by,
                by_seconds: length.as_secs_f64(),
            },
            Steer::Stop { .. } => SessionEvent::Stopped { at, by },
            Steer::SetLeft { left, .. } => SessionEvent::TimeLeftSet {
                at,
                by,
                left_seconds: left.as_secs_f64(),
            },
            Steer::Jump { segment, .. } => SessionEvent::Jumped {
                at,
                by,
                segment: segment as usize,
            },
            Steer::Spin { .. } => SessionEvent::Spin {
                at,
                by,
                spin: self
                    .timeline
                    .spins()
                    .last()
                    .map(|spin| self.spin_status(spin)),
            },
        })
    }

    /// The output's clock mapping jumped (a stall, a restarted stream): takes back every
    /// stroke sent with the old mapping that has not started, to place it again with the
    /// new one — on time if its moment is still ahead, reported missed if not.
    pub fn reanchored(&mut self, engine: &mut Controller) {
        for (id, stroke) in self.in_flight.drain() {
            if engine.withdraw(id).is_ok() {
                self.withdrawn.insert(id, stroke);
            }
        }
    }

    fn place(&self, stroke: &Stroke, engine: &Controller) -> Placement {
        let instant = self.clock.instant_of(stroke.frame);
        match engine.frame_for(instant) {
            Some(frame) => Placement::At(frame),
            // Already rendered: it can only start at the next block, which is heard at
            // `earliest_heard`; within the tolerance that is still on time.
            None if engine.earliest_heard() <= instant + LATE_TOLERANCE => {
                Placement::At(engine.earliest_frame())
            }
            None => Placement::Missed,
        }
    }

    fn miss(&mut self, stroke: &Stroke) {
        let (count, first) = self.missed.get_or_insert((0, stroke.frame));
        *count += 1;
        *first = (*first).min(stroke.frame);
    }

    /// Sends the engine every stroke due before `now + lookahead` that has not been sent,
    /// each at the frame its output hears at its instant, and returns what the session has
    /// to announce by `now` (segments started, overtime, the end, strokes missed).
    pub fn pump(
        &mut self,
        now: HostTime,
        lookahead: Duration,
        engine: &mut Controller,
        pack: &Pack,
    ) -> Vec<SessionEvent> {
        let mut events = Vec::new();
        let until = self.session_frame(now + lookahead);
        let mut due: Vec<Stroke> = std::mem::take(&mut self.replan);
        due.extend_from_slice(self.timeline.strokes_between(self.sent_until, until));
        let mut queue = due.into_iter();
        for stroke in queue.by_ref() {
            let frame = match self.place(&stroke, engine) {
                Placement::At(frame) => frame,
                Placement::Missed => {
                    self.miss(&stroke);
                    continue;
                }
            };
            let voicing = match Voicing::of(&stroke, pack) {
                Ok(voicing) => voicing,
                Err(name) => {
                    if !self.missing.iter().any(|m| m == name) {
                        tracing::warn!(
                            instrument = name,
                            "the pack has no such instrument; its strokes are silent"
                        );
                        self.missing.push(name.to_owned());
                    }
                    continue;
                }
            };
            let (name, sound, gain) = (voicing.instrument, voicing.sound.clone(), voicing.gain);
            let latest = self.clock.instant_of(stroke.frame) + LATE_TOLERANCE;
            match engine.play_by(sound, frame, gain, Some(latest)) {
                Ok(id) => {
                    self.in_flight.insert(id, stroke);
                }
                Err(EngineError::QueueFull) => {
                    // Try again on the next pump, from this stroke on.
                    self.replan.push(stroke);
                    break;
                }
                Err(err) => tracing::error!("cannot play {name}: {err}"),
            }
        }
        // Whatever a full queue kept back goes first next time.
        self.replan.extend(queue);
        self.sent_until = self.sent_until.max(until);
        if let Some((strokes, first)) = self.missed.take() {
            tracing::warn!(
                strokes,
                "strokes whose moment passed during a stall were not played"
            );
            events.push(SessionEvent::Missed {
                strokes,
                at: self.clock.moment(first),
            });
        }
        events.extend(self.announcements(now));
        events
    }

    /// Turns an engine report about one of this session's strokes into a session event.
    pub fn on_engine_event(&mut self, event: &EngineEvent) -> Option<SessionEvent> {
        match *event {
            EngineEvent::Started { id, frame, .. } => {
                let stroke = self
                    .in_flight
                    .remove(&id)
                    .or_else(|| self.withdrawn.remove(&id))?;
                Some(SessionEvent::Stroke {
                    frame,
                    planned: stroke.frame,
                    at: self.clock.moment(stroke.frame),
                    instrument: stroke.instrument,
                    variant: stroke.variant,
                    segment: stroke.segment,
                    kind: stroke.kind,
                })
            }
            EngineEvent::Withdrawn { id } => {
                let stroke = self.withdrawn.remove(&id)?;
                self.replan.push(stroke);
                None
            }
            EngineEvent::Missed { id, .. } => {
                // The output stalled after the stroke was sent: place it again with the
                // mapping as it is now (it is missed there too if its moment has passed).
                let stroke = self
                    .in_flight
                    .remove(&id)
                    .or_else(|| self.withdrawn.remove(&id))?;
                self.replan.push(stroke);
                None
            }
            EngineEvent::Cancelled { id, .. } | EngineEvent::Rejected { id } => {
                self.in_flight.remove(&id);
                self.withdrawn.remove(&id);
                None
            }
            EngineEvent::Finished { .. } | EngineEvent::Stolen { .. } => None,
        }
    }

    fn announcements(&mut self, now: HostTime) -> Vec<SessionEvent> {
        // Announce a moment once the clock has passed it, so the strokes on that frame
        // have been rendered (and reported) first.
        let Some(at) = self.session_frame(now).0.checked_sub(1).map(Frame) else {
            return Vec::new();
        };
        // (frame, event): a clock that jumped (a stall) can pass several moments at once,
        // and they are told in the order they happened.
        let mut events = Vec::new();
        let rate = self.timeline.sample_rate();
        let runs = self.timeline.runs();
        while let Some(run) = runs.get(self.runs_announced).filter(|r| r.start <= at) {
            events.push((
                run.start,
                SessionEvent::SegmentStarted {
                    run: self.runs_announced,
                    segment: run.segment,
                    title: self.plan.segments()[run.segment].title().to_owned(),
                    at: self.clock.moment(run.start),
                    deadline_seconds: run.deadline.as_seconds(rate),
                },
            ));
            self.runs_announced += 1;
        }
        events.extend(self.turn_news(at));
        // Warnings come from the timeline, not from the engine's reports of their strokes:
        // a warning whose strokes were missed in a stall is still news. A warning is a
        // chord (two strokes on one frame), told once.
        let mut last_warning = None;
        for stroke in self
            .timeline
            .strokes_between(self.warned_until, Frame(at.0 + 1))
        {
            if let StrokeKind::Warning { lead } = stroke.kind
                && last_warning != Some(stroke.frame)
            {
                last_warning = Some(stroke.frame);
                events.push((
                    stroke.frame,
                    SessionEvent::TimeWarning {
                        segment: stroke.segment,
                        lead_seconds: lead.get().as_secs_f64(),
                        at: self.clock.moment(stroke.frame),
                    },
                ));
            }
        }
        self.warned_until = self.warned_until.max(Frame(at.0 + 1));
        let position = self.timeline.position_at(at);
        let told = self.overtime_announced == Some(position.run)
            && self.overtime_news_from.is_none_or(|from| at < from);
        if position.state == State::Overtime && !told {
            self.overtime_announced = Some(position.run);
            self.overtime_news_from = None;
            let deadline = self.timeline.runs()[position.run].deadline;
            events.push((
                deadline,
                SessionEvent::Overtime {
                    segment: position.segment,
                    at: self.clock.moment(deadline),
                },
            ));
        }
        if !self.finished && self.timeline.is_finished_at(at) {
            self.finished = true;
            let end = self.timeline.end().unwrap_or(at);
            events.push((
                end,
                SessionEvent::Finished {
                    at: self.clock.moment(end),
                },
            ));
        }
        events.sort_by_key(|(frame, _)| *frame);
        events.into_iter().map(|(_, event)| event).collect()
    }

    /// What is left to announce of a session that is over at `now` (its final gong due),
    /// when another is about to take its place before the next pump: its end is told and
    /// journaled, not lost.
    pub fn conclude(&mut self, now: HostTime) -> Vec<SessionEvent> {
        self.announcements(now)
    }

    /// Where the session is at host instant `now`, for status displays.
    #[must_use]
    pub fn snapshot(&self, now: HostTime) -> Snapshot {
        let rate = self.timeline.sample_rate();
        let at = self.session_frame(now);
        let position = self.timeline.position_at(at);
        // While paused the deadline has not moved yet (it moves when the pause ends), so
        // the time left is read at the moment the pause began: it stands still.
        let frozen_at = self.frozen_at(at);
        let remaining = self.timeline.position_at(frozen_at).remaining;
        let segments = self.plan.segments();
        let current = segments.get(position.segment);
        let runs = self.timeline.runs();
        let run = runs.get(position.run);
        let secs = |f: Frame| f.as_seconds(rate);
        let speed = self.options.speed.factor();
        let next = match position.state {
            State::Finished => None,
            State::Buka => segments.first(),
            _ => segments.get(position.segment + 1),
        };
        Snapshot {
            id: self.id.clone(),
            plan: self.plan.name().to_owned(),
            state: position.state,
            speed,
            started: self.clock.moment(Frame::ZERO).utc,
            now: self.clock.moment(at),
            elapsed_seconds: secs(at),
            segment: position.segment,
            title: current.map(|s| s.title().to_owned()).unwrap_or_default(),
            notes: current.map(|s| s.notes().to_owned()).unwrap_or_default(),
            beat: position.beat,
            of: position.of,
            pattern: current
                .map(|s| {
                    s.pattern()
                        .beats()
                        .iter()
                        .map(ToString::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            remaining_seconds: secs(remaining),
            overtime_seconds: match (position.state, run) {
                (State::Overtime, Some(run)) => secs(at.saturating_sub(run.deadline)),
                _ => 0.0,
            },
            deadline_seconds: run.map(|r| secs(r.deadline)),
            form: current.map(|s| s.form().to_string()).unwrap_or_default(),
            next: next.map(|s| s.title().to_owned()),
            wheel: match position.state {
                State::Finished => None,
                _ => self.wheel_status(position.segment),
            },
            turn: self.turn_status(at),
            segments: segments
                .iter()
                .enumerate()
                .map(|(i, segment)| {
                    let mine: Vec<_> = runs.iter().filter(|r| r.segment == i).collect();
                    // Extensions given while one of its runs was open (up to now).
                    let extended: f64 = self
                        .history
                        .events()
                        .iter()
                        .filter_map(|event| match *event {
                            Steer::Extend { at: when, by } if when <= at => Some((when, by)),
                            _ => None,
                        })
                        .filter(|(when, _)| {
                            mine.iter()
                                .any(|r| r.start <= *when && r.end.is_none_or(|end| *when < end))
                        })
                        .map(|(_, by)| by.as_secs_f64())
                        .sum();
                    SegmentStatus {
                        title: segment.title().to_owned(),
                        planned_seconds: segment.duration().get().as_secs_f64() / speed,
                        extended_seconds: extended / speed,
                        started_seconds: mine
                            .first()
                            .filter(|r| r.start <= at)
                            .map(|r| secs(r.start)),
                        ended_seconds: mine
                            .last()
                            .and_then(|r| r.end)
                            .filter(|end| *end <= at)
                            .map(secs),
                    }
                })
                .collect(),
        }
    }
}

/// A running session, as status displays and `GET /v1/session` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The session's id (its history is `GET /v1/history/{id}`).
    pub id: SessionId,
    /// The plan's name.
    pub plan: String,
    /// What the session is doing.
    pub state: State,
    /// The speed factor (1 = real time).
    pub speed: f64,
    /// When the session started (its buka began), UTC.
    pub started: String,
    /// The moment this snapshot describes.
    pub now: super::clock::Moment,
    /// Seconds since the session started (pauses included).
    pub elapsed_seconds: f64,
    /// The current plan segment.
    pub segment: usize,
    /// Its title.
    pub title: String,
    /// Its notes for the facilitator.
    pub notes: String,
    /// The last beat of the gongan that has sounded, from 1 (0 before the first).
    pub beat: u16,
    /// Beats in the segment's form.
    pub of: u16,
    /// The form's beats as pattern symbols (`T`, `N`, `P`, `G`…), one string per beat.
    pub pattern: Vec<String>,
    /// Seconds until the current segment's deadline (standing still while paused).
    pub remaining_seconds: f64,
    /// Seconds past the deadline of a `wait` segment holding in overtime (else 0).
    pub overtime_seconds: f64,
    /// The current segment's form (`lancaran`, `ketawang`, … or its pattern).
    pub form: String,
    /// Session seconds of the current segment's deadline.
    pub deadline_seconds: Option<f64>,
    /// The title of the segment that comes next.
    pub next: Option<String>,
    /// The current segment's wheel, if it has one: its entries, what has been drawn, the
    /// last spin.
    pub wheel: Option<WheelStatus>,
    /// Whose turn it is, if the current segment has a rotation.
    pub turn: Option<TurnStatus>,
    /// Every segment: planned length and, once they happened, when it started and ended.
    pub segments: Vec<SegmentStatus>,
}

/// One segment in a [`Snapshot`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentStatus {
    /// Title.
    pub title: String,
    /// Planned length in seconds (at the session's speed).
    pub planned_seconds: f64,
    /// Seconds it was extended by (+1 min, `extend`), at the session's speed.
    #[serde(default)]
    pub extended_seconds: f64,
    /// Seconds since the session's start when it (last) started.
    pub started_seconds: Option<f64>,
    /// Seconds since the session's start when it (last) ended.
    pub ended_seconds: Option<f64>,
}

mod ahead;
#[cfg(test)]
mod test;
mod wheel;

pub use ahead::StrokeAhead;
use ahead::Voicing;
pub use wheel::{SpinStatus, TurnStatus, WheelStatus};
