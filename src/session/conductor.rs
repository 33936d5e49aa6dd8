//! The [`Conductor`]: the one task that owns the engine's control side, the running
//! session and the cues, and publishes what happens.
//!
//! Everything that changes what plays goes through it as a message, answered on a oneshot
//! channel (the actor pattern), so the session state has a single owner and handlers stay
//! thin. Every few milliseconds it takes the output's timing reports into the engine's
//! clock mapping, drains the engine's reports and sends the strokes and cues of the next
//! look-ahead window, each at the frame that is heard at its instant. Its time is the
//! host's monotonic clock ([`HostTime`]): a sound card that stalls never moves a session.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;
use tokio::sync::{broadcast, mpsc, oneshot};

use super::clock::{SessionClock, rfc3339};
use super::cues::{Coalescer, Cue, CueBook, CueId, CueKey, CueListing, CueTime, PendingCue};
use super::event::SessionEvent;
use super::plan::ValidPlan;
use super::record::{
    Action, Actor, Ending, Journal, JournalEntry, JournalError, SessionId, SessionRecord,
    seconds_between,
};
use super::runner::{LATE_TOLERANCE, Runner, Snapshot, SteerCommand, SteerError};
use super::timeline::{Speed, State, TimelineOptions};
use crate::audio::{Controller, EngineError, EngineEvent, Frame, FrameClock, HostTime};
use crate::pack::Pack;

/// Session frames per second: the resolution of a live session's timeline. It is the
/// session clock's, fixed, and has nothing to do with the output's sample rate.
pub const SESSION_RATE: u32 = 48_000;

/// How the conductor paces itself.
#[derive(Debug, Clone, Copy)]
pub struct ConductorConfig {
    /// How far ahead of the instant it is heard a stroke is sent to the engine: more than
    /// the output's latency plus a tick, so nothing arrives after its frame is rendered.
    pub lookahead: Duration,
    /// How often the conductor wakes to send strokes and read the engine's reports.
    pub tick: Duration,
    /// Identical cues inside this window of real time play once (a pager storm is one
    /// stroke).
    pub coalesce_window: Duration,
    /// The furthest ahead a cue may be scheduled, quantised ones included.
    pub max_cue_delay: Duration,
    /// Timed cues that may wait for their instant at once. Beyond this, new future cues
    /// are refused (429); "now" cues and session strokes always play, since waiting cues
    /// enter the engine's schedule only inside the look-ahead.
    pub max_pending_cues: usize,
    /// How far ahead of now a facilitator's command takes effect, at least: its strokes
    /// (a suwuk, the next segment's first beat) must reach the engine before their frame
    /// is rendered. It grows with the output's measured latency.
    pub steer_ahead: Duration,
    /// Events kept for subscribers that fall behind; past this a slow subscriber loses
    /// the oldest and is told how many (the event stream then sends a `resync`).
    pub event_buffer: usize,
}

impl Default for ConductorConfig {
    fn default() -> Self {
        ConductorConfig {
            lookahead: Duration::from_millis(300),
            tick: Duration::from_millis(10),
            coalesce_window: Duration::from_millis(150),
            max_cue_delay: Duration::from_secs(3600),
            max_pending_cues: 256,
            steer_ahead: Duration::from_millis(50),
            event_buffer: 1024,
        }
    }
}

/// The answer to a cue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CueReceipt {
    /// The cue's id (for a coalesced cue: the id of the identical cue it joined).
    pub id: CueId,
    /// The engine frame it is scheduled for, as the output's clock stands now.
    pub frame: Frame,
    /// Seconds from now until it is heard (the output's latency included).
    pub in_seconds: f64,
    /// When it will be heard, UTC (RFC 3339).
    pub heard_at: String,
    /// True when an identical cue inside the coalescing window already covers it: this
    /// request adds no stroke.
    pub coalesced: bool,
}

/// A cue event, published with the session's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CueEvent {
    /// A cue's stroke started at exactly `frame`.
    CuePlayed {
        /// The cue.
        id: CueId,
        /// Its instrument.
        instrument: String,
        /// Its variant.
        #[serde(skip_serializing_if = "Option::is_none")]
        variant: Option<u32>,
        /// Engine frame of its first sample.
        frame: Frame,
        /// When it is heard, UTC.
        utc: String,
    },
}

/// Everything the conductor publishes, in one stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Event {
    /// From the session.
    Session(SessionEvent),
    /// From a cue.
    Cue(CueEvent),
    /// Once a second: where the engine and the session are.
    Tick(Tick),
    /// The output changed state (a sound card lost or back).
    Output(OutputEvent),
    /// Something the facilitator should know that is not the session's doing (the journal
    /// cannot be written: the session keeps time but will not survive a restart).
    Warning(Warning),
}

/// A warning for the page and the event stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    /// Always `warning`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// What is wrong and what it means.
    pub detail: String,
    /// When, UTC.
    pub utc: String,
}

impl Warning {
    /// A warning now.
    #[must_use]
    pub fn now(detail: String) -> Warning {
        Warning {
            kind: "warning",
            detail,
            utc: rfc3339(std::time::SystemTime::now()),
        }
    }
}

/// The output's state changed: published when a sound card stops taking audio, when it
/// plays again, and when it is reopened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputEvent {
    /// Always `output`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `device`, `null` or `degraded`, as `/healthz` says.
    pub output: &'static str,
    /// The device's name.
    pub device: String,
    /// Why it is degraded, or what recovered it.
    pub detail: String,
    /// When, UTC.
    pub utc: String,
}

/// The periodic position report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tick {
    /// Always `tick`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The engine's frame clock.
    pub frame: Frame,
    /// The same in seconds since the engine started.
    pub engine_seconds: f64,
    /// The server's clock, UTC.
    pub utc: String,
    /// The session, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<TickSession>,
}

/// The session part of a [`Tick`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TickSession {
    /// What it is doing.
    pub state: State,
    /// The current segment.
    pub segment: usize,
    /// Its title.
    pub title: String,
    /// Seconds to its deadline (standing still while paused).
    pub remaining_seconds: f64,
    /// Seconds past the deadline of a segment holding in overtime.
    pub overtime_seconds: f64,
    /// Seconds since the session started.
    pub elapsed_seconds: f64,
    /// The last beat sounded.
    pub beat: u16,
    /// Beats in the form.
    pub of: u16,
}

impl Event {
    /// The event's type name (the SSE `event:` field).
    #[must_use]
    pub fn kind(&self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or("event")
                .to_owned(),
            _ => "event".to_owned(),
        }
    }
}

/// Why the conductor refused a request. Nothing changed.
#[derive(Debug, Error, PartialEq)]
pub enum ConductorError {
    /// Start while a session runs.
    #[error("a session is already running ({0}); stop it first")]
    SessionRunning(String),
    /// Steering or quantising with no session.
    #[error("no session is running; start one first")]
    NoSession,
    /// The session refused the command.
    #[error(transparent)]
    Steer(#[from] SteerError),
    /// The pack has no such instrument.
    #[error("the active pack has no instrument '{0}'")]
    UnknownInstrument(String),
    /// The instrument has no such variant.
    #[error("instrument '{instrument}' has variants 1 to {count}, not {variant}")]
    UnknownVariant {
        /// The instrument.
        instrument: String,
        /// The variant asked for.
        variant: u32,
        /// How many it has.
        count: usize,
    },
    /// Quantising to a beat or gong that will not come (paused, overtime, finished).
    #[error("the session has no upcoming {0} to land on")]
    NoBeat(&'static str),
    /// A cue time already past or too far ahead.
    #[error("{0}")]
    BadTime(String),
    /// Too many timed cues are waiting already.
    #[error("{0} future cues are waiting already; cancel some (DELETE /v1/cues/ID) or cue for now")]
    TooManyCues(usize),
    /// No pending cue has that id.
    #[error("no pending cue {0}: it has played, was cancelled, or never existed")]
    NoSuchCue(u64),
    /// The journal could not record the change, so it was not made.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The engine is not taking commands.
    #[error("the audio engine is busy: {0}")]
    Engine(#[from] EngineError),
    /// The conductor task has ended (the server is shutting down).
    #[error("the server is shutting down")]
    Gone,
}

enum Request {
    Start {
        plan: ValidPlan,
        speed: Speed,
        by: Actor,
        reply: oneshot::Sender<Result<Snapshot, ConductorError>>,
    },
    Resume {
        record: Box<SessionRecord>,
        last_alive: Option<std::time::SystemTime>,
        reply: oneshot::Sender<Result<Snapshot, ConductorError>>,
    },
    Steer {
        command: SteerCommand,
        by: Actor,
        reply: oneshot::Sender<Result<Snapshot, ConductorError>>,
    },
    Output {
        event: OutputEvent,
    },
    Snapshot {
        reply: oneshot::Sender<Option<Snapshot>>,
    },
    Cue {
        cue: Cue,
        by: Actor,
        reply: oneshot::Sender<Result<CueReceipt, ConductorError>>,
    },
    Cues {
        reply: oneshot::Sender<Vec<CueListing>>,
    },
    CancelCue {
        id: CueId,
        reply: oneshot::Sender<Result<(), ConductorError>>,
    },
    SetPack {
        pack: Arc<Pack>,
        reply: oneshot::Sender<()>,
    },
    Latency {
        reply: oneshot::Sender<Duration>,
    },
}

/// The way in to a running [`Conductor`]: cheap to clone, one per handler.
#[derive(Clone)]
pub struct ConductorHandle {
    requests: mpsc::Sender<Request>,
    events: broadcast::Sender<Event>,
    clock: FrameClock,
}

impl ConductorHandle {
    /// Starts a session of `plan` at `speed` for `by`, its buka a moment from now. The
    /// start is journaled before it is answered.
    pub async fn start(
        &self,
        plan: ValidPlan,
        speed: Speed,
        by: Actor,
    ) -> Result<Snapshot, ConductorError> {
        self.ask(|reply| Request::Start {
            plan,
            speed,
            by,
            reply,
        })
        .await?
    }

    /// Takes up a session the journal left unfinished (the server was killed or
    /// restarted): it goes on from where real time is now. `last_alive` is the last sign
    /// of life the server wrote, to say how long it was down.
    pub async fn resume(
        &self,
        record: SessionRecord,
        last_alive: Option<std::time::SystemTime>,
    ) -> Result<Snapshot, ConductorError> {
        self.ask(|reply| Request::Resume {
            record: Box::new(record),
            last_alive,
            reply,
        })
        .await?
    }

    /// Steers the running session for `by`; journaled before it is answered.
    pub async fn steer(
        &self,
        command: SteerCommand,
        by: Actor,
    ) -> Result<Snapshot, ConductorError> {
        self.ask(|reply| Request::Steer { command, by, reply })
            .await?
    }

    /// The output changed state: journaled with the running session, and published.
    pub async fn output_changed(&self, event: OutputEvent) -> Result<(), ConductorError> {
        self.requests
            .send(Request::Output { event })
            .await
            .map_err(|_| ConductorError::Gone)
    }

    /// The session as it is now, if there is (or was) one.
    pub async fn snapshot(&self) -> Result<Option<Snapshot>, ConductorError> {
        self.ask(|reply| Request::Snapshot { reply }).await
    }

    /// Strikes an instrument for `by`.
    pub async fn cue(&self, cue: Cue, by: Actor) -> Result<CueReceipt, ConductorError> {
        self.ask(|reply| Request::Cue { cue, by, reply }).await?
    }

    /// The cues accepted and not yet heard, soonest first.
    pub async fn cues(&self) -> Result<Vec<CueListing>, ConductorError> {
        self.ask(|reply| Request::Cues { reply }).await
    }

    /// Cancels a pending cue.
    pub async fn cancel_cue(&self, id: CueId) -> Result<(), ConductorError> {
        self.ask(|reply| Request::CancelCue { id, reply }).await?
    }

    /// Makes `pack` the one strokes and cues use from now on.
    pub async fn set_pack(&self, pack: Arc<Pack>) -> Result<(), ConductorError> {
        self.ask(|reply| Request::SetPack { pack, reply }).await
    }

    /// The output's measured latency: from now until the next frame rendered is heard.
    pub async fn latency(&self) -> Result<Duration, ConductorError> {
        self.ask(|reply| Request::Latency { reply }).await
    }

    /// A new subscription to every event from now on.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// The engine's frame clock.
    #[must_use]
    pub fn clock(&self) -> &FrameClock {
        &self.clock
    }

    async fn ask<T>(
        &self,
        request: impl FnOnce(oneshot::Sender<T>) -> Request,
    ) -> Result<T, ConductorError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(request(reply))
            .await
            .map_err(|_| ConductorError::Gone)?;
        answer.await.map_err(|_| ConductorError::Gone)
    }
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
        }
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
                    actor: by,
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
        };
        if planned < now + self.config.lookahead {
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
                .unwrap_or(self.controller.now()),
            in_seconds: ahead.as_secs_f64(),
            heard_at: rfc3339(utc + ahead),
            coalesced,
        }
    }

    /// Hands a cue to the engine, at the frame heard at its instant.
    fn send_cue(&mut self, cue: PendingCue) -> Result<(), ConductorError> {
        let frame = match cue.at {
            None => self.controller.now(),
            Some(at) => match self.controller.frame_for(at) {
                Some(frame) => frame,
                None if self.controller.earliest_heard() <= at + LATE_TOLERANCE => {
                    self.controller.now()
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
        for cue in self.cues.due(now + self.config.lookahead) {
            if let Err(err) = self.send_cue(cue.clone()) {
                tracing::warn!("cue {} waits: {err}", cue.id.0);
                self.cues.requeue(cue);
                break;
            }
        }
        if let Some(session) = self.session.as_mut() {
            let events = session.pump(now, self.config.lookahead, &mut self.controller, &self.pack);
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
