//! The engine: a [`Controller`] on the control side and a [`Renderer`] on the audio side,
//! joined only by wait-free ring buffers and atomics.
//!
//! The mix goes out through a master [`Volume`]: the renderer ramps to each new gain over
//! [`VOLUME_RAMP_MS`] (a step in gain is a click), on the sum of the voices and before the
//! limiter, so a louder volume is still caught by the limiter and a muted engine renders
//! silence while every voice plays on and reports as usual.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rtrb::{Consumer, Producer, PushError, RingBuffer};
use serde::Serialize;
use thiserror::Error;

use self::history::{History, Mark};
use super::frame::Frame;
use super::host_time::HostTime;
use super::limiter::Limiter;
use super::output_clock::{Observation, OutputClock, TimingPoint};
use super::sound::Sound;
use super::voice::{FadeReason, Voice, VoiceEnd};

mod history;
#[cfg(test)]
mod test;
mod volume;

pub use volume::{Volume, VolumeChange, VolumeDb, VolumeError};

/// How long the renderer takes to move to a new master volume: long enough that the step
/// is not heard as a click, short enough that a mute is immediate to the ear.
pub const VOLUME_RAMP_MS: u32 = 10;

/// How an engine is sized. Everything the renderer needs is allocated up front from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// Frames per second of the frame clock and of every sound played.
    pub sample_rate: u32,
    /// Voices that may sound at once; past this the quietest (then oldest) is faded out.
    pub max_voices: usize,
    /// Voices that may wait for their start frame at once.
    pub max_scheduled: usize,
    /// Capacity of the command and report queues.
    pub queue_capacity: usize,
    /// Length of the quick fade used when a voice is stolen or cancelled, in milliseconds.
    pub fade_ms: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            sample_rate: super::DEFAULT_SAMPLE_RATE,
            max_voices: 64,
            max_scheduled: 1024,
            queue_capacity: 1024,
            fade_ms: 5,
        }
    }
}

/// Identifies one scheduled sound, from `play` until it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct VoiceId(pub u64);

/// What the renderer reports back to the control side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EngineEvent {
    /// The voice's first frame was rendered at `frame`: the `requested` frame, or the start
    /// of the block it arrived in when it arrived too late for that.
    Started {
        /// The voice.
        id: VoiceId,
        /// Where it actually started.
        frame: Frame,
        /// Where it was scheduled.
        requested: Frame,
    },
    /// The voice played its sound to the end.
    Finished {
        /// The voice.
        id: VoiceId,
        /// The first frame after its last sample.
        frame: Frame,
    },
    /// The voice was faded out to make room under the voice cap.
    Stolen {
        /// The voice.
        id: VoiceId,
        /// Where its fade-out began.
        frame: Frame,
    },
    /// The control side cancelled the voice before or while it played.
    Cancelled {
        /// The voice.
        id: VoiceId,
        /// Where it was removed or began fading out.
        frame: Frame,
    },
    /// Too many voices were waiting for their start frame; this one was dropped.
    Rejected {
        /// The voice.
        id: VoiceId,
    },
    /// The voice's frame would have been heard after its `latest` instant (the output
    /// stalled after it was scheduled): it was dropped instead of played late.
    Missed {
        /// The voice.
        id: VoiceId,
        /// Where it was scheduled.
        requested: Frame,
    },
    /// The control side withdrew the voice before it started (see
    /// [`Controller::withdraw`]).
    Withdrawn {
        /// The voice.
        id: VoiceId,
    },
}

/// Why the control side could not send a command.
#[derive(Debug, Error, PartialEq)]
pub enum EngineError {
    /// The command queue is full: the renderer is not running or is far behind.
    #[error("the audio engine's command queue is full")]
    QueueFull,
    /// A sound decoded for another sample rate would play at the wrong pitch.
    #[error("the sound is at {sound} Hz but the engine runs at {engine} Hz")]
    RateMismatch {
        /// The sound's rate.
        sound: u32,
        /// The engine's rate.
        engine: u32,
    },
    /// Gains must be finite and not negative.
    #[error("gain {0} is not a finite, non-negative number")]
    InvalidGain(f32),
}

enum Command {
    Play {
        id: VoiceId,
        sound: Arc<Sound>,
        at: Frame,
        gain: f32,
        latest: Option<HostTime>,
    },
    Cancel(VoiceId),
    Withdraw(VoiceId),
    /// Ramp the master gain to this linear value.
    Volume(f32),
}

/// A message from the renderer. A sound the renderer is done with travels back in it, so
/// that the last reference to a sound is never dropped (freed) on the audio thread.
struct Report {
    event: Option<EngineEvent>,
    retired: Option<Arc<Sound>>,
}

/// State both sides read: the frame clock and counters.
#[derive(Debug, Default)]
struct Shared {
    position: AtomicU64,
    lost_reports: AtomicU64,
}

/// A read-only view of an engine's frame clock, cheap to clone and share between tasks.
#[derive(Debug, Clone)]
pub struct FrameClock {
    shared: Arc<Shared>,
    sample_rate: u32,
}

impl FrameClock {
    /// Frames rendered so far: the frame the next block starts at.
    #[must_use]
    pub fn now(&self) -> Frame {
        Frame(self.shared.position.load(Ordering::Acquire))
    }

    /// The clock's rate in frames per second.
    #[must_use]
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }
}

/// Builds an engine: the control side and the renderer, to be handed to an output.
#[must_use]
pub fn engine(config: EngineConfig) -> (Controller, Renderer) {
    let (commands, command_rx) = RingBuffer::new(config.queue_capacity.max(1));
    // Room for a report per command and per voice ending, so reports are rarely lost.
    let report_capacity = 2 * config.queue_capacity + config.max_scheduled + config.max_voices;
    let (report_tx, reports) = RingBuffer::new(report_capacity.max(1));
    // A timing point per block; the control side drains them every few milliseconds.
    let (timing_tx, timing) = RingBuffer::new(TIMING_CAPACITY);
    let shared = Arc::new(Shared::default());
    // Fading voices need slots beyond the cap, so a stolen voice can fade while its
    // replacement starts.
    let voice_slots = config.max_voices + config.max_voices.div_ceil(4).max(1);
    let controller = Controller {
        commands,
        reports,
        timing,
        output_clock: OutputClock::new(config.sample_rate),
        clock: FrameClock {
            shared: shared.clone(),
            sample_rate: config.sample_rate,
        },
        next_id: 0,
        volume: Volume::default(),
        rewriting: None,
    };
    let renderer = Renderer {
        commands: command_rx,
        reports: report_tx,
        timing: timing_tx,
        block_heard: None,
        shared,
        position: 0,
        max_voices: config.max_voices.max(1),
        fade_frames: (u64::from(config.fade_ms) * u64::from(config.sample_rate) / 1000).max(1)
            as u32,
        voices: Vec::with_capacity(voice_slots),
        scheduled: Vec::with_capacity(config.max_scheduled.max(1)),
        retired: Vec::with_capacity(voice_slots + config.max_scheduled.max(1)),
        limiter: Limiter::new(config.sample_rate),
        master: MasterGain::new(config.sample_rate),
        sample_rate: config.sample_rate,
        history: None,
        commands_taken_at: None,
    };
    (controller, renderer)
}

/// Timing points the ring holds: seconds of the smallest blocks an output renders.
const TIMING_CAPACITY: usize = 1024;

/// The control side of an engine: schedules and cancels sounds, reads the frame clock and
/// what the renderer reports, and keeps the [`OutputClock`] that says when each frame is
/// heard. Not shared between threads by itself; wrap it if needed.
pub struct Controller {
    commands: Producer<Command>,
    reports: Consumer<Report>,
    timing: Consumer<TimingPoint>,
    output_clock: OutputClock,
    clock: FrameClock,
    next_id: u64,
    /// The volume last sent to the renderer.
    volume: Volume,
    /// Set by an output that can overwrite audio it already handed on.
    rewriting: Option<Rewriting>,
}

/// How an output that rewrites queued audio (see [`Renderer::rewrite`]) wants to be used.
struct Rewriting {
    /// How long before a frame is heard the output can still change it.
    lead: Duration,
    /// Tells the output that a sound was scheduled inside audio it has handed on.
    wake: Box<dyn Fn() + Send>,
}

impl Controller {
    /// Schedules `sound` to start exactly at frame `at` with a linear `gain`.
    ///
    /// A frame already rendered starts at the beginning of the next block (for an output
    /// that rewrites, at the first frame it can still change), and the
    /// [`EngineEvent::Started`] report says so; callers that must not play late sounds
    /// (a session after a stall) check [`Controller::earliest_frame`] first.
    pub fn play(
        &mut self,
        sound: Arc<Sound>,
        at: Frame,
        gain: f32,
    ) -> Result<VoiceId, EngineError> {
        self.play_by(sound, at, gain, None)
    }

    /// Like [`Controller::play`], but a voice that an output would make heard after
    /// `latest` (it stalled after the voice was scheduled) is dropped and reported as
    /// [`EngineEvent::Missed`] instead of played late. Offline renders never miss.
    pub fn play_by(
        &mut self,
        sound: Arc<Sound>,
        at: Frame,
        gain: f32,
        latest: Option<HostTime>,
    ) -> Result<VoiceId, EngineError> {
        if sound.sample_rate() != self.clock.sample_rate {
            return Err(EngineError::RateMismatch {
                sound: sound.sample_rate(),
                engine: self.clock.sample_rate,
            });
        }
        if !gain.is_finite() || gain < 0.0 {
            return Err(EngineError::InvalidGain(gain));
        }
        let id = VoiceId(self.next_id);
        self.commands
            .push(Command::Play {
                id,
                sound,
                at,
                gain,
                latest,
            })
            .map_err(|_| EngineError::QueueFull)?;
        self.next_id += 1;
        if let Some(rewriting) = &self.rewriting
            && at < self.now()
        {
            (rewriting.wake)();
        }
        Ok(id)
    }

    /// Stops a voice: removed if it has not started, faded out quickly if it is playing,
    /// ignored if it has already ended.
    pub fn cancel(&mut self, id: VoiceId) -> Result<(), EngineError> {
        self.commands
            .push(Command::Cancel(id))
            .map_err(|_| EngineError::QueueFull)
    }

    /// Takes back a voice that has not started yet; one that has started plays on. The
    /// renderer answers with [`EngineEvent::Withdrawn`] or, if it was too late,
    /// [`EngineEvent::Started`] — so a caller that re-schedules withdrawn voices (after
    /// the output's clock re-anchored) never plays one twice.
    pub fn withdraw(&mut self, id: VoiceId) -> Result<(), EngineError> {
        self.commands
            .push(Command::Withdraw(id))
            .map_err(|_| EngineError::QueueFull)
    }

    /// Sets the master volume: the renderer ramps to it over [`VOLUME_RAMP_MS`] from the
    /// next block on. Voices keep playing (and reporting) whatever the volume, muted too.
    pub fn set_volume(&mut self, volume: Volume) -> Result<(), EngineError> {
        self.commands
            .push(Command::Volume(volume.gain()))
            .map_err(|_| EngineError::QueueFull)?;
        self.volume = volume;
        Ok(())
    }

    /// The master volume last set (the renderer may still be ramping to it).
    #[must_use]
    pub fn volume(&self) -> Volume {
        self.volume
    }

    /// Frames rendered so far: where the next block starts (and, except for an output
    /// that rewrites, the earliest frame a sound can still start at).
    #[must_use]
    pub fn now(&self) -> Frame {
        self.clock.now()
    }

    /// For an output that can still change audio it has handed on until `lead` before it
    /// is heard (see [`Renderer::rewrite`]): sounds may then be scheduled inside that
    /// audio, and `wake` is called after each one is, so the output rewrites at once.
    pub fn set_rewriting(&mut self, lead: Duration, wake: impl Fn() + Send + 'static) {
        self.rewriting = Some(Rewriting {
            lead,
            wake: Box::new(wake),
        });
    }

    /// The earliest frame a sound scheduled now can start at: the next one to be rendered,
    /// or for an output that rewrites, the first it can still change.
    #[must_use]
    pub fn earliest_frame(&self) -> Frame {
        let rendered = self.now();
        match &self.rewriting {
            Some(rewriting) => self
                .output_clock
                .frame_at(HostTime::now() + rewriting.lead)
                .map_or(rendered, |frame| frame.min(rendered)),
            None => rendered,
        }
    }

    /// A shareable read-only handle on the frame clock.
    #[must_use]
    pub fn clock(&self) -> FrameClock {
        self.clock.clone()
    }

    /// The engine's sample rate.
    #[must_use]
    pub fn sample_rate(&self) -> u32 {
        self.clock.sample_rate
    }

    /// Reports the renderer could not deliver because the report queue was full.
    #[must_use]
    pub fn lost_reports(&self) -> u64 {
        self.clock.shared.lost_reports.load(Ordering::Relaxed)
    }

    /// Takes the output's timing reports into the [`OutputClock`]. Returns how far the
    /// mapping jumped (nanoseconds, later positive) if a stall or a restarted stream made it
    /// re-anchor: what was scheduled by the old mapping should then be scheduled again.
    pub fn sync_clock(&mut self) -> Option<i64> {
        let mut jump = None;
        while let Ok(point) = self.timing.pop() {
            if let Observation::Reanchored { jump: by } = self.output_clock.observe(point) {
                jump = Some(by);
            }
        }
        jump
    }

    /// The mapping between this engine's frames and the host instants they are heard at,
    /// as of the last [`Controller::sync_clock`].
    #[must_use]
    pub fn output_clock(&self) -> &OutputClock {
        &self.output_clock
    }

    /// The frame to schedule a sound at so that it is heard at `instant`, or `None` when
    /// that frame has already been rendered (the moment has passed for this output).
    #[must_use]
    pub fn frame_for(&self, instant: HostTime) -> Option<Frame> {
        self.output_clock
            .frame_at(instant)
            .filter(|frame| *frame >= self.earliest_frame())
    }

    /// When the [earliest frame](Controller::earliest_frame) will be heard: the earliest a
    /// sound scheduled now can sound.
    #[must_use]
    pub fn earliest_heard(&self) -> HostTime {
        self.output_clock.heard_at(self.earliest_frame())
    }

    /// Takes every report the renderer has sent since the last call, in order, and frees
    /// the sounds it has finished with. Call it regularly.
    pub fn events(&mut self) -> Vec<EngineEvent> {
        let mut events = Vec::new();
        while let Ok(report) = self.reports.pop() {
            events.extend(report.event);
            drop(report.retired);
        }
        events
    }
}

/// The audio side of an engine: renders interleaved stereo blocks.
///
/// `render` never allocates, locks or does I/O, so it is safe to call from a real-time
/// audio callback; everything it needs was allocated by [`engine`].
pub struct Renderer {
    commands: Consumer<Command>,
    reports: Producer<Report>,
    timing: Producer<TimingPoint>,
    /// When the current block's first frame is heard, for a live output.
    block_heard: Option<HostTime>,
    shared: Arc<Shared>,
    position: u64,
    max_voices: usize,
    fade_frames: u32,
    voices: Vec<Voice>,
    scheduled: Vec<Scheduled>,
    retired: Vec<Arc<Sound>>,
    limiter: Limiter,
    master: MasterGain,
    sample_rate: u32,
    /// Kept for an output that can overwrite audio it handed on; `None` otherwise.
    history: Option<History>,
    /// Where [`Renderer::rewrite`] last took the controller's commands. The block rendered
    /// from there takes none: a sound scheduled in between would start late, at that
    /// block's first frame, and the output's next rewrite would find nothing to place. Left
    /// queued, the next rewrite starts it on its own frame.
    commands_taken_at: Option<u64>,
}

/// The master gain as the renderer applies it, moving linearly to each new target.
#[derive(Clone)]
struct MasterGain {
    current: f32,
    target: f32,
    /// Added to `current` each frame while ramping.
    step: f32,
    /// Frames left in the ramp; at 0 `current` is exactly `target`.
    ramp_left: u32,
    ramp_frames: u32,
}

impl MasterGain {
    fn new(sample_rate: u32) -> MasterGain {
        MasterGain {
            current: 1.0,
            target: 1.0,
            step: 0.0,
            ramp_left: 0,
            ramp_frames: (u64::from(VOLUME_RAMP_MS) * u64::from(sample_rate) / 1000).max(1) as u32,
        }
    }

    /// Ramps from wherever the gain is now (mid-ramp too) to `target`.
    fn set(&mut self, target: f32) {
        self.target = target;
        self.ramp_left = self.ramp_frames;
        self.step = (target - self.current) / self.ramp_frames as f32;
    }

    /// Scales an interleaved stereo block in place. At unity and not ramping the block is
    /// left untouched, bit for bit.
    fn apply(&mut self, block: &mut [f32]) {
        if self.ramp_left == 0 {
            if self.current != 1.0 {
                let gain = self.current;
                block.iter_mut().for_each(|s| *s *= gain);
            }
            return;
        }
        for frame in block.chunks_exact_mut(2) {
            let gain = self.next();
            frame[0] *= gain;
            frame[1] *= gain;
        }
    }

    /// Moves on by `frames` as [`MasterGain::apply`] would, without a block.
    fn advance(&mut self, frames: u64) {
        for _ in 0..frames.min(u64::from(self.ramp_left)) {
            self.next();
        }
    }

    /// The gain of the next frame.
    fn next(&mut self) -> f32 {
        if self.ramp_left > 0 {
            self.ramp_left -= 1;
            // The last step lands exactly on the target, free of rounding drift.
            self.current = if self.ramp_left == 0 {
                self.target
            } else {
                self.current + self.step
            };
        }
        self.current
    }
}

struct Scheduled {
    id: VoiceId,
    sound: Arc<Sound>,
    at: Frame,
    gain: f32,
    latest: Option<HostTime>,
}

impl Renderer {
    /// The frame the next block starts at.
    #[must_use]
    pub fn position(&self) -> Frame {
        Frame(self.position)
    }

    /// The engine's sample rate.
    #[must_use]
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Keeps the last `frames` of the mix, so that [`Renderer::rewrite`] can change audio
    /// already rendered but not yet heard. Allocates: call it before the stream runs.
    pub fn keep_history(&mut self, frames: usize) {
        self.history = Some(History::new(frames, self.position));
    }

    /// Starts the sounds that became due inside audio already rendered, no earlier than
    /// `earliest`, and writes the frames that changed — from the returned frame up to
    /// [`Renderer::position`] — into the start of `out` (interleaved stereo). `None` when
    /// nothing was due there. Real-time safe like [`Renderer::render`].
    ///
    /// # Panics
    /// If `out` holds fewer than twice the frames given to [`Renderer::keep_history`].
    pub fn rewrite(&mut self, earliest: Frame, out: &mut [f32]) -> Option<Frame> {
        let capacity = self.history.as_ref()?.capacity();
        assert!(out.len() >= 2 * capacity, "rewrite: `out` too short");
        self.take_commands();
        self.commands_taken_at = Some(self.position);
        let history = self.history.as_ref()?;
        let end = self.position;
        let floor = history.earliest()?.max(earliest.0);
        // The first frame a due sound can start at; nothing due, nothing to rewrite.
        let from = self
            .scheduled
            .iter()
            .filter(|s| s.at.0 < end)
            .map(|s| s.at.0.max(floor))
            .min()
            .filter(|from| *from < end)?;
        let mark = history.mark_before(from)?.clone();
        let (mut limiter, mut master) = (mark.limiter, mark.master);
        // The gain and limiter as they stood at `from`: run again over the kept mix.
        let lead_in = &mut out[..2 * (from - mark.frame) as usize];
        history.read(mark.frame, lead_in);
        limiter.process(lead_in);
        master.advance(from - mark.frame);
        let at_from = Mark {
            frame: from,
            limiter: limiter.clone(),
            master: master.clone(),
        };
        // The new sounds alone, through the gain as it was...
        let block = &mut out[..2 * (end - from) as usize];
        block.fill(0.0);
        self.start_inside(from, end, block);
        master.apply(block);
        // ...added to the kept mix, and the sum limited again: the frames to hand on.
        let history = self.history.as_mut().expect("checked above");
        history.add(from, block);
        history.read(from, block);
        limiter.process(block);
        history.remark(at_from);
        self.limiter = limiter;
        Some(Frame(from))
    }

    /// Starts every scheduled sound due before `end` inside the already rendered frames
    /// `[from, end)`, rendering them alone into `block` (which starts at `from`); they play
    /// on from `end` in the next blocks.
    fn start_inside(&mut self, from: u64, end: u64, block: &mut [f32]) {
        while let Some(i) = self.scheduled.iter().position(|s| s.at.0 < end) {
            let s = self.scheduled.remove(i);
            let start = s.at.0.max(from);
            let mut voice = self.start_voice(s, start, (start - from) as usize);
            match voice.render(block) {
                VoiceEnd::Playing => self.voices.push(voice),
                VoiceEnd::Finished(at) => {
                    let event = EngineEvent::Finished {
                        id: voice.id,
                        frame: Frame(from + at as u64),
                    };
                    self.report(Some(event), Some(voice.sound));
                }
                VoiceEnd::Faded(_, _) => self.report(None, Some(voice.sound)),
            }
        }
    }

    /// Voices sounding now (including ones fading out).
    #[must_use]
    pub fn active_voices(&self) -> usize {
        self.voices.len()
    }

    /// Renders the next block for a live output whose first frame will be heard at
    /// `heard`: reports that timing point to the control side's [`OutputClock`], and drops
    /// voices that would now be heard after their `latest` instant (see
    /// [`Controller::play_by`]). Real-time safe like [`Renderer::render`].
    pub fn render_heard(&mut self, block: &mut [f32], heard: HostTime) {
        // A full ring means nobody is reading; the newest points matter less than never
        // blocking here.
        let _ = self.timing.push(TimingPoint {
            frame: Frame(self.position),
            heard,
        });
        self.block_heard = Some(heard);
        self.render(block);
        self.block_heard = None;
    }

    /// Renders the next `block.len() / 2` frames into `block` (interleaved stereo),
    /// overwriting it, and advances the frame clock by that many frames.
    pub fn render(&mut self, block: &mut [f32]) {
        let frames = block.len() / 2;
        block.fill(0.0);
        self.send_retired();
        if self.commands_taken_at.take() != Some(self.position) {
            self.take_commands();
        }
        self.start_due(frames);
        let block = &mut block[..2 * frames];
        let mut i = 0;
        while i < self.voices.len() {
            let end = self.voices[i].render(block);
            let (at, event) = match end {
                VoiceEnd::Playing => {
                    i += 1;
                    continue;
                }
                VoiceEnd::Finished(at) => (at, true),
                VoiceEnd::Faded(at, _) => (at, false),
            };
            let voice = self.voices.swap_remove(i);
            let event = event.then_some(EngineEvent::Finished {
                id: voice.id,
                frame: Frame(self.position + at as u64),
            });
            self.report(event, Some(voice.sound));
        }
        if let Some(history) = self.history.as_mut() {
            history.mark(self.position, &self.limiter, &self.master);
        }
        self.master.apply(block);
        if let Some(history) = self.history.as_mut() {
            history.record(block);
        }
        self.limiter.process(block);
        self.position += frames as u64;
        self.shared.position.store(self.position, Ordering::Release);
    }

    fn take_commands(&mut self) {
        while let Ok(command) = self.commands.pop() {
            match command {
                Command::Play {
                    id,
                    sound,
                    at,
                    gain,
                    latest,
                } => {
                    if self.scheduled.len() < self.scheduled.capacity() {
                        self.scheduled.push(Scheduled {
                            id,
                            sound,
                            at,
                            gain,
                            latest,
                        });
                    } else {
                        self.report(Some(EngineEvent::Rejected { id }), Some(sound));
                    }
                }
                Command::Cancel(id) => self.cancel(id),
                Command::Volume(gain) => self.master.set(gain),
                Command::Withdraw(id) => {
                    if let Some(i) = self.scheduled.iter().position(|s| s.id == id) {
                        let scheduled = self.scheduled.swap_remove(i);
                        self.report(Some(EngineEvent::Withdrawn { id }), Some(scheduled.sound));
                    }
                }
            }
        }
    }

    fn cancel(&mut self, id: VoiceId) {
        let frame = Frame(self.position);
        if let Some(i) = self.scheduled.iter().position(|s| s.id == id) {
            let scheduled = self.scheduled.swap_remove(i);
            self.report(
                Some(EngineEvent::Cancelled { id, frame }),
                Some(scheduled.sound),
            );
        } else if let Some(voice) = self.voices.iter_mut().find(|v| v.id == id) {
            if !voice.is_fading() {
                voice.fade_out(self.fade_frames, FadeReason::Cancelled);
                self.report(Some(EngineEvent::Cancelled { id, frame }), None);
            }
        }
    }

    /// Starts every scheduled voice whose frame falls before the end of this block, at its
    /// exact offset inside the block.
    fn start_due(&mut self, frames: usize) {
        let block_end = self.position + frames as u64;
        // `remove` (not `swap_remove`) keeps voices due together in the order they were
        // scheduled, so reports come back in that order too.
        while let Some(i) = self.scheduled.iter().position(|s| s.at.0 < block_end) {
            let s = self.scheduled.remove(i);
            let start = s.at.0.max(self.position);
            if let (Some(heard), Some(latest)) = (self.block_heard, s.latest) {
                let offset = (start - self.position) * 1_000_000_000 / u64::from(self.sample_rate);
                if heard.as_nanos().saturating_add(offset) > latest.as_nanos() {
                    let event = EngineEvent::Missed {
                        id: s.id,
                        requested: s.at,
                    };
                    self.report(Some(event), Some(s.sound));
                    continue;
                }
            }
            let voice = self.start_voice(s, start, (start - self.position) as usize);
            self.voices.push(voice);
        }
    }

    /// Makes room for `s` and reports it started at frame `start`, `delay` frames into the
    /// block it is about to be rendered into.
    fn start_voice(&mut self, s: Scheduled, start: u64, delay: usize) -> Voice {
        self.make_room();
        self.report(
            Some(EngineEvent::Started {
                id: s.id,
                frame: Frame(start),
                requested: s.at,
            }),
            None,
        );
        Voice::new(s.id, s.sound, s.gain, start, delay)
    }

    /// Keeps the number of sounding voices under the cap: the quietest (then oldest)
    /// voice fades out quickly, and if every slot is taken the voice nearest the end of its
    /// fade is dropped outright.
    fn make_room(&mut self) {
        let sounding = self.voices.iter().filter(|v| !v.is_fading()).count();
        if sounding >= self.max_voices {
            let victim = self
                .voices
                .iter_mut()
                .filter(|v| !v.is_fading())
                .min_by(|a, b| {
                    a.level()
                        .total_cmp(&b.level())
                        .then(a.started.cmp(&b.started))
                });
            if let Some(victim) = victim {
                victim.fade_out(self.fade_frames, FadeReason::Stolen);
                let event = EngineEvent::Stolen {
                    id: victim.id,
                    frame: Frame(self.position),
                };
                self.report(Some(event), None);
            }
        }
        if self.voices.len() == self.voices.capacity() {
            let nearest_silence = self
                .voices
                .iter()
                .enumerate()
                .min_by_key(|(_, v)| v.fade_remaining())
                .map(|(i, _)| i);
            if let Some(i) = nearest_silence {
                let voice = self.voices.swap_remove(i);
                self.report(None, Some(voice.sound));
            }
        }
    }

    /// Sends a report without blocking. If the queue is full the event is counted as lost
    /// and the sound is kept for later, so it is still not freed here.
    fn report(&mut self, event: Option<EngineEvent>, retired: Option<Arc<Sound>>) {
        if let Err(PushError::Full(report)) = self.reports.push(Report { event, retired }) {
            if report.event.is_some() {
                self.shared.lost_reports.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(sound) = report.retired {
                self.retire(sound);
            }
        }
    }

    fn retire(&mut self, sound: Arc<Sound>) {
        if self.retired.len() < self.retired.capacity() {
            self.retired.push(sound);
        } else {
            // Unreachable by construction (the stash holds every sound the renderer can own);
            // leaking beats freeing on the audio thread.
            std::mem::forget(sound);
        }
    }

    fn send_retired(&mut self) {
        while let Some(sound) = self.retired.pop() {
            if let Err(PushError::Full(report)) = self.reports.push(Report {
                event: None,
                retired: Some(sound),
            }) {
                self.retired.extend(report.retired);
                break;
            }
        }
    }
}
