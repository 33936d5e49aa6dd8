//! The [`Conductor`]: the one task that owns the engine's control side, the running
//! session and the cues, and publishes what happens.
//!
//! Everything that changes what plays goes through it as a message, answered on a oneshot
//! channel (the actor pattern), so the session state has a single owner and handlers stay
//! thin. Every few milliseconds it takes the output's timing reports into the engine's
//! clock mapping, drains the engine's reports and sends the strokes and cues of the next
//! look-ahead window, each at the frame that is heard at its instant. Its time is the
//! host's monotonic clock ([`HostTime`]): a sound card that stalls never moves a session.

mod config;
mod error;
mod events;
mod handle;
mod messages;
mod receipt;

pub use config::{ConductorConfig, SESSION_RATE};
pub use error::ConductorError;
pub use events::{
    CueEvent, CueScheduled, Event, OutputEvent, RoomMessage, Tick, TickSession, VolumeEvent,
    Warning,
};
pub use handle::ConductorHandle;
pub use receipt::CueReceipt;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};

use messages::Request;

use super::clock::{SessionClock, rfc3339};
use super::cues::{Coalescer, Cue, CueBook, CueId, CueKey, CueTime, PendingCue};
use super::event::SessionEvent;
use super::plan::ValidPlan;
use super::record::{
    Action, Actor, Ending, Journal, JournalEntry, JournalError, SessionId, SessionRecord,
    seconds_between,
};
use super::runner::{LATE_TOLERANCE, Runner, Snapshot, SteerCommand, StrokeAhead};
use super::timeline::{Speed, TimelineOptions};
use crate::audio::{Controller, EngineEvent, Frame, HostTime, Sound, Volume, VolumeChange};
use crate::pack::Pack;

/// The session's strokes still to come, as [`ConductorHandle::ahead`] answers.
pub struct Ahead {
    /// When this was asked: the strokes are heard from here on.
    pub now: HostTime,
    /// The pack that voices them (a listener fetches its sounds).
    pub pack: Arc<Pack>,
    /// The strokes, soonest first.
    pub strokes: Vec<StrokeAhead>,
}

/// The actor. Build it with [`Conductor::spawn`].
pub struct Conductor {
    controller: Controller,
    journal: Box<dyn Journal>,
    /// Session ids started by this process, to make each id differ.
    sessions_started: u64,
    next_alive: HostTime,
    pack: Arc<Pack>,
    config: ConductorConfig,
    session: Option<Runner>,
    events: broadcast::Sender<Event>,
    cues: CueBook,
    coalescer: Coalescer,
    next_cue: u64,
    next_tick: HostTime,
    /// What the presentation view shows the room under the clock.
    room_message: RoomMessage,
}

/// Room between the instant the output renders next and the earliest instant a command
/// takes effect at: a conductor tick, and the scheduling slack of a machine whose cores
/// are both busy (the conductor's task can wait tens of milliseconds for a core there,
/// and a stroke sent after its frame was rendered would start late).
const SEND_MARGIN: Duration = Duration::from_millis(100);

/// How often a running session notes in the journal that the server is alive: how long
/// it was down after a crash is known to within this.
const ALIVE_INTERVAL: Duration = Duration::from_secs(2);

impl Conductor {
    /// Starts the conductor on the current tokio runtime, owning `controller`. It runs
    /// until every handle is dropped.
    #[must_use]
    pub fn spawn(
        controller: Controller,
        pack: Arc<Pack>,
        config: ConductorConfig,
        journal: Box<dyn Journal>,
    ) -> ConductorHandle {
        let (requests, inbox) = mpsc::channel(256);
        let (events, _) = broadcast::channel(config.event_buffer.max(1));
        let clock = controller.clock();
        let conductor = Conductor {
            controller,
            journal,
            sessions_started: 0,
            next_alive: HostTime::ZERO,
            pack,
            config,
            session: None,
            events: events.clone(),
            cues: CueBook::new(config.max_pending_cues),
            coalescer: Coalescer::new(config.coalesce_window),
            next_cue: 1,
            next_tick: HostTime::ZERO,
            room_message: RoomMessage::new(String::new(), Actor::server()),
        };
        tokio::spawn(conductor.run(inbox));
        ConductorHandle {
            requests,
            events,
            clock,
        }
    }

    async fn run(mut self, mut inbox: mpsc::Receiver<Request>) {
        let mut tick = tokio::time::interval(self.config.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                request = inbox.recv() => match request {
                    Some(request) => {
                        self.controller.sync_clock().inspect(|_| self.reanchored());
                        self.handle(request);
                        self.pump();
                    }
                    None => break,
                },
                _ = tick.tick() => self.pump(),
            }
        }
    }

    fn publish(&self, event: Event) {
        // No subscribers is fine: nobody is listening.
        let _ = self.events.send(event);
    }

    fn handle(&mut self, request: Request) {
        match request {
            Request::Start {
                plan,
                speed,
                by,
                reply,
            } => {
                let _ = reply.send(self.start(plan, speed, by));
            }
            Request::Resume {
                record,
                last_alive,
                reply,
            } => {
                let _ = reply.send(self.resume(*record, last_alive));
            }
            Request::Steer { command, by, reply } => {
                let _ = reply.send(self.steer(command, by));
            }
            Request::Output { event } => self.output_changed(event),
            Request::Snapshot { reply } => {
                // As of when a command sent now would take effect, so a client deciding
                // between pause and resume sees the effect of the command it just sent.
                let at = self.steer_instant();
                let _ = reply.send(self.session.as_ref().map(|s| s.snapshot(at)));
            }
            Request::Cue { cue, by, reply } => {
                let _ = reply.send(self.cue(cue, by));
            }
            Request::Cues { reply } => {
                let _ = reply.send(self.cues.listing(HostTime::now()));
            }
            Request::CancelCue { id, reply } => {
                let _ = reply.send(self.cancel_cue(id));
            }
            Request::SetPack { pack, reply } => {
                self.pack = pack;
                let _ = reply.send(());
            }
            Request::Latency { reply } => {
                let now = HostTime::now();
                let _ = reply.send(self.controller.earliest_heard().saturating_since(now));
            }
            Request::Ahead { horizon, reply } => {
                let now = HostTime::now();
                let strokes = self.session.as_ref().map_or_else(Vec::new, |session| {
                    session.ahead(now, now + horizon, &self.pack)
                });
                let _ = reply.send(Ahead {
                    now,
                    pack: self.pack.clone(),
                    strokes,
                });
            }
            Request::Volume { change, by, reply } => {
                let _ = reply.send(self.volume(change, by));
            }
            Request::RoomMessage { text, by, reply } => {
                if let Some(text) = text {
                    tracing::info!(by = %by, "message to the room: {text:?}");
                    self.room_message = RoomMessage::new(text, by);
                    self.publish(Event::RoomMessage(self.room_message.clone()));
                }
                let _ = reply.send(self.room_message.clone());
            }
            Request::Preview {
                instrument,
                variant,
                sound,
                gain,
                reply,
            } => {
                let _ = reply.send(self.preview(instrument, variant, sound, gain));
            }
        }
    }

    /// Applies a volume change for `by` (an empty one only reads) and tells every
    /// subscriber. Not journaled: the room's loudness is not the session's course, and
    /// turning a gong down must work even when the journal cannot be written; the log
    /// keeps who did it.
    fn volume(&mut self, change: VolumeChange, by: Actor) -> Result<Volume, ConductorError> {
        if change.is_empty() {
            return Ok(self.controller.volume());
        }
        let volume = self.controller.volume().with(change);
        self.controller.set_volume(volume)?;
        tracing::info!(
            volume_db = volume.level.db(),
            muted = volume.muted,
            by = %by,
            "master volume changed"
        );
        self.publish(Event::Volume(VolumeEvent {
            kind: "volume",
            volume,
            by,
            utc: rfc3339(std::time::SystemTime::now()),
        }));
        Ok(volume)
    }

    /// Plays a sound of any pack now, outside the session: a preview. It travels as a
    /// "now" cue (an id from the cues' sequence, a `cue_played` when it starts, and
    /// cancellable until then), but it is not journaled — it is someone listening to a
    /// pack, not part of the session's course — and not coalesced: the coalescer's key
    /// names an instrument of the active pack, and a preview of another pack's `kenong`
    /// must neither swallow a real kenong cue nor be swallowed by one. A person clicking
    /// expects each click to sound; the voice cap bounds a flood.
    fn preview(
        &mut self,
        instrument: String,
        variant: Option<u32>,
        sound: Arc<Sound>,
        gain: f32,
    ) -> Result<CueReceipt, ConductorError> {
        let now = HostTime::now();
        let id = CueId(self.next_cue);
        let heard = self.controller.earliest_heard();
        self.send_cue(PendingCue {
            id,
            instrument,
            variant,
            sound,
            gain,
            at: None,
            by: Actor::new("preview").unwrap_or_else(|_| Actor::unnamed()),
        })?;
        self.next_cue += 1;
        Ok(self.receipt(id, heard, now, false))
    }

    /// How far ahead of `now` strokes and cues are sent to the engine: the look-ahead,
    /// counted from the earliest instant the output can make anything heard. A sound card
    /// hears what is rendered now some 40 ms later; a Snapcast pipe a second or more
    /// later (its buffer): sent only `lookahead` ahead of now, every stroke would arrive
    /// after its frame was rendered and be missed.
    fn reach(&self, now: HostTime) -> Duration {
        self.config.lookahead + self.controller.earliest_heard().saturating_since(now)
    }

    /// The earliest instant a command given now can take effect at: its strokes must be
    /// sent before the output renders their frames.
    fn steer_instant(&self) -> HostTime {
        let now = HostTime::now();
        (now + self.config.steer_ahead).max(self.controller.earliest_heard() + SEND_MARGIN)
    }

    fn start(
        &mut self,
        plan: ValidPlan,
        speed: Speed,
        by: Actor,
    ) -> Result<Snapshot, ConductorError> {
        let origin = self.steer_instant();
        if let Some(session) = &self.session
            && !session.is_over(origin)
        {
            return Err(ConductorError::SessionRunning(
                session.plan().name().to_owned(),
            ));
        }
        // The one before is over by the time this one begins, but its end may not have
        // been announced yet (its final gong lies between now and `origin`): it is told
        // and journaled now, so it is history and not an unfinished session.
        let concluded = self
            .session
            .as_mut()
            .filter(|s| !s.is_finished())
            .map(|s| s.conclude(origin))
            .unwrap_or_default();
        for event in concluded {
            self.journal_session_event(&event);
            self.publish(Event::Session(event));
        }
        let options = TimelineOptions::new(SESSION_RATE).with_speed(speed);
        let clock = SessionClock::starting_at(origin, SESSION_RATE);
        self.sessions_started += 1;
        let salt = self.sessions_started ^ HostTime::now().as_nanos();
        let id = SessionId::new(clock.utc_of(Frame::ZERO), salt);
        // Journaled first: a start the journal cannot keep does not happen.
        self.journal_first(&JournalEntry {
            session: id.clone(),
            at: Frame::ZERO,
            utc: clock.utc_of(Frame::ZERO),
            actor: by.clone(),
            action: Action::Started {
                plan: plan.clone(),
                speed: speed.factor(),
            },
        })?;
        let runner = Runner::new(id.clone(), plan, options, clock);
        self.publish(Event::Session(SessionEvent::SessionStarted {
            id,
            by,
            plan: runner.plan().name().to_owned(),
            segments: runner.plan().segments().len(),
            at: runner.clock().moment(Frame::ZERO),
        }));
        let snapshot = runner.snapshot(origin);
        self.session = Some(runner);
        Ok(snapshot)
    }

    /// Takes up `record` on real time: its session frame 0 is its recorded UTC start, so
    /// every instant of its timeline is where it was planned, whatever happened to this
    /// process in between.
    fn resume(
        &mut self,
        record: SessionRecord,
        last_alive: Option<std::time::SystemTime>,
    ) -> Result<Snapshot, ConductorError> {
        if let Some(session) = &self.session
            && !session.is_over(HostTime::now())
        {
            return Err(ConductorError::SessionRunning(
                session.plan().name().to_owned(),
            ));
        }
        let now = self.steer_instant();
        let utc_now = std::time::SystemTime::now();
        let host_now = HostTime::now();
        // Session frame 0 on this process's host clock: as far before now as the start
        // is before now in UTC.
        let since_start = utc_now
            .duration_since(record.started)
            .unwrap_or(Duration::ZERO);
        let origin = host_now.checked_sub(since_start).unwrap_or(HostTime::ZERO);
        let clock = SessionClock::new(origin, record.started, SESSION_RATE);
        let options = TimelineOptions::new(SESSION_RATE).with_speed(record.speed);
        let mut runner = Runner::resumed(&record, options, clock, now);
        let down_seconds = last_alive
            .map(|alive| seconds_between(alive, utc_now).max(0.0))
            .unwrap_or(0.0);
        let at = runner.session_frame(now);
        if runner.is_over(now) && record.finished.is_none() {
            // It ran past its end while nobody could hear it: it ends where it was planned
            // to, and is history.
            let end = runner.timeline().end().unwrap_or(at);
            self.journal_quietly(&JournalEntry {
                session: record.id.clone(),
                at: end,
                utc: runner.clock().utc_of(end),
                actor: Actor::server(),
                action: Action::Finished {
                    ending: Ending::EndedWhileDown,
                },
            });
            runner.mark_finished();
        } else {
            self.journal_quietly(&JournalEntry {
                session: record.id.clone(),
                at,
                utc: runner.clock().utc_of(at),
                actor: Actor::server(),
                action: Action::Resumed { down_seconds },
            });
        }
        tracing::info!(
            session = %record.id,
            plan = record.plan.name(),
            down_seconds,
            "took up the session the server was running before it stopped"
        );
        self.publish(Event::Session(SessionEvent::Resumed {
            at: runner.clock().moment(at),
            by: Actor::server(),
            down_seconds: Some(down_seconds),
        }));
        let snapshot = runner.snapshot(now);
        self.session = Some(runner);
        Ok(snapshot)
    }

    fn steer(&mut self, command: SteerCommand, by: Actor) -> Result<Snapshot, ConductorError> {
        let at = self.steer_instant();
        let session = self.session.as_ref().ok_or(ConductorError::NoSession)?;
        let steer = session.check(command, at)?;
        let entry = JournalEntry {
            session: session.id().clone(),
            at: steer.at(),
            utc: session.clock().utc_of(steer.at()),
            actor: by.clone(),
            action: Action::Steered { steer },
        };
        // Journaled first: a command the journal cannot keep does not happen.
        self.journal_first(&entry)?;
        let session = self.session.as_mut().ok_or(ConductorError::NoSession)?;
        let event = session.apply(steer, &by, &mut self.controller)?;
        let snapshot = session.snapshot(at);
        self.publish(Event::Session(event));
        Ok(snapshot)
    }

    /// Journals a change before it is made; if the journal cannot take it, the change is
    /// refused (507) and the facilitator is warned: the session keeps time, but nothing
    /// more can change until the disk can be written.
    fn journal_first(&mut self, entry: &JournalEntry) -> Result<(), JournalError> {
        self.journal.record(entry).inspect_err(|error| {
            tracing::warn!("refused a '{}': {error}", entry.action.name());
            self.publish(Event::Warning(Warning::now(format!(
                "'{}' was refused: {error}. The session keeps time.",
                entry.action.name()
            ))));
        })
    }

    /// Journals something that has already happened (a session's end, missed strokes,
    /// an output change): if the journal cannot take it, the session goes on and the
    /// facilitator is warned.
    fn journal_quietly(&mut self, entry: &JournalEntry) {
        if let Err(error) = self.journal.record(entry) {
            tracing::warn!("the journal missed a '{}': {error}", entry.action.name());
            self.publish(Event::Warning(Warning::now(format!(
                "the session's '{}' could not be recorded: {error}. The session keeps time, \
                 but its history is incomplete.",
                entry.action.name()
            ))));
        }
    }

    fn output_changed(&mut self, event: OutputEvent) {
        if let Some(session) = &self.session
            && !session.is_finished()
        {
            let now = HostTime::now();
            let at = session.session_frame(now);
            let entry = JournalEntry {
                session: session.id().clone(),
                at,
                utc: session.clock().utc_of(at),
                actor: Actor::server(),
                action: Action::Output {
                    output: event.output.to_owned(),
                    detail: event.detail.clone(),
                },
            };
            self.journal_quietly(&entry);
        }
        self.publish(Event::Output(event));
    }

    /// The instant a cue is to be heard at; `None` for "now".
    fn cue_instant(&self, at: CueTime, now: HostTime) -> Result<Option<HostTime>, ConductorError> {
        let max = self.config.max_cue_delay;
        let too_far = |what: String| {
            ConductorError::BadTime(format!(
                "{what} is more than {} s ahead; cues may be at most that far ahead",
                max.as_secs()
            ))
        };
        let instant = match at {
            CueTime::Now => return Ok(None),
            CueTime::AtFrame(frame) => {
                let rendered = self.controller.now();
                if frame.0 < rendered.0 {
                    // Within the tolerance it still plays (at once); further back it is
                    // an error the client should hear about.
                    let late = self
                        .controller
                        .output_clock()
                        .heard_at(rendered)
                        .saturating_since(self.controller.output_clock().heard_at(frame));
                    if late > LATE_TOLERANCE {
                        return Err(ConductorError::BadTime(format!(
                            "frame {} has already been played (the engine is at frame {})",
                            frame.0, rendered.0
                        )));
                    }
                    return Ok(None);
                }
                let ahead = frame.0 - rendered.0;
                let limit = max
                    .as_secs()
                    .saturating_mul(u64::from(self.controller.sample_rate()));
                if ahead > limit {
                    return Err(too_far(format!("frame {}", frame.0)));
                }
                self.controller.output_clock().heard_at(frame)
            }
            CueTime::After(delay) => {
                if delay > max {
                    return Err(too_far(format!("{} s", delay.as_secs_f64())));
                }
                now + delay
            }
            CueTime::NextBeat | CueTime::NextGong => {
                let session = self.session.as_ref().ok_or(ConductorError::NoSession)?;
                // The next beat that can still be sent in time.
                let from = session.session_frame(self.steer_instant());
                let (next, name) = if at == CueTime::NextBeat {
                    (session.timeline().next_beat_after(from), "beat")
                } else {
                    (session.timeline().next_gong_after(from), "gong")
                };
                let instant = session
                    .clock()
                    .instant_of(next.ok_or(ConductorError::NoBeat(name))?);
                if instant.saturating_since(now) > max {
                    return Err(too_far(format!("the next {name}")));
                }
                instant
            }
        };
        Ok(Some(instant))
    }

    fn cue(&mut self, cue: Cue, by: Actor) -> Result<CueReceipt, ConductorError> {
        let now = HostTime::now();
        let instrument = self
            .pack
            .instrument(&cue.instrument)
            .ok_or_else(|| ConductorError::UnknownInstrument(cue.instrument.clone()))?;
        let sound =
            instrument
                .sound(cue.variant)
                .ok_or_else(|| ConductorError::UnknownVariant {
                    instrument: cue.instrument.clone(),
                    variant: cue.variant.unwrap_or(0),
                    count: instrument.variant_count(),
                })?;
        let at = self.cue_instant(cue.at, now)?;
        let planned = at.unwrap_or_else(|| self.controller.earliest_heard());
        let key = CueKey {
            instrument: cue.instrument.clone(),
            variant: cue.variant,
            gain_db: cue.gain_db,
        };
        if let Some((id, heard)) = self.coalescer.joins(&key, now, planned) {
            return Ok(self.receipt(id, heard, now, true));
        }
        let id = CueId(self.next_cue);
        let journaled = self
            .session
            .as_ref()
            .filter(|s| !s.is_finished())
            .map(|session| {
                let at = session.session_frame(planned);
                JournalEntry {
                    session: session.id().clone(),
                    at,
                    utc: session.clock().utc_of(at),
                    actor: by.clone(),
                    action: Action::Cue {
                        id: id.0,
                        instrument: cue.instrument.clone(),
                        variant: cue.variant,
                        in_seconds: planned.saturating_since(now).as_secs_f64(),
                    },
                }
            });
        let pending = PendingCue {
            id,
            instrument: cue.instrument,
            variant: cue.variant,
            sound: sound.clone(),
            gain: instrument.gain() * 10f32.powf(cue.gain_db / 20.0),
            at,
            by,
        };
        let scheduled = CueScheduled {
            id,
            instrument: pending.instrument.clone(),
            variant: pending.variant,
            clock: planned.as_seconds(),
            gain: pending.gain,
        };
        if planned < now + self.reach(now) {
            self.send_cue(pending)?;
        } else {
            self.cues
                .wait(pending)
                .map_err(|full| ConductorError::TooManyCues(full.capacity))?;
        }
        // Journaled after it is on its way (the write's latency is not the cue's), and
        // taken back if the journal cannot keep it.
        if let Some(entry) = journaled
            && let Err(error) = self.journal_first(&entry)
        {
            if let Some(Some(voice)) = self.cues.cancel(id) {
                let _ = self.controller.cancel(voice);
            }
            return Err(error.into());
        }
        self.next_cue += 1;
        self.coalescer.accepted(key, id, planned);
        self.publish(Event::CueScheduled(scheduled));
        Ok(self.receipt(id, planned, now, false))
    }

    fn receipt(&self, id: CueId, heard: HostTime, now: HostTime, coalesced: bool) -> CueReceipt {
        let utc = std::time::SystemTime::now();
        let ahead = heard.saturating_since(now);
        CueReceipt {
            id,
            frame: self
                .controller
                .output_clock()
                .frame_at(heard)
                .unwrap_or(self.controller.earliest_frame()),
            in_seconds: ahead.as_secs_f64(),
            heard_at: rfc3339(utc + ahead),
            coalesced,
        }
    }

    /// Hands a cue to the engine, at the frame heard at its instant.
    fn send_cue(&mut self, cue: PendingCue) -> Result<(), ConductorError> {
        let frame = match cue.at {
            None => self.controller.earliest_frame(),
            Some(at) => match self.controller.frame_for(at) {
                Some(frame) => frame,
                None if self.controller.earliest_heard() <= at + LATE_TOLERANCE => {
                    self.controller.earliest_frame()
                }
                None => {
                    tracing::warn!(
                        cue = cue.id.0,
                        "a cue's moment passed during a stall; not played"
                    );
                    return Ok(());
                }
            },
        };
        let latest = cue.at.map(|at| at + LATE_TOLERANCE);
        let voice = self
            .controller
            .play_by(cue.sound.clone(), frame, cue.gain, latest)?;
        self.cues.sent(voice, cue);
        Ok(())
    }

    fn cancel_cue(&mut self, id: CueId) -> Result<(), ConductorError> {
        match self.cues.cancel(id) {
            None => Err(ConductorError::NoSuchCue(id.0)),
            Some(None) => Ok(()),
            Some(Some(voice)) => Ok(self.controller.cancel(voice)?),
        }
    }

    /// Journals what a session did by itself: its end, strokes it missed.
    fn journal_session_event(&mut self, event: &SessionEvent) {
        let Some(session) = self.session.as_ref() else {
            return;
        };
        let action = match event {
            SessionEvent::Finished { .. } => Action::Finished {
                ending: if session.was_stopped() {
                    Ending::Stopped
                } else {
                    Ending::Completed
                },
            },
            SessionEvent::Missed { strokes, .. } => Action::Missed { strokes: *strokes },
            _ => return,
        };
        let at = match event {
            SessionEvent::Finished { .. } => session.timeline().end(),
            _ => None,
        }
        .unwrap_or_else(|| session.session_frame(HostTime::now()));
        let entry = JournalEntry {
            session: session.id().clone(),
            at,
            utc: session.clock().utc_of(at),
            actor: Actor::server(),
            action,
        };
        self.journal_quietly(&entry);
    }

    /// The output's clock jumped: what was sent with the old mapping is placed again.
    fn reanchored(&mut self) {
        if let Some(session) = self.session.as_mut() {
            session.reanchored(&mut self.controller);
        }
        for voice in self.cues.withdraw_timed() {
            let _ = self.controller.withdraw(voice);
        }
    }

    fn pump(&mut self) {
        if let Some(jump) = self.controller.sync_clock() {
            tracing::info!(
                jump_ms = jump as f64 / 1e6,
                "the output's clock jumped; re-placing scheduled strokes"
            );
            self.reanchored();
        }
        let now = HostTime::now();
        for event in self.controller.events() {
            match event {
                EngineEvent::Started { id, frame, .. } => {
                    if let Some(cue) = self.cues.started(id) {
                        let heard = self.controller.output_clock().heard_at(frame);
                        let ahead = heard.signed_nanos_since(now);
                        let utc = std::time::SystemTime::now();
                        let utc = if ahead >= 0 {
                            utc + Duration::from_nanos(ahead as u64)
                        } else {
                            utc - Duration::from_nanos(ahead.unsigned_abs())
                        };
                        self.publish(Event::Cue(CueEvent::CuePlayed {
                            id: cue.id,
                            instrument: cue.instrument,
                            variant: cue.variant,
                            frame,
                            utc: rfc3339(utc),
                            clock: heard.as_seconds(),
                            gain: cue.gain,
                            by: cue.by,
                        }));
                        continue;
                    }
                }
                EngineEvent::Withdrawn { id } | EngineEvent::Missed { id, .. } => {
                    if self.cues.returned(id) {
                        continue;
                    }
                }
                EngineEvent::Cancelled { id, .. } | EngineEvent::Rejected { id } => {
                    self.cues.forget(id);
                }
                EngineEvent::Finished { .. } | EngineEvent::Stolen { .. } => {}
            }
            if let Some(session) = self.session.as_mut()
                && let Some(event) = session.on_engine_event(&event)
            {
                let _ = self.events.send(Event::Session(event));
            }
        }
        let reach = self.reach(now);
        for cue in self.cues.due(now + reach) {
            if let Err(err) = self.send_cue(cue.clone()) {
                tracing::warn!("cue {} waits: {err}", cue.id.0);
                self.cues.requeue(cue);
                break;
            }
        }
        if let Some(session) = self.session.as_mut() {
            let events = session.pump(now, reach, &mut self.controller, &self.pack);
            for event in events {
                self.journal_session_event(&event);
                let _ = self.events.send(Event::Session(event));
            }
            if now >= self.next_alive {
                self.next_alive = now + ALIVE_INTERVAL;
                if self.session.as_ref().is_some_and(|s| !s.is_finished()) {
                    self.journal.alive(std::time::SystemTime::now());
                }
            }
        }
        if now >= self.next_tick {
            self.next_tick = now + Duration::from_secs(1);
            let session = self.session.as_ref().map(|s| {
                let snap = s.snapshot(now);
                TickSession {
                    state: snap.state,
                    segment: snap.segment,
                    title: snap.title,
                    remaining_seconds: snap.remaining_seconds,
                    overtime_seconds: snap.overtime_seconds,
                    elapsed_seconds: snap.elapsed_seconds,
                    beat: snap.beat,
                    of: snap.of,
                }
            });
            let frame = self.controller.now();
            self.publish(Event::Tick(Tick {
                kind: "tick",
                frame,
                engine_seconds: frame.as_seconds(self.controller.sample_rate()),
                utc: rfc3339(std::time::SystemTime::now()),
                session,
            }));
        }
    }
}
