//! The pipe output: s16le 48 kHz stereo PCM into a FIFO at real-time pace, the input of
//! Snapcast's `pipe` source, so every room with a snapclient plays the session in sync.
//!
//! Snapcast's server reads the pipe in chunks (20 ms by default) on its own schedule and
//! stamps each chunk with its place on its stream clock: the first chunk it reads after a
//! pause at "now minus one chunk", every later one a chunk's length after the one before.
//! Its clients play a sample at its stamp plus the server's buffer (`stream.buffer`, 1000 ms
//! by default). So the instant a sample we write is heard is its stamp plus that buffer,
//! and its stamp follows from how much of what we wrote the server has consumed, which the
//! pipe itself says (`FIONREAD`: the bytes still in it). See [`ReaderClock`].
//!
//! We keep about [`QUEUE`] of audio in the pipe: the server finds a whole chunk at each
//! read (one short of a chunk it pads with silence, a gap in the middle of a stroke) and
//! our writes keep the server's pace. Nothing reading the pipe (snapserver not started,
//! stopped or restarted) is an outage like a lost sound card: the output reports itself
//! [`OutputHealth::Degraded`], stops rendering (the session keeps real time and its strokes
//! are reported missed), and opens the pipe again until a reader is back.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::meter::LatencyMeter;
use super::outage::{Episode, reopen_delay};
use super::priority::raise_priority_of_this_thread;
use super::{OutputError, OutputHealth};
use crate::audio::{HostTime, Renderer};

/// The only format Snapcast's pipe source is told to expect (`sampleformat=48000:16:2`).
pub const PIPE_RATE: u32 = 48_000;

/// Bytes per frame: two 16-bit samples.
const FRAME_BYTES: usize = 4;

/// Frames per write: 5 ms, so the queue is topped up in small steps.
const BLOCK_FRAMES: usize = 240;

/// Audio kept in the pipe ahead of the reader: five of Snapcast's default 20 ms chunks, so
/// the reader always finds a whole chunk even when this thread is held up for 80 ms on a
/// busy machine. It adds nothing to when strokes are heard (that is the reader's stamps
/// plus its buffer), only to how soon after a cue "now" they can be.
pub const QUEUE: Duration = Duration::from_millis(100);

/// How long the reader may consume nothing, with audio waiting in the pipe, before the
/// output says it is not being read (snapserver stopped, or hung).
const READER_STALL: Duration = Duration::from_millis(500);

/// How long this thread sleeps between looks at the pipe while it is full enough: each look
/// is a reading of the [`ReaderClock`], which is as exact as the reading closest after
/// one of the reader's reads: within this, mostly.
const NAP: Duration = Duration::from_millis(1);

/// The window over which [`ReaderClock`] takes its lowest reading: long enough to see the
/// reader right after several of its reads, short enough to follow it when its stamps jump
/// (it padded a chunk with silence, or restarted its stream clock after a pause).
const CLOCK_WINDOW: Duration = Duration::from_millis(250);

/// How many frames of what we wrote the reader has stamped.
///
/// After the reader's read at instant `t`, what it consumed ends at a stamp of `t`; before
/// its next read, later. So each reading — `consumed` frames gone at `now` — bounds the
/// stamp of our frame 0 from above: `origin ≤ now − consumed / rate`, with equality just
/// after a read. The lowest bound seen over the last [`CLOCK_WINDOW`] or two is the
/// estimate: readings taken late (this thread was held up) only raise a bound, never lower
/// it, and after a jump in the reader's stamps the old bounds age out of the window.
#[derive(Debug, Clone)]
pub(crate) struct ReaderClock {
    rate: u32,
    /// The lowest bound in the current window, and when the window began.
    current: Option<(Instant, Instant)>,
    /// The lowest bound in the window before.
    previous: Option<Instant>,
    /// Frames consumed at the latest reading, and when that count last grew.
    consumed: u64,
    moved: Instant,
}

impl ReaderClock {
    /// A clock for a pipe just opened at `now`, of which nothing has been read yet.
    pub(crate) fn new(rate: u32, now: Instant) -> ReaderClock {
        ReaderClock {
            rate,
            current: None,
            previous: None,
            consumed: 0,
            moved: now,
        }
    }

    fn duration_of(&self, frames: u64) -> Duration {
        Duration::from_nanos(
            u64::try_from(u128::from(frames) * 1_000_000_000 / u128::from(self.rate))
                .unwrap_or(u64::MAX),
        )
    }

    /// Takes a reading: at `now`, the reader has consumed `consumed` frames of ours.
    /// Returns whether it consumed any since the reading before.
    pub(crate) fn observe(&mut self, now: Instant, consumed: u64) -> bool {
        let moved = consumed > self.consumed;
        if moved {
            self.moved = now;
        }
        self.consumed = consumed;
        let bound = now.checked_sub(self.duration_of(consumed)).unwrap_or(now);
        match &mut self.current {
            Some((began, _)) if now.duration_since(*began) >= CLOCK_WINDOW => {
                self.previous = self.current.map(|(_, lowest)| lowest);
                self.current = Some((now, bound));
            }
            Some((_, lowest)) => *lowest = (*lowest).min(bound),
            None => self.current = Some((now, bound)),
        }
        moved
    }

    /// Drops every bound taken so far (the reader restarted its stream clock), keeping
    /// the count of frames consumed.
    pub(crate) fn forget(&mut self) {
        self.current = None;
        self.previous = None;
    }

    /// The stamp the reader gives our frame `frame`; `None` before the first reading.
    pub(crate) fn stamp(&self, frame: u64) -> Option<Instant> {
        let (_, lowest) = self.current?;
        let origin = self
            .previous
            .map_or(lowest, |previous| previous.min(lowest));
        Some(origin + self.duration_of(frame))
    }

    /// How long the reader has consumed nothing, as of `now`.
    pub(crate) fn idle(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.moved)
    }
}

/// Makes sure `path` is a FIFO: creates it when it does not exist.
///
/// # Errors
/// It exists and is something else, or it cannot be created.
fn prepare(path: &Path) -> Result<(), OutputError> {
    let refuse = |why: String| OutputError::Pipe {
        path: path.to_owned(),
        why,
    };
    match std::fs::metadata(path) {
        Ok(meta) if meta.file_type().is_fifo() => Ok(()),
        Ok(_) => Err(refuse(
            "it exists and is not a FIFO (a named pipe, as `mkfifo` makes)".into(),
        )),
        Err(err) if err.kind() == io::ErrorKind::NotFound => rustix::fs::mkfifoat(
            rustix::fs::CWD,
            path,
            rustix::fs::Mode::from_raw_mode(0o660),
        )
        .map_err(|err| refuse(format!("cannot create it: {}", io::Error::from(err)))),
        Err(err) => Err(refuse(err.to_string())),
    }
}

/// Opens `path` for reading and writing, without blocking.
///
/// Not write-only: snapserver opens its pipe only for a moment each 100 ms and closes it
/// again at once when no writer has it open (a read then ends the file), so a write-only
/// open, which needs a reader there at that instant, would almost never succeed, and a
/// blocking one could not be stopped. Held open for both, the FIFO always has a writer,
/// so snapserver keeps it open and reads; that we could read too serves only to empty out
/// audio that went stale while nobody read it (see [`Writer::drain`]). Linux defines
/// this; POSIX leaves it open.
fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

/// Why nothing reads `path` now, and what to do about it.
fn unread(path: &Path, idle: Duration) -> String {
    let path = path.display();
    if idle.is_zero() {
        format!("nothing reads {path} yet: start snapserver with a pipe source on it")
    } else {
        format!(
            "nothing has read {path} for {} ms: is snapserver running, with a pipe source on it?",
            idle.as_millis()
        )
    }
}

/// Converts interleaved float samples to signed 16-bit little-endian bytes.
fn encode(samples: &[f32], bytes: &mut Vec<u8>) {
    bytes.clear();
    for sample in samples {
        let value = (sample.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16;
        bytes.extend_from_slice(&value.to_le_bytes());
    }
}

/// A pipe being written to by a thread of its own; stops when dropped.
pub struct PipeOutput {
    path: PathBuf,
    buffer: Duration,
    health: watch::Receiver<OutputHealth>,
    /// How far ahead of its being heard the latest block was rendered.
    latency: Arc<LatencyMeter>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl PipeOutput {
    /// Starts writing `renderer`'s audio into the FIFO at `path` (created if missing), for
    /// a reader whose listeners hear each sample `buffer` after its stamp (Snapcast's
    /// `stream.buffer`). Without a reader yet, the output starts degraded and waits for one.
    ///
    /// # Errors
    /// `path` is not a FIFO and cannot be made one, the renderer's rate is not 48 kHz, or
    /// the thread cannot be started.
    pub fn start(
        renderer: Renderer,
        path: &Path,
        buffer: Duration,
    ) -> Result<PipeOutput, OutputError> {
        if renderer.sample_rate() != PIPE_RATE {
            return Err(OutputError::Pipe {
                path: path.to_owned(),
                why: format!(
                    "the engine runs at {} Hz; the pipe carries {PIPE_RATE} Hz",
                    renderer.sample_rate()
                ),
            });
        }
        prepare(path)?;
        // Degraded until a reader is seen taking the audio.
        let (health_tx, health) = watch::channel(OutputHealth::Degraded {
            fault: unread(path, Duration::ZERO),
        });
        let (stop, stopped) = mpsc::channel();
        let latency = Arc::new(LatencyMeter::default());
        let writer = Writer {
            path: path.to_owned(),
            buffer,
            renderer,
            health: health_tx,
            latency: latency.clone(),
            stop: stopped,
            episode: Episode::default(),
            outage: None,
        };
        let thread = std::thread::Builder::new()
            .name("gongan-pipe-output".into())
            .spawn(move || writer.run())
            .map_err(OutputError::Thread)?;
        Ok(PipeOutput {
            path: path.to_owned(),
            buffer,
            health,
            latency,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The FIFO's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The reader's buffer this output counts on.
    #[must_use]
    pub fn buffer(&self) -> Duration {
        self.buffer
    }

    /// Whether a reader takes the audio now.
    #[must_use]
    pub fn health(&self) -> OutputHealth {
        self.health.borrow().clone()
    }

    /// A receiver that changes each time the health does.
    #[must_use]
    pub fn watch(&self) -> watch::Receiver<OutputHealth> {
        self.health.clone()
    }

    /// How long after it is rendered a sample is heard: the audio queued in the pipe plus
    /// the reader's buffer; `None` while nothing reads the pipe.
    #[must_use]
    pub fn latency(&self) -> Option<Duration> {
        self.latency.get()
    }
}

impl Drop for PipeOutput {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The writing thread's state.
struct Writer {
    path: PathBuf,
    buffer: Duration,
    renderer: Renderer,
    health: watch::Sender<OutputHealth>,
    latency: Arc<LatencyMeter>,
    stop: mpsc::Receiver<()>,
    /// The errors logged in this outage (or since the last one).
    episode: Episode,
    /// When the current outage began; `None` while a reader takes the audio, and before
    /// the first one came.
    outage: Option<Instant>,
}

/// How writing to an open pipe ended.
enum Ended {
    /// The output is being dropped.
    Stopped,
    /// The pipe failed; why, in a sentence.
    Failed(String),
}

impl Writer {
    fn run(mut self) {
        // Like a sound card's callback: late by more than the queue, and snapserver pads
        // the stream with silence.
        raise_priority_of_this_thread();
        let mut attempt = 0;
        loop {
            // Made again if it went away (someone removed it, the FIFO snapserver then
            // makes is a new one).
            let opened = prepare(&self.path)
                .map_err(|err| err.to_string())
                .and_then(|()| {
                    open(&self.path)
                        .map_err(|err| format!("cannot open {}: {err}", self.path.display()))
                });
            match opened {
                Ok(pipe) => {
                    attempt = 0;
                    match self.play(pipe) {
                        Ended::Stopped => return,
                        Ended::Failed(why) => self.down(why),
                    }
                }
                Err(why) => {
                    self.down(why);
                    if self.stopped_within(reopen_delay(attempt)) {
                        return;
                    }
                    attempt = attempt.saturating_add(1);
                }
            }
        }
    }

    /// Whether the output was dropped, waiting at most `wait` for it.
    fn stopped_within(&self, wait: Duration) -> bool {
        !matches!(
            self.stop.recv_timeout(wait),
            Err(mpsc::RecvTimeoutError::Timeout)
        )
    }

    /// Reports that nothing takes the audio (each distinct reason once per outage).
    fn down(&mut self, why: String) {
        self.latency.forget();
        if self.outage.is_none() {
            self.outage = Some(Instant::now());
            self.episode = Episode::default();
        }
        if self.episode.first_time(&why) {
            tracing::warn!("pipe output: {why}");
            self.health
                .send_replace(OutputHealth::Degraded { fault: why });
        }
    }

    /// Reports a reader taking the audio: the first one, or one back after an outage.
    fn up(&mut self) {
        let recovered = self.outage.take().map(|since| since.elapsed());
        match recovered {
            Some(after) => tracing::info!(
                "pipe output: {} is read again after {:.1} s",
                self.path.display(),
                after.as_secs_f64()
            ),
            None => tracing::info!("pipe output: snapserver reads {}", self.path.display()),
        }
        self.episode = Episode::default();
        self.health
            .send_replace(OutputHealth::Playing { recovered });
    }

    /// Writes into an open pipe until it fails, its reader stops reading, or the output is
    /// dropped: silence until a reader takes it (which keeps the pipe primed and shows when
    /// one comes), then the session's audio.
    fn play(&mut self, mut pipe: File) -> Ended {
        let mut block = vec![0.0f32; 2 * BLOCK_FRAMES];
        let mut bytes = Vec::with_capacity(FRAME_BYTES * BLOCK_FRAMES);
        let queue_frames = u64::from(PIPE_RATE) * QUEUE.as_millis() as u64 / 1000;
        // Frames written.
        let mut written = 0u64;
        let mut reader = ReaderClock::new(PIPE_RATE, Instant::now());
        let mut read = false;
        loop {
            let queued = match rustix::io::ioctl_fionread(&pipe) {
                Ok(bytes) => bytes / FRAME_BYTES as u64,
                Err(err) => {
                    return Ended::Failed(format!(
                        "cannot tell what is left in {}: {}",
                        self.path.display(),
                        io::Error::from(err)
                    ));
                }
            };
            let now = Instant::now();
            let moved = reader.observe(now, written.saturating_sub(queued));
            if moved && !read {
                read = true;
                // Its stamps start afresh: bounds from before it came say nothing.
                reader.forget();
                reader.observe(now, written.saturating_sub(queued));
                self.up();
            }
            let idle = reader.idle(now);
            if read && queued > 0 && idle >= READER_STALL {
                // Opened afresh: the path may name another FIFO by now.
                self.drain(&mut pipe);
                return Ended::Failed(unread(&self.path, idle));
            }
            if queued >= queue_frames {
                if self.stopped_within(NAP) {
                    return Ended::Stopped;
                }
                continue;
            }
            if read {
                let heard = reader.stamp(written).unwrap_or(now) + self.buffer;
                self.renderer
                    .render_heard(&mut block, HostTime::from_instant(heard));
                let ahead = heard.saturating_duration_since(Instant::now());
                self.latency.set(ahead);
            } else {
                block.fill(0.0);
            }
            encode(&block, &mut bytes);
            match self.write(&mut pipe, &bytes) {
                Ok(()) => written += BLOCK_FRAMES as u64,
                Err(None) => return Ended::Stopped,
                Err(Some(err)) => {
                    return Ended::Failed(format!(
                        "cannot write to {}: {err}",
                        self.path.display()
                    ));
                }
            }
        }
    }

    /// Empties the pipe of audio nobody read in time: it would be heard late, whenever
    /// the reader came back.
    fn drain(&self, pipe: &mut File) {
        let mut scratch = [0u8; 4096];
        loop {
            match pipe.read(&mut scratch) {
                Ok(0) => break,
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }

    /// Writes all of `bytes`, waiting while the pipe is full; `Err(None)` when the output
    /// was dropped meanwhile.
    fn write(&self, pipe: &mut File, mut bytes: &[u8]) -> Result<(), Option<io::Error>> {
        while !bytes.is_empty() {
            match pipe.write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    // Full: the reader is behind (a pipe made smaller than the queue).
                    if self.stopped_within(Duration::from_millis(1)) {
                        return Err(None);
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(Some(err)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod test;
