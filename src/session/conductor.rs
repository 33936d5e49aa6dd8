//! The [`Conductor`]: the one task that owns the engine's control side, the running
//! session and the cues, and publishes what happens.
//!
//! Everything that changes what plays goes through it as a message, answered on a oneshot
//! channel (the actor pattern), so the session state has a single owner and handlers stay
//! thin. Every few milliseconds it drains the engine's reports and sends the strokes of
//! the next look-ahead window, each at its exact frame.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;
use tokio::sync::{broadcast, mpsc, oneshot};

use super::event::SessionEvent;
use super::plan::ValidPlan;
use super::runner::{Runner, Snapshot, SteerCommand, SteerError};
use super::timeline::{Speed, State, TimelineOptions};
use crate::audio::{Controller, EngineError, EngineEvent, Frame, FrameClock, VoiceId};
use crate::pack::Pack;

/// How the conductor paces itself.
#[derive(Debug, Clone, Copy)]
pub struct ConductorConfig {
    /// How far ahead of the frame clock strokes are sent to the engine: more than the
    /// output's buffering, so nothing arrives late.
    pub lookahead: Duration,
    /// How often the conductor wakes to send strokes and read the engine's reports.
    pub tick: Duration,
    /// Identical cues inside this window play once (a pager storm is one stroke).
    pub coalesce_window: Duration,
    /// The most seconds ahead a cue may be scheduled.
    pub max_cue_delay: Duration,
    /// How far ahead of the frame clock a facilitator's command takes effect: more than
    /// the largest block an output renders at once.
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
            steer_ahead: Duration::from_millis(50),
            event_buffer: 1024,
        }
    }
}

/// When a cue should sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CueTime {
    /// As soon as possible: the next block.
    Now,
    /// At this engine frame.
    At(Frame),
    /// On the next beat of the running session's form.
    NextBeat,
    /// On the next gong of the running session's form.
    NextGong,
}

/// A request to strike an instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    /// The pack's instrument.
    pub instrument: String,
    /// Its variant (from 1), for pitched instruments.
    pub variant: Option<u32>,
    /// Level relative to the pack's, in dB.
    pub gain_db: f32,
    /// When.
    pub at: CueTime,
}

/// Identifies a cue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CueId(pub u64);

/// The answer to a cue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CueReceipt {
    /// The cue's id (for a coalesced cue: the id of the identical cue it joined).
    pub id: CueId,
    /// The engine frame it is scheduled for.
    pub frame: Frame,
    /// Seconds from now until it sounds.
    pub in_seconds: f64,
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
    /// Once a second of engine time: where the engine and the session are.
    Tick(Tick),
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
        reply: oneshot::Sender<Result<Snapshot, ConductorError>>,
    },
    Steer {
        command: SteerCommand,
        reply: oneshot::Sender<Result<Snapshot, ConductorError>>,
    },
    Snapshot {
        reply: oneshot::Sender<Option<Snapshot>>,
    },
    Cue {
        cue: Cue,
        reply: oneshot::Sender<Result<CueReceipt, ConductorError>>,
    },
    SetPack {
        pack: Arc<Pack>,
        reply: oneshot::Sender<()>,
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
    /// Starts a session of `plan` at `speed`, its buka from the next frames on.
    pub async fn start(&self, plan: ValidPlan, speed: Speed) -> Result<Snapshot, ConductorError> {
        self.ask(|reply| Request::Start { plan, speed, reply })
            .await?
    }

    /// Steers the running session.
    pub async fn steer(&self, command: SteerCommand) -> Result<Snapshot, ConductorError> {
        self.ask(|reply| Request::Steer { command, reply }).await?
    }

    /// The session as it is now, if there is (or was) one.
    pub async fn snapshot(&self) -> Result<Option<Snapshot>, ConductorError> {
        self.ask(|reply| Request::Snapshot { reply }).await
    }

    /// Strikes an instrument.
    pub async fn cue(&self, cue: Cue) -> Result<CueReceipt, ConductorError> {
        self.ask(|reply| Request::Cue { cue, reply }).await?
    }

    /// Makes `pack` the one strokes and cues use from now on.
    pub async fn set_pack(&self, pack: Arc<Pack>) -> Result<(), ConductorError> {
        self.ask(|reply| Request::SetPack { pack, reply }).await
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
    pack: Arc<Pack>,
    config: ConductorConfig,
    session: Option<Runner>,
    events: broadcast::Sender<Event>,
    cues: HashMap<VoiceId, (CueId, String, Option<u32>)>,
    /// Recently accepted cues: (key, accepted at frame, id, scheduled frame).
    recent: VecDeque<(CueKey, Frame, CueId, Frame)>,
    next_cue: u64,
    next_tick: Frame,
}

#[derive(Debug, Clone, PartialEq)]
struct CueKey {
    instrument: String,
    variant: Option<u32>,
    gain_db: f32,
}

impl Conductor {
    /// Starts the conductor on the current tokio runtime, owning `controller`. It runs
    /// until every handle is dropped.
    #[must_use]
    pub fn spawn(
        controller: Controller,
        pack: Arc<Pack>,
        config: ConductorConfig,
    ) -> ConductorHandle {
        let (requests, inbox) = mpsc::channel(256);
        let (events, _) = broadcast::channel(config.event_buffer.max(1));
        let clock = controller.clock();
        let conductor = Conductor {
            controller,
            pack,
            config,
            session: None,
            events: events.clone(),
            cues: HashMap::new(),
            recent: VecDeque::new(),
            next_cue: 1,
            next_tick: Frame::ZERO,
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
                        self.handle(request);
                        self.pump();
                    }
                    None => break,
                },
                _ = tick.tick() => self.pump(),
            }
        }
    }

    fn rate(&self) -> u32 {
        self.controller.sample_rate()
    }

    fn publish(&self, event: Event) {
        // No subscribers is fine: nobody is listening.
        let _ = self.events.send(event);
    }

    fn handle(&mut self, request: Request) {
        match request {
            Request::Start { plan, speed, reply } => {
                let _ = reply.send(self.start(plan, speed));
            }
            Request::Steer { command, reply } => {
                let _ = reply.send(self.steer(command));
            }
            Request::Snapshot { reply } => {
                // As of when a command sent now would take effect, so a client deciding
                // between pause and resume sees the effect of the command it just sent.
                let at = self.steer_frame();
                let _ = reply.send(self.session.as_ref().map(|s| s.snapshot(at)));
            }
            Request::Cue { cue, reply } => {
                let _ = reply.send(self.cue(cue));
            }
            Request::SetPack { pack, reply } => {
                self.pack = pack;
                let _ = reply.send(());
            }
        }
    }

    /// Where a command given now takes effect.
    fn steer_frame(&self) -> Frame {
        self.controller.now() + Frame::from_duration(self.config.steer_ahead, self.rate())
    }

    fn start(&mut self, plan: ValidPlan, speed: Speed) -> Result<Snapshot, ConductorError> {
        let now = self.controller.now();
        if let Some(session) = &self.session
            && !session.is_over(self.steer_frame())
        {
            return Err(ConductorError::SessionRunning(
                session.plan().name().to_owned(),
            ));
        }
        // Start a little ahead so the buka's first stroke is not late on any output.
        let origin = now + Frame::from_duration(self.config.lookahead / 2, self.rate());
        let options = TimelineOptions::new(self.rate()).with_speed(speed);
        let runner = Runner::new(plan, options, origin);
        self.publish(Event::Session(SessionEvent::SessionStarted {
            plan: runner.plan().name().to_owned(),
            segments: runner.plan().segments().len(),
            frame: origin,
        }));
        let snapshot = runner.snapshot(now);
        self.session = Some(runner);
        Ok(snapshot)
    }

    fn steer(&mut self, command: SteerCommand) -> Result<Snapshot, ConductorError> {
        // Steer a little ahead of the clock: the output may be rendering the block at
        // `now` already, and the strokes a command brings (a suwuk, the next segment's
        // first beat) must reach the engine before their frame is rendered to start on it.
        let at = self.steer_frame();
        let session = self.session.as_mut().ok_or(ConductorError::NoSession)?;
        let event = session.steer(command, at, &mut self.controller)?;
        let snapshot = session.snapshot(at);
        self.publish(Event::Session(event));
        Ok(snapshot)
    }

    fn cue(&mut self, cue: Cue) -> Result<CueReceipt, ConductorError> {
        let now = self.controller.now();
        let rate = self.rate();
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
        let frame = match cue.at {
            CueTime::Now => now,
            CueTime::At(frame) => {
                let tolerance = Frame::from_duration(super::runner::STALL_TOLERANCE, rate);
                if frame + tolerance < now {
                    return Err(ConductorError::BadTime(format!(
                        "frame {} has already been played (the clock is at {})",
                        frame.0, now.0
                    )));
                }
                if frame > now + Frame::from_duration(self.config.max_cue_delay, rate) {
                    return Err(ConductorError::BadTime(format!(
                        "frame {} is more than {} s ahead of the clock ({})",
                        frame.0,
                        self.config.max_cue_delay.as_secs(),
                        now.0
                    )));
                }
                frame.max(now)
            }
            CueTime::NextBeat | CueTime::NextGong => {
                let session = self.session.as_ref().ok_or(ConductorError::NoSession)?;
                let at = session.session_frame(now);
                let next = if cue.at == CueTime::NextBeat {
                    session.timeline().next_beat_after(at)
                } else {
                    session.timeline().next_gong_after(at)
                };
                let name = if cue.at == CueTime::NextBeat {
                    "beat"
                } else {
                    "gong"
                };
                session.origin() + next.ok_or(ConductorError::NoBeat(name))?
            }
        };
        let key = CueKey {
            instrument: cue.instrument.clone(),
            variant: cue.variant,
            gain_db: cue.gain_db,
        };
        let window = Frame::from_duration(self.config.coalesce_window, rate);
        while self
            .recent
            .front()
            .is_some_and(|(_, accepted, _, _)| *accepted + window < now)
        {
            self.recent.pop_front();
        }
        if let Some((_, _, id, scheduled)) = self
            .recent
            .iter()
            .find(|(k, _, _, scheduled)| *k == key && scheduled.0.abs_diff(frame.0) <= window.0)
        {
            return Ok(CueReceipt {
                id: *id,
                frame: *scheduled,
                in_seconds: scheduled.saturating_sub(now).as_seconds(rate),
                coalesced: true,
            });
        }
        let gain = instrument.gain() * 10f32.powf(cue.gain_db / 20.0);
        let voice = self.controller.play(sound.clone(), frame, gain)?;
        let id = CueId(self.next_cue);
        self.next_cue += 1;
        self.cues.insert(voice, (id, cue.instrument, cue.variant));
        self.recent.push_back((key, now, id, frame));
        Ok(CueReceipt {
            id,
            frame,
            in_seconds: frame.saturating_sub(now).as_seconds(rate),
            coalesced: false,
        })
    }

    fn pump(&mut self) {
        let now = self.controller.now();
        for event in self.controller.events() {
            if let EngineEvent::Started { id, frame, .. } = event
                && let Some((cue, instrument, variant)) = self.cues.remove(&id)
            {
                self.publish(Event::Cue(CueEvent::CuePlayed {
                    id: cue,
                    instrument,
                    variant,
                    frame,
                }));
                continue;
            }
            if let EngineEvent::Cancelled { id, .. } | EngineEvent::Rejected { id } = event {
                self.cues.remove(&id);
            }
            if let Some(session) = self.session.as_mut()
                && let Some(event) = session.on_engine_event(&event)
            {
                let _ = self.events.send(Event::Session(event));
            }
        }
        let lookahead = Frame::from_duration(self.config.lookahead, self.rate());
        if let Some(session) = self.session.as_mut() {
            for event in session.pump(now, lookahead, &mut self.controller, &self.pack) {
                let _ = self.events.send(Event::Session(event));
            }
        }
        if now >= self.next_tick {
            let rate = self.rate();
            self.next_tick = Frame((now.0 / u64::from(rate) + 1) * u64::from(rate));
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
            self.publish(Event::Tick(Tick {
                kind: "tick",
                frame: now,
                engine_seconds: now.as_seconds(rate),
                session,
            }));
        }
    }
}
