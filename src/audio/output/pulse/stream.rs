//! Playing one PulseAudio stream: answering the server's requests with the engine's audio,
//! rewriting queued audio when a cue is scheduled inside it, keeping track of the server's
//! read index, and watching that the server still asks for audio.
//!
//! The loop never blocks on the server: a latency report is asked for every
//! [`POLL_EVERY`], and its answer handled when it comes (matched by its number). A nudge
//! rewrites at once, from the read index as those reports place it now plus
//! [`REWRITE_MARGIN`], so that the sink is not already taking what we overwrite. (Asking
//! for a fresh read index first was tried: on a busy machine its answer could come after
//! the next request for audio, which then started the cue at the end of the queue, 20 ms
//! late; the interpolated read index is within a fraction of a millisecond.)

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pulseaudio::protocol::{Command, LatencyParams, PlaybackLatency, PulseError};

use super::connection::{Connection, Event, Inbox, LOOK_EVERY, Message, explain, read_reply};
use super::dialer::StreamInfo;
use super::supervisor::Reporter;
use super::timing::{Alignment, Measurement, ReadClock, bytes_of, frames_during, frames_in};
use super::watchdog::{Verdict, Watchdog};
use super::{BLOCK_FRAMES, POLL_EVERY, REWRITE_MARGIN};
use crate::audio::{CHANNELS, DEFAULT_SAMPLE_RATE, Frame, HostTime, Renderer};

/// How long an answer to a latency question may take before another is asked (it was
/// lost, or the server is slow; the watchdog judges the server).
const ANSWER_PATIENCE: Duration = Duration::from_secs(1);

/// How long requests may wait for the report asked for when the sink started (it comes
/// within a millisecond; the queue holds tens): audio rendered before it would be stamped
/// with a guessed "heard at", and the first timing points anchor the control side's clock.
const HOLD_FOR_ANSWER: Duration = Duration::from_millis(5);

/// The first protocol version whose `Underflow` says where the read index stood.
const UNDERFLOW_OFFSET_VERSION: u16 = 23;

/// Buffers allocated once for the life of the output.
pub(super) struct Scratch {
    /// One block of the engine's audio.
    block: Vec<f32>,
    /// Rewritten audio: up to the renderer's whole history.
    rewritten: Vec<f32>,
    history_frames: u64,
}

impl Scratch {
    /// Room for blocks of [`BLOCK_FRAMES`] and rewrites of up to `history_frames`.
    pub(super) fn new(history_frames: usize) -> Scratch {
        Scratch {
            block: vec![0.0; CHANNELS * BLOCK_FRAMES],
            rewritten: vec![0.0; CHANNELS * history_frames],
            history_frames: history_frames as u64,
        }
    }
}

/// What a stream plays with, lent by the supervisor.
pub(super) struct Context<'a> {
    pub(super) renderer: &'a mut Renderer,
    pub(super) scratch: &'a mut Scratch,
    pub(super) inbox: &'a Inbox,
    pub(super) report: &'a mut Reporter,
}

/// How playing a stream ended.
pub(super) enum Ended {
    /// The output is being dropped.
    Stopped,
    /// The stream or its connection failed; `flowed` when the server had asked it for
    /// audio before.
    Failed { why: String, flowed: bool },
}

/// A latency question on its way.
#[derive(Debug, Clone, Copy)]
struct Question {
    seq: u32,
    sent: Instant,
}

impl Question {
    /// Whether it may still be answered at `now`.
    fn pending(this: Option<Question>, now: Instant) -> bool {
        this.is_some_and(|q| now.saturating_duration_since(q.sent) < ANSWER_PATIENCE)
    }
}

/// One stream's state.
struct Live {
    connection: Connection,
    info: StreamInfo,
    alignment: Alignment,
    /// Frames sent since the stream was created: its write index.
    written: u64,
    /// Bytes the server asked for and we have not sent (less than a frame, normally).
    owed: u64,
    clock: ReadClock,
    watchdog: Watchdog,
    /// The periodic latency question, and when the next is due.
    poll: Option<Question>,
    next_poll: Instant,
    /// Requests wait for the report asked for when the sink started at this instant.
    started: Option<Instant>,
}

/// Plays `info` on `connection` until it fails or the output is dropped. The server asks
/// for the whole queue at once when the stream is created; that first fill is silence
/// (the stream has not started, so when it will be heard is a guess), and the engine
/// renders from the first request after it, with an honest "heard at" for every block.
pub(super) fn play(connection: Connection, info: StreamInfo, cx: &mut Context<'_>) -> Ended {
    let now = Instant::now();
    let mut live = Live {
        clock: ReadClock::new(DEFAULT_SAMPLE_RATE, info.sink_latency, now),
        alignment: Alignment {
            engine_start: cx.renderer.position(),
            stream_start: frames_in(info.requested),
        },
        owed: 0,
        written: 0,
        watchdog: Watchdog::new(now),
        poll: None,
        next_poll: now,
        started: None,
        connection,
        info,
    };
    let mut flowed = false;
    if let Err(why) = live.fill_with_silence(cx) {
        return Ended::Failed { why, flowed };
    }
    loop {
        if cx.inbox.stopped() {
            return Ended::Stopped;
        }
        let now = Instant::now();
        match live.watchdog.verdict(now) {
            Verdict::Failed(failure) => {
                return Ended::Failed {
                    why: failure.describe().to_owned(),
                    flowed,
                };
            }
            Verdict::Flowing if !flowed => {
                flowed = true;
                cx.report.flowing(&live.info.sink);
            }
            Verdict::Flowing | Verdict::Starting => {}
        }
        if let Err(why) = live.ask_in_turn(now).and_then(|()| live.catch_up(now, cx)) {
            return Ended::Failed { why, flowed };
        }
        let wait = live
            .held_until(now)
            .map_or(live.next_poll, |until| until.min(live.next_poll))
            .saturating_duration_since(now)
            .min(LOOK_EVERY);
        let event = match cx.inbox.events.recv_timeout(wait) {
            Ok(event) => event,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Ended::Failed {
                    why: "the output's event channel closed".into(),
                    flowed,
                };
            }
        };
        if let Err(why) = live.handle(event, cx) {
            return Ended::Failed { why, flowed };
        }
    }
}

impl Live {
    /// Answers the server's first request, for the whole queue, with silence.
    fn fill_with_silence(&mut self, cx: &mut Context<'_>) -> Result<(), String> {
        let mut frames = self.alignment.stream_start;
        cx.scratch.block.fill(0.0);
        while frames > 0 {
            let n = frames.min(BLOCK_FRAMES as u64);
            let samples = &cx.scratch.block[..CHANNELS * n as usize];
            self.connection.send_audio(self.info.channel, samples, 0)?;
            self.written += n;
            frames -= n;
        }
        Ok(())
    }

    fn handle(&mut self, event: Event, cx: &mut Context<'_>) -> Result<(), String> {
        match event {
            Event::Nudge => self.rewrite(cx),
            // The last words of a connection given up on.
            Event::Server { connection, .. } if connection != self.connection.id() => Ok(()),
            Event::Server { message, .. } => match message {
                Message::Command(command) => self.command(*command, cx),
                Message::Reply { seq, body } => self.answer(seq, body, cx),
                Message::Unreadable(what) => {
                    cx.report.notice(&format!(
                        "PulseAudio sent a message gongan cannot read ({what})"
                    ));
                    Ok(())
                }
                Message::Closed(why) => Err(why),
            },
        }
    }

    /// A command the server sent on its own; those about other streams are not ours.
    fn command(&mut self, command: Command, cx: &mut Context<'_>) -> Result<(), String> {
        let ours = self.info.channel;
        let now = Instant::now();
        match command {
            Command::Request(request) if request.channel == ours => {
                self.watchdog.requested(now);
                self.owed = self.owed.saturating_add(u64::from(request.length));
                self.catch_up(now, cx)
            }
            Command::Started(channel) if channel == ours => {
                self.clock.started(now);
                self.poll = Some(self.ask_latency()?);
                self.next_poll = now + POLL_EVERY;
                self.started = Some(now);
                Ok(())
            }
            Command::Underflow(underflow) if underflow.channel == ours => {
                let offset = (self.connection.version() >= UNDERFLOW_OFFSET_VERSION)
                    .then_some(underflow.offset);
                self.clock.ran_dry(offset, now);
                self.watchdog.ran_dry(now);
                cx.report
                    .notice("the PulseAudio stream ran dry (an underrun: a gap in the sound)");
                Ok(())
            }
            Command::Overflow(channel) if channel == ours => {
                cx.report
                    .notice("PulseAudio's queue overflowed: some audio was dropped");
                Ok(())
            }
            Command::PlaybackStreamKilled(channel) if channel == ours => {
                Err("the PulseAudio server ended gongan's stream".into())
            }
            Command::PlaybackStreamSuspended(params)
                if params.stream_index == ours && params.suspended =>
            {
                cx.report
                    .notice("PulseAudio suspended the sink gongan plays to");
                Ok(())
            }
            Command::PlaybackStreamMoved(params) if params.stream_index == ours => {
                let sink = params.device_name.to_string_lossy().into_owned();
                tracing::info!(%sink, "PulseAudio moved gongan's stream to another sink");
                cx.report.plays_to(&sink);
                self.info.sink = sink;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Renders and sends what the server asked for, block by block, each stamped with
    /// when its first frame is heard. Each block is preceded by a rewrite: a cue scheduled
    /// inside the queue just before a request must be written into the queue, not started
    /// at the new block's first frame because the request was handled before its nudge
    /// (that played a "now" cue 20 ms late, one in a few hundred).
    fn render(&mut self, cx: &mut Context<'_>) -> Result<(), String> {
        let now = Instant::now();
        let mut frames = frames_in(self.owed);
        self.owed -= bytes_of(frames);
        while frames > 0 {
            self.rewrite(cx)?;
            let n = frames.min(BLOCK_FRAMES as u64);
            let block = &mut cx.scratch.block[..CHANNELS * n as usize];
            let heard = now + self.clock.heard_after(self.written, now, self.written);
            cx.renderer
                .render_heard(block, HostTime::from_instant(heard));
            self.connection.send_audio(self.info.channel, block, 0)?;
            self.written += n;
            frames -= n;
        }
        Ok(())
    }

    /// Until when requests wait for an answer about the read index, as of `now`; `None`
    /// when they need not (see [`HOLD_FOR_ANSWER`]).
    fn held_until(&self, now: Instant) -> Option<Instant> {
        self.started
            .filter(|_| self.poll.is_some())
            .map(|since| since + HOLD_FOR_ANSWER)
            .filter(|until| now < *until)
    }

    /// Renders what the server asked for, unless requests wait for an answer now.
    fn catch_up(&mut self, now: Instant, cx: &mut Context<'_>) -> Result<(), String> {
        if self.held_until(now).is_some() {
            return Ok(());
        }
        self.started = None;
        self.render(cx)
    }

    /// Asks for a latency report when one is due and none is on its way: it keeps the
    /// read index and the latency meter fresh.
    fn ask_in_turn(&mut self, now: Instant) -> Result<(), String> {
        if now < self.next_poll || Question::pending(self.poll, now) {
            return Ok(());
        }
        self.poll = Some(self.ask_latency()?);
        self.next_poll = now + POLL_EVERY;
        Ok(())
    }

    fn ask_latency(&mut self) -> Result<Question, String> {
        let sent = Instant::now();
        let seq = self
            .connection
            .send(&Command::GetPlaybackLatency(LatencyParams {
                channel: self.info.channel,
                // The crate panics on a time before 1970 (a clock never set).
                now: SystemTime::now().max(UNIX_EPOCH),
            }))?;
        Ok(Question { seq, sent })
    }

    /// An answer to one of our latency questions (an answer to none of them is late, and
    /// dropped).
    fn answer(
        &mut self,
        seq: u32,
        body: Result<Vec<u8>, PulseError>,
        cx: &mut Context<'_>,
    ) -> Result<(), String> {
        let Some(question) = self.poll.filter(|q| q.seq == seq) else {
            return Ok(());
        };
        self.poll = None;
        let received = Instant::now();
        let report = match body
            .map(|body| read_reply::<PlaybackLatency>(&body, self.connection.version()))
        {
            Ok(Ok(report)) => report,
            Ok(Err(err)) => {
                cx.report
                    .notice(&format!("cannot read PulseAudio's latency report: {err}"));
                return Ok(());
            }
            Err(error) => {
                cx.report.notice(&format!(
                    "PulseAudio would not report the stream's latency ({})",
                    explain(error)
                ));
                return Ok(());
            }
        };
        let measurement = Measurement {
            read_offset: report.read_offset,
            write_offset: report.write_offset,
            playing: report.playing,
            sink: Duration::from_micros(report.sink_usec),
        };
        self.clock.measured(measurement, question.sent, received);
        cx.report.measured(measurement.latency(DEFAULT_SAMPLE_RATE));
        self.catch_up(received, cx)
    }

    /// Starts the sounds that became due in audio still queued, from a little after the
    /// read index on, and sends the changed audio over what was queued. Fails only when
    /// the connection does.
    fn rewrite(&mut self, cx: &mut Context<'_>) -> Result<(), String> {
        let read = self.clock.read_at(Instant::now(), self.written);
        let margin = frames_during(REWRITE_MARGIN, DEFAULT_SAMPLE_RATE);
        let position = cx.renderer.position();
        // No further back than the renderer keeps, nor into an older stream's audio.
        let kept = Frame(position.0.saturating_sub(cx.scratch.history_frames));
        let earliest = self.alignment.engine_frame(read + margin).max(kept);
        if earliest >= position {
            return Ok(());
        }
        let Some(from) = cx.renderer.rewrite(earliest, &mut cx.scratch.rewritten) else {
            return Ok(());
        };
        let frames = position.0.saturating_sub(from.0);
        if from < earliest || frames > cx.scratch.history_frames {
            cx.report.notice(&format!(
                "the engine rewrote from {from}, outside {earliest} to {position}; not sent"
            ));
            return Ok(());
        }
        let samples = &cx.scratch.rewritten[..CHANNELS * frames as usize];
        self.connection
            .send_audio(self.info.channel, samples, frames)
    }
}
