//! Playing to a PulseAudio sink through PulseAudio's native protocol, with a stream of our
//! own — so that a cue scheduled "now" can be written into audio already queued.
//!
//! Any live output keeps audio queued ahead of the speaker (through cpal, PulseAudio holds
//! about 40 ms), and a sound rendered at the end of that queue is heard that much later.
//! But PulseAudio lets a client overwrite what it queued: a memblock sent with a negative
//! offset (seek mode `PA_SEEK_RELATIVE`) lands that many bytes before the write index,
//! and the server plays the new audio in place of the old. So when the control side
//! schedules a sound inside audio already rendered, it wakes this output's thread, which
//! places the server's read index (from its latency reports, interpolated) and has the
//! engine render the changed frames from a little after it ([`Renderer::rewrite`]); the
//! cue is heard after the sink's own latency and a few milliseconds, not after the whole
//! queue. cpal's stream cannot do that, hence the protocol spoken here directly (the
//! `pulseaudio` crate's `protocol`).
//!
//! One thread per output plays the stream (`stream`); when the connection or the stream
//! fails it reconnects with the same renderer (`supervisor`), reporting its health as the
//! sound card output does. The handshake is `dialer`'s, the messages `connection`'s;
//! the arithmetic of frames, bytes and time is `timing`'s; whether the server still asks
//! for audio is `watchdog`'s.

mod connection;
mod dialer;
mod stream;
mod supervisor;
mod timing;
mod watchdog;

use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

use self::connection::{Event, Inbox};
use self::dialer::{Dialer, Refused};
use self::stream::Scratch;
use self::supervisor::{Reporter, Supervisor};
use super::live::LiveThread;
use super::priority::raise_priority_of_this_thread;
use super::{Latency, OutputError, OutputHealth};
use crate::audio::DEFAULT_SAMPLE_RATE;
use crate::audio::engine::{Controller, EngineConfig, Renderer, engine};

/// Frames rendered and sent at a time: a request at the default latency (20 ms) is one
/// block; the first fill of a long queue is a few.
const BLOCK_FRAMES: usize = 1024;

/// How often the server is asked for the read index while playing, to keep the estimate
/// between answers (and the latency `/healthz` reports) fresh.
const POLL_EVERY: Duration = Duration::from_millis(100);

/// How far after the read index, as the latency reports place it, a rewrite starts: the
/// sink takes audio in blocks and may take the next one while our rewrite is on its way.
/// Should it have, the server makes the sink take it again (a rewind), so this is about
/// sparing the sink that work, not about correctness.
const REWRITE_MARGIN: Duration = Duration::from_millis(3);

/// From a sound scheduled to its rewrite sent: waking the output's thread and rendering
/// the changed frames, well under this on one machine.
const WAKE_AND_WRITE: Duration = Duration::from_millis(1);

/// The renderer's history beyond the latency asked for: the server may keep a little
/// more queued than asked (its queue is topped up a request at a time).
const HISTORY_SLACK: Duration = Duration::from_millis(20);

/// An engine playing to a PulseAudio sink. The stream lives on the output's own thread,
/// which reconnects when the server goes away or stops taking audio; dropping this stops
/// both.
pub struct PulseOutput {
    /// The sink played to, kept up to date by the output's thread (see [`SinkName`]).
    sink: SinkName,
    live: LiveThread,
}

/// The name of the sink the stream plays to, shared with the output's thread: the server
/// may move the stream to another sink (a user picks one in a mixer), or a reconnect may
/// find another default sink.
#[derive(Clone, Default)]
pub(super) struct SinkName(Arc<Mutex<String>>);

impl SinkName {
    pub(super) fn set(&self, sink: &str) {
        let mut name = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if *name != sink {
            sink.clone_into(&mut name);
        }
    }

    fn get(&self) -> String {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl PulseOutput {
    /// Connects to the PulseAudio server (`$PULSE_SERVER`, else the user's runtime
    /// folder) and plays a new engine to `sink` (the server's default sink when `None`)
    /// with about `latency` queued, sink included. The engine runs at 48 kHz; the server
    /// resamples for a sink at another rate.
    ///
    /// The returned controller can schedule sounds inside the queued audio up to the
    /// sink's latency and a few milliseconds before they are heard: this output rewrites
    /// its queue for them.
    ///
    /// # Errors
    /// [`OutputError::NoDevice`] when there is no such sink; [`OutputError::Device`] when
    /// the server cannot be reached or refuses the stream now. (Failures after this are
    /// recovered from, and reported through [`PulseOutput::watch`].)
    pub fn open(
        sink: Option<&str>,
        config: EngineConfig,
        latency: Latency,
    ) -> Result<(Controller, PulseOutput), OutputError> {
        let (mut controller, mut renderer) = engine(EngineConfig {
            sample_rate: DEFAULT_SAMPLE_RATE,
            ..config
        });
        let history =
            latency.frames(DEFAULT_SAMPLE_RATE) as usize + frames_of(HISTORY_SLACK) as usize;
        renderer.keep_history(history);
        let (sender, events) = mpsc::channel();
        let wake = sender.clone();
        let (opened_tx, opened) = mpsc::channel();
        let wanted = sink.map(str::to_owned);
        let sink = SinkName::default();
        let playing_to = sink.clone();
        let live = LiveThread::spawn(
            "the PulseAudio output",
            "gongan-pulse-output",
            move |ends| {
                // Before the reader thread is started from here: it inherits the priority.
                raise_priority_of_this_thread();
                let inbox = Inbox {
                    sender,
                    events,
                    stop: ends.stop,
                };
                run(
                    Dialer::new(wanted, latency, BLOCK_FRAMES.max(history)),
                    renderer,
                    Scratch::new(history),
                    inbox,
                    Reporter::new(ends.health, ends.meter, playing_to),
                    opened_tx,
                );
            },
        )
        .map_err(OutputError::Thread)?;
        let sink_latency = match opened.recv() {
            Ok(Ok(opened)) => opened,
            refused => {
                live.join();
                return Err(match refused {
                    Ok(Err(Refused::NoSink(what))) => OutputError::NoDevice(what),
                    Ok(Err(Refused::Failed(why))) => OutputError::Device(why),
                    _ => OutputError::Device("the PulseAudio thread ended while opening".into()),
                });
            }
        };
        tracing::info!(
            sink = %sink.get(),
            latency = %latency,
            sink_latency_ms = sink_latency.as_secs_f64() * 1e3,
            "playing to PulseAudio"
        );
        controller.set_rewriting(rewrite_lead(sink_latency), move || {
            // Gone only once the output is: then nothing is to be rewritten.
            let _ = wake.send(Event::Nudge);
        });
        Ok((controller, PulseOutput { sink, live }))
    }

    /// The name of the sink it plays to: the one the stream was created on, or the one
    /// the server last moved it to.
    #[must_use]
    pub fn name(&self) -> String {
        self.sink.get()
    }

    /// Why the output is not playing, while it is down (the server gone or not taking
    /// audio) and reconnecting; `None` while it plays.
    #[must_use]
    pub fn fault(&self) -> Option<String> {
        self.health().fault().map(str::to_owned)
    }

    /// Whether it plays now.
    #[must_use]
    pub fn health(&self) -> OutputHealth {
        self.live.health()
    }

    /// A receiver that changes each time the health does (see
    /// [`RunningOutput::watch`](super::RunningOutput::watch)).
    #[must_use]
    pub fn watch(&self) -> watch::Receiver<OutputHealth> {
        self.live.watch()
    }

    /// How long a frame written at the server's latest report waits before it is heard:
    /// the stream's queue and the sink's latency. `None` before the first report and while
    /// the output is down.
    #[must_use]
    pub fn latency(&self) -> Option<Duration> {
        self.live.latency()
    }
}

/// What the thread tells `open` about the first stream: the latency the server configured
/// for its sink (whose name is in the output's [`SinkName`] by then).
type Opened = Result<Duration, Refused>;

/// The output's thread: opens the first stream, says how that went, and plays.
fn run(
    mut dialer: Dialer,
    renderer: Renderer,
    scratch: Scratch,
    inbox: Inbox,
    mut report: Reporter,
    opened: mpsc::Sender<Opened>,
) {
    let (connection, info) = match dialer.dial(&inbox) {
        Ok(first) => first,
        Err(refused) => {
            let _ = opened.send(Err(refused));
            return;
        }
    };
    report.plays_to(&info.sink);
    if opened.send(Ok(info.sink_latency)).is_err() {
        return;
    }
    Supervisor {
        dialer,
        renderer,
        scratch,
        inbox,
        report,
    }
    .run(connection, info);
}

/// How long before it is heard a sound can still be written into the queue: the sink's
/// latency (what it took already is out of reach), the rewrite's margin after the read
/// index, and the time to wake up and write it.
fn rewrite_lead(sink_latency: Duration) -> Duration {
    sink_latency + REWRITE_MARGIN + WAKE_AND_WRITE
}

/// Frames of the engine's rate in `duration`.
fn frames_of(duration: Duration) -> u64 {
    timing::frames_during(duration, DEFAULT_SAMPLE_RATE)
}
