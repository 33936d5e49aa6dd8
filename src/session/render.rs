//! Offline render of a whole session into a WAV file: the same [`Runner`] as a live
//! session, driven by the WAV output's frame clock instead of a sound card.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;

use super::clock::SessionClock;
use super::event::SessionEvent;
use super::plan::ValidPlan;
use super::record::{Actor, SessionId};
use super::runner::{Runner, SteerCommand, SteerError};
use super::timeline::{Instrument, State, StrokeKind, TimelineOptions};
use crate::audio::output::{OutputError, WavOutput};
use crate::audio::{EngineConfig, Frame, HostTime, engine};
use crate::pack::Pack;

/// How to render.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Timeline options: sample rate (must be the pack's) and speed.
    pub timeline: TimelineOptions,
    /// Frames per block (any size gives the same samples).
    pub block_frames: usize,
    /// The longest the last strokes may ring after the session's end.
    pub max_tail: Duration,
    /// Steering at session-relative frames, as a facilitator would (tests, previews).
    pub steering: Vec<(Frame, SteerCommand)>,
}

impl RenderOptions {
    /// Defaults for `timeline`: 1024-frame blocks, up to 30 s of ring-out, no steering.
    #[must_use]
    pub fn new(timeline: TimelineOptions) -> RenderOptions {
        RenderOptions {
            timeline,
            block_frames: 1024,
            max_tail: Duration::from_secs(30),
            steering: Vec::new(),
        }
    }
}

/// One stroke as rendered: where the engine actually started it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderedStroke {
    /// Frame of its first sample in the file.
    pub frame: Frame,
    /// The same in seconds.
    pub seconds: f64,
    /// What was struck.
    pub instrument: Instrument,
    /// Which pitch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<u8>,
    /// The plan segment.
    pub segment: usize,
    /// Its title.
    pub title: String,
    /// Why it sounded.
    pub kind: StrokeKind,
}

/// What a render produced.
#[derive(Debug, Clone, Serialize)]
pub struct RenderReport {
    /// Frames written.
    pub frames: Frame,
    /// The sample rate.
    pub sample_rate: u32,
    /// Every stroke, in order.
    pub strokes: Vec<RenderedStroke>,
    /// Every session event (segments, steering, the end).
    #[serde(skip)]
    pub events: Vec<SessionEvent>,
}

/// Why a render failed.
#[derive(Debug, Error)]
pub enum RenderError {
    /// The pack was loaded for another rate.
    #[error("the pack is at {pack} Hz but the render is at {render} Hz")]
    RateMismatch {
        /// The pack's rate.
        pack: u32,
        /// The render's.
        render: u32,
    },
    /// The session does not fit in a WAV file.
    #[error(
        "the session lasts {seconds} s but a float WAV holds at most {max} s; \
         render it faster with --speed"
    )]
    TooLong {
        /// The session's planned length.
        seconds: u64,
        /// What fits.
        max: u64,
    },
    /// Writing failed.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// A scripted steering command was refused.
    #[error("steering at frame {frame}: {source}")]
    Steer {
        /// Where.
        frame: Frame,
        /// Why.
        source: SteerError,
    },
}

/// Renders `plan` with `pack` into `path` (or, with `None`, renders and discards the
/// samples — for timing checks of sessions too long to store), as fast as the CPU allows, calling `progress`
/// with the frames rendered so far and the planned end (for a progress display).
///
/// `wait` segments cannot wait for a facilitator offline: the render holds each one
/// until its first overtime reminder has sounded, then moves on as `next` would.
pub fn render_session(
    plan: &ValidPlan,
    pack: &Pack,
    path: Option<&Path>,
    options: &RenderOptions,
    progress: &mut dyn FnMut(Frame, Frame),
) -> Result<RenderReport, RenderError> {
    let rate = options.timeline.sample_rate;
    if let Some(sound) = pack.instruments().find_map(|i| i.sounds().first()) {
        if sound.sample_rate() != rate {
            return Err(RenderError::RateMismatch {
                pack: sound.sample_rate(),
                render: rate,
            });
        }
    }
    let (mut controller, renderer) = engine(EngineConfig {
        sample_rate: rate,
        ..EngineConfig::default()
    });
    // Offline, time *is* frames: the session's clock and the engine's run on the same
    // virtual host clock (frames as nanoseconds), so every stroke lands on its exact frame.
    let clock = SessionClock::offline(rate);
    let id = SessionId::new(clock.utc_of(Frame::ZERO), 0);
    let mut runner = Runner::new(id, plan.clone(), options.timeline, clock);
    let instant = |frame: Frame| {
        HostTime::from_nanos((u128::from(frame.0) * 1_000_000_000 / u128::from(rate)) as u64)
    };
    let mut wav = match path {
        Some(path) => {
            let planned = runner.timeline().planned_end().0;
            if planned > WavOutput::max_frames() {
                return Err(RenderError::TooLong {
                    seconds: planned / u64::from(rate),
                    max: WavOutput::max_frames() / u64::from(rate),
                });
            }
            WavOutput::create(path, renderer, options.block_frames)?
        }
        None => WavOutput::discard(renderer, options.block_frames),
    };
    let mut steering = options.steering.clone();
    steering.sort_by_key(|(frame, _)| *frame);
    let mut steering = steering.into_iter().peekable();
    // Strokes are sent one window ahead of the render position, like a live session's
    // look-ahead; a second keeps the engine's schedule small.
    let window = Duration::from_secs(1);
    let window_frames = Frame(u64::from(rate));
    let tail = Frame::from_duration(options.max_tail, rate);
    let mut report = RenderReport {
        frames: Frame::ZERO,
        sample_rate: rate,
        strokes: Vec::new(),
        events: Vec::new(),
    };
    let by = Actor::new("render").expect("a valid actor name");
    loop {
        let now = wav.position();
        while let Some((_, command)) = steering.next_if(|(frame, _)| *frame <= now) {
            let event = runner
                .steer(command, instant(now), &by, &mut controller)
                .map_err(|source| RenderError::Steer { frame: now, source })?;
            report.events.push(event);
        }
        if let Some(next) = overtime_release(&runner, now) {
            if next <= now {
                let event = runner
                    .steer(SteerCommand::Next, instant(now), &by, &mut controller)
                    .map_err(|source| RenderError::Steer { frame: now, source })?;
                report.events.push(event);
            }
        }
        report
            .events
            .extend(runner.pump(instant(now), window, &mut controller, pack));
        let mut until = now + window_frames;
        if let Some((frame, _)) = steering.peek() {
            until = until.min(*frame).max(now + Frame(1));
        }
        if let Some(release) = overtime_release(&runner, now).filter(|r| *r > now) {
            until = until.min(release);
        }
        if let Some(end) = runner.timeline().end() {
            // Strictly after the end: the final gong has been rendered, not just sent.
            if now > end && (wav.active_voices() == 0 || now >= end + tail) {
                break;
            }
            if now < end {
                until = until.min(end);
            } else {
                until = until.min(end + tail);
            }
        }
        wav.render_until(until)?;
        progress(
            until,
            runner
                .timeline()
                .end()
                .unwrap_or(runner.timeline().planned_end()),
        );
        for event in controller.events() {
            if let Some(SessionEvent::Stroke {
                frame,
                at,
                instrument,
                variant,
                segment,
                kind,
                ..
            }) = runner.on_engine_event(&event)
            {
                report.strokes.push(RenderedStroke {
                    frame,
                    seconds: at.seconds,
                    instrument,
                    variant,
                    segment,
                    title: plan.segments()[segment].title().to_owned(),
                    kind,
                });
            }
        }
    }
    report.frames = wav.finish()?;
    Ok(report)
}

/// Where the render moves on from a `wait` segment holding in overtime: half a second
/// after its first overtime reminder.
fn overtime_release(runner: &Runner, now: Frame) -> Option<Frame> {
    let timeline = runner.timeline();
    let at = now;
    let position = timeline.position_at(at);
    let run = timeline.runs().get(position.run)?;
    let waits_here = position.state == State::Overtime
        || (position.state == State::Running && run.end.is_none() && run.deadline > at);
    if !waits_here {
        return None;
    }
    let reminder = timeline
        .strokes()
        .iter()
        .find(|s| s.run == position.run && s.kind == StrokeKind::Overtime)?;
    Some(reminder.frame + Frame(u64::from(timeline.sample_rate()) / 2))
}
