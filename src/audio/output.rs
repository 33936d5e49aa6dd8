//! Outputs: what drives the renderer and where its audio goes.
//!
//! - `device` — the default sound card: through PulseAudio's own protocol (as `pulse`)
//!   when a PulseAudio server answers, else through cpal (a bare ALSA card).
//! - `device:NAME` — that device through cpal (`gongan devices` lists them).
//! - `pulse` / `pulse:SINK` — a PulseAudio sink through PulseAudio's own protocol, which
//!   lets a cue asked for now be written into the audio already queued (heard in a few
//!   milliseconds, not after the whole queue).
//! - `null` — renders at real-time pace and discards the audio; the fallback when no sound
//!   card can be opened, so a server keeps its clock and its API without one.
//! - `wav:PATH` — renders offline, as fast as the CPU allows, into a WAV file.
//! - `pipe:PATH[?buffer=MS]` — s16le 48 kHz stereo into a FIFO at real-time pace, for
//!   Snapcast's `pipe` source to send to every room; `buffer` is Snapcast's own
//!   (`stream.buffer`), counted in when strokes are heard.
//!
//! A sound card that fails while it plays (unplugged, its sound server restarted) does not
//! stop the engine: the output reports itself [`OutputHealth::Degraded`] and reopens the
//! device by itself, carrying on with the same renderer, until it plays again.

mod device;
mod live;
mod meter;
mod null;
mod outage;
mod pipe;
mod priority;
mod pulse;
mod wav;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;
use tokio::sync::watch;

pub use device::{DeviceInfo, DeviceOutput, STALL, STARTUP, list_devices};
pub use null::NullOutput;
pub use pipe::{PIPE_RATE, PipeOutput, QUEUE as PIPE_QUEUE};
pub use pulse::PulseOutput;
pub use wav::WavOutput;

use super::engine::{Controller, EngineConfig, engine};

/// Where audio goes, as given on the command line (`--output`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputSpec {
    /// The default sound card (`None`: PulseAudio's default sink through its own
    /// protocol when a server answers, else cpal's default device), or the cpal device
    /// whose name contains the given text.
    Device(Option<String>),
    /// A PulseAudio sink — the default one (`None`) or the one of that name — through
    /// PulseAudio's own protocol: a cue asked for now is written into the audio already
    /// queued, so it is heard in a few milliseconds instead of after the queue.
    Pulse(Option<String>),
    /// Real-time pace, audio discarded.
    Null,
    /// An offline render into this WAV file.
    Wav(PathBuf),
    /// A FIFO read by Snapcast, whose listeners hear each sample `buffer` after the server
    /// stamps it.
    Pipe {
        /// The FIFO (created if missing).
        path: PathBuf,
        /// Snapcast's `stream.buffer`.
        buffer: Duration,
    },
}

/// Snapcast's own default `stream.buffer`.
pub const SNAPCAST_BUFFER: Duration = Duration::from_millis(1000);

/// The longest `buffer` a pipe output accepts (Snapcast allows any; a minute is plenty).
const MAX_PIPE_BUFFER_MS: u64 = 60_000;

/// Reads the text after `pipe:`: a path, and optionally `?buffer=MS`.
fn parse_pipe(spec: &str, rest: &str) -> Result<OutputSpec, OutputError> {
    let (path, buffer) = match rest.rsplit_once("?buffer=") {
        None => (rest, SNAPCAST_BUFFER),
        Some((path, ms)) => {
            let ms: u64 = ms
                .parse()
                .ok()
                .filter(|ms| *ms <= MAX_PIPE_BUFFER_MS)
                .ok_or_else(|| OutputError::PipeBuffer(spec.to_owned()))?;
            (path, Duration::from_millis(ms))
        }
    };
    if path.is_empty() {
        return Err(OutputError::Spec(spec.to_owned()));
    }
    Ok(OutputSpec::Pipe {
        path: PathBuf::from(path),
        buffer,
    })
}

impl FromStr for OutputSpec {
    type Err = OutputError;

    fn from_str(s: &str) -> Result<OutputSpec, OutputError> {
        match s.split_once(':') {
            None if s == "device" => Ok(OutputSpec::Device(None)),
            None if s == "null" => Ok(OutputSpec::Null),
            None if s == "pulse" => Ok(OutputSpec::Pulse(None)),
            Some(("pulse", sink)) if !sink.is_empty() => {
                Ok(OutputSpec::Pulse(Some(sink.to_owned())))
            }
            Some(("device", name)) if !name.is_empty() => {
                Ok(OutputSpec::Device(Some(name.to_owned())))
            }
            Some(("wav", path)) if !path.is_empty() => Ok(OutputSpec::Wav(PathBuf::from(path))),
            Some(("pipe", rest)) => parse_pipe(s, rest),
            _ => Err(OutputError::Spec(s.to_owned())),
        }
    }
}

impl fmt::Display for OutputSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutputSpec::Device(None) => f.write_str("device"),
            OutputSpec::Device(Some(name)) => write!(f, "device:{name}"),
            OutputSpec::Pulse(None) => f.write_str("pulse"),
            OutputSpec::Pulse(Some(sink)) => write!(f, "pulse:{sink}"),
            OutputSpec::Null => f.write_str("null"),
            OutputSpec::Wav(path) => write!(f, "wav:{}", path.display()),
            OutputSpec::Pipe { path, buffer } if *buffer == SNAPCAST_BUFFER => {
                write!(f, "pipe:{}", path.display())
            }
            OutputSpec::Pipe { path, buffer } => {
                write!(f, "pipe:{}?buffer={}", path.display(), buffer.as_millis())
            }
        }
    }
}

/// Which kind of output is running (what `/healthz` reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    /// A sound card.
    Device,
    /// The paced null output.
    Null,
    /// An offline WAV render.
    Wav,
    /// A FIFO for Snapcast.
    Pipe,
}

impl OutputKind {
    /// The name `/healthz` and the events give it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            OutputKind::Device => "device",
            OutputKind::Null => "null",
            OutputKind::Wav => "wav",
            OutputKind::Pipe => "pipe",
        }
    }
}

/// How much audio a sound card output keeps queued ahead of the speaker: about the delay
/// from a sound scheduled "now" to the moment it is heard. Smaller answers sooner; larger
/// survives a busy machine without underruns (gaps in the sound).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Latency(Duration);

/// A `--latency` outside [`Latency::MIN`]..=[`Latency::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("latency {0} ms is out of range: use 2 to 500 milliseconds")]
pub struct LatencyOutOfRange(pub u64);

impl Latency {
    /// The least asked for: below this, no sound server keeps up.
    pub const MIN: Latency = Latency(Duration::from_millis(2));
    /// The most asked for: beyond this, cues "now" would sound noticeably late.
    pub const MAX: Latency = Latency(Duration::from_millis(500));
    /// What the sound card is opened with unless told otherwise. Measured through the
    /// ALSA pulse plugin to a PulseAudio null sink on a busy two-core machine with both
    /// cores saturated (`stress-ng --cpu 2`, 20–30 s runs): at 40 ms the stream played
    /// through without an underrun in 6 of 19 runs (median 3 underruns a run), against 1
    /// of 17 at 30 ms (median 7) and 1 of 10 at 20 ms (median 10); 60–80 ms did no better
    /// than 40 ms. A cue "now" is then heard 31–33 ms (median) to 39–42 ms (p99) after it
    /// is sent, against 27 ms and 31 ms with the driver's own buffer size, which underran
    /// in 5 of 6 runs.
    pub const DEFAULT: Latency = Latency(Duration::from_millis(40));

    /// A latency of `ms` milliseconds.
    ///
    /// # Errors
    /// Outside 2–500 ms.
    pub fn from_millis(ms: u64) -> Result<Latency, LatencyOutOfRange> {
        let latency = Latency(Duration::from_millis(ms));
        if (Latency::MIN..=Latency::MAX).contains(&latency) {
            Ok(latency)
        } else {
            Err(LatencyOutOfRange(ms))
        }
    }

    /// The latency as a duration.
    #[must_use]
    pub fn as_duration(self) -> Duration {
        self.0
    }

    /// The latency in frames at `rate`, at least one.
    #[must_use]
    pub fn frames(self, rate: u32) -> u32 {
        let frames = self.0.as_nanos() * u128::from(rate) / 1_000_000_000;
        u32::try_from(frames).unwrap_or(u32::MAX).max(1)
    }
}

impl Default for Latency {
    fn default() -> Latency {
        Latency::DEFAULT
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ms", self.0.as_millis())
    }
}

/// Whether a real-time output is playing, as [`RunningOutput::watch`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputHealth {
    /// Audio flows. `recovered` is how long the last outage lasted, once there was one.
    Playing {
        /// The length of the outage that ended last.
        recovered: Option<Duration>,
    },
    /// The sound card failed and is being reopened; the session keeps real time meanwhile
    /// and its strokes are reported missed.
    Degraded {
        /// Why, in a sentence: what failed, and what reopening it ran into.
        fault: String,
    },
}

impl OutputHealth {
    /// The fault, while degraded.
    #[must_use]
    pub fn fault(&self) -> Option<&str> {
        match self {
            OutputHealth::Playing { .. } => None,
            OutputHealth::Degraded { fault } => Some(fault),
        }
    }
}

/// Why an output could not be opened or kept running.
#[derive(Debug, Error)]
pub enum OutputError {
    /// The `--output` text is not one of the known forms.
    #[error(
        "unknown output '{0}': use device, device:NAME, pulse, pulse:SINK, null, pipe:PATH[?buffer=MS] or wav:PATH"
    )]
    Spec(String),
    /// The `buffer` of a `pipe:` output is not a number of milliseconds in range.
    #[error(
        "bad buffer in '{0}': give Snapcast's stream.buffer in milliseconds, 0 to {MAX_PIPE_BUFFER_MS}"
    )]
    PipeBuffer(String),
    /// The pipe output's FIFO cannot be used.
    #[error("cannot write to {path}: {why}", path = path.display())]
    Pipe {
        /// The FIFO.
        path: PathBuf,
        /// Why, in a sentence.
        why: String,
    },
    /// No sound card (or none matching the name) could be found.
    #[error("no output device {0}")]
    NoDevice(String),
    /// The sound card refused the stream.
    #[error("the sound card failed: {0}")]
    Device(String),
    /// A WAV output was asked for where only real-time outputs make sense.
    #[error("a wav: output renders offline; use `gongan render` for it")]
    NotRealTime,
    /// Writing the WAV file failed.
    #[error("cannot write {path}: {source}")]
    Wav {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: hound::Error,
    },
    /// A worker thread could not be started.
    #[error("cannot start the audio thread: {0}")]
    Thread(std::io::Error),
}

/// A running real-time output; audio stops when it is dropped.
pub enum RunningOutput {
    /// The sound card.
    Device(DeviceOutput),
    /// A PulseAudio sink, through PulseAudio's own protocol.
    Pulse(PulseOutput),
    /// The paced null output.
    Null(NullOutput),
    /// A FIFO for Snapcast.
    Pipe(PipeOutput),
}

impl RunningOutput {
    /// Which kind of output this is.
    #[must_use]
    pub fn kind(&self) -> OutputKind {
        match self {
            // A sound card to everyone watching, whichever way gongan reaches it.
            RunningOutput::Device(_) | RunningOutput::Pulse(_) => OutputKind::Device,
            RunningOutput::Null(_) => OutputKind::Null,
            RunningOutput::Pipe(_) => OutputKind::Pipe,
        }
    }

    /// A short description for logs and status: the device name, `null`, or `pipe:PATH`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            RunningOutput::Device(d) => d.name().to_owned(),
            RunningOutput::Pulse(p) => format!("pulse:{}", p.name()),
            RunningOutput::Null(_) => "null".to_owned(),
            RunningOutput::Pipe(p) => format!("pipe:{}", p.path().display()),
        }
    }

    /// Why the output is not playing, while it is [`OutputHealth::Degraded`] (a sound card
    /// lost and not yet reopened); `None` while it plays.
    #[must_use]
    pub fn fault(&self) -> Option<String> {
        self.health().fault().map(str::to_owned)
    }

    /// Whether it plays now.
    #[must_use]
    pub fn health(&self) -> OutputHealth {
        match self {
            RunningOutput::Device(d) => d.health(),
            RunningOutput::Pulse(p) => p.health(),
            RunningOutput::Null(_) => OutputHealth::Playing { recovered: None },
            RunningOutput::Pipe(p) => p.health(),
        }
    }

    /// A receiver that changes each time the output's health does: the sound card failed
    /// (and each new reason it gives while being reopened), or it plays again. The null
    /// output never changes: its receiver reports the sender gone at once.
    #[must_use]
    pub fn watch(&self) -> watch::Receiver<OutputHealth> {
        match self {
            RunningOutput::Device(d) => d.watch(),
            RunningOutput::Pulse(p) => p.watch(),
            RunningOutput::Null(_) => watch::channel(OutputHealth::Playing { recovered: None }).1,
            RunningOutput::Pipe(p) => p.watch(),
        }
    }

    /// How far ahead of the speaker the output renders, as the device reported it in its
    /// latest callback (its buffer plus the sound server's own delay), or for a pipe the
    /// audio queued in it plus Snapcast's buffer; `None` for the null output and while a
    /// sound card is down or nothing reads the pipe.
    #[must_use]
    pub fn latency(&self) -> Option<Duration> {
        match self {
            RunningOutput::Device(d) => d.latency(),
            RunningOutput::Pulse(p) => p.latency(),
            RunningOutput::Null(_) => None,
            RunningOutput::Pipe(p) => p.latency(),
        }
    }
}

/// Frames per block for the null output: 5 ms at 48 kHz, small enough that a cue
/// scheduled "now" waits at most one short block.
pub const NULL_BLOCK_FRAMES: usize = 240;

/// Opens a real-time output and builds an engine for it, a sound card with the
/// [default latency](Latency::DEFAULT). See [`start_with_latency`].
pub fn start(
    spec: &OutputSpec,
    config: EngineConfig,
) -> Result<(Controller, RunningOutput), OutputError> {
    start_with_latency(spec, config, Latency::DEFAULT)
}

/// Opens a real-time output and builds an engine for it; a sound card is asked to queue
/// about `latency` of audio.
///
/// The default device is PulseAudio's default sink through its own protocol when a
/// PulseAudio server answers (a cue asked for now is heard in milliseconds, not after
/// cpal's queue), else cpal's default device; it falls back to the null output with a
/// warning when no sound card can be opened, so the clock and the API keep working. A
/// named device that cannot be opened is an error: the user asked for that one. A sound
/// card that fails later is reopened by the output itself (see [`RunningOutput::watch`]).
pub fn start_with_latency(
    spec: &OutputSpec,
    config: EngineConfig,
    latency: Latency,
) -> Result<(Controller, RunningOutput), OutputError> {
    match spec {
        OutputSpec::Device(None) => start_default_device(config, latency),
        OutputSpec::Device(Some(name)) => {
            let (controller, device) = DeviceOutput::open_with(Some(name), config, latency)?;
            Ok((controller, RunningOutput::Device(device)))
        }
        // Asked for by name: no quiet fallback to the null output.
        OutputSpec::Pulse(sink) => {
            let (controller, pulse) = PulseOutput::open(sink.as_deref(), config, latency)?;
            Ok((controller, RunningOutput::Pulse(pulse)))
        }
        OutputSpec::Null => start_null(config),
        OutputSpec::Pipe { path, buffer } => {
            let (controller, renderer) = engine(EngineConfig {
                sample_rate: PIPE_RATE,
                ..config
            });
            let pipe = PipeOutput::start(renderer, path, *buffer)?;
            Ok((controller, RunningOutput::Pipe(pipe)))
        }
        OutputSpec::Wav(_) => Err(OutputError::NotRealTime),
    }
}

/// The default sound card, the best way there is to it: see [`start_with_latency`].
fn start_default_device(
    config: EngineConfig,
    latency: Latency,
) -> Result<(Controller, RunningOutput), OutputError> {
    match PulseOutput::open(None, config, latency) {
        Ok((controller, pulse)) => return Ok((controller, RunningOutput::Pulse(pulse))),
        // No server is the normal case on a bare ALSA machine: said quietly.
        Err(err) => tracing::info!("not playing through PulseAudio's own protocol: {err}"),
    }
    match DeviceOutput::open_with(None, config, latency) {
        Ok((controller, device)) => Ok((controller, RunningOutput::Device(device))),
        Err(err) => {
            tracing::warn!("{err}; playing to the null output instead (no sound)");
            start_null(config)
        }
    }
}

fn start_null(config: EngineConfig) -> Result<(Controller, RunningOutput), OutputError> {
    let (controller, renderer) = engine(config);
    let null = NullOutput::start(renderer, NULL_BLOCK_FRAMES)?;
    Ok((controller, RunningOutput::Null(null)))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn parses_every_form_and_rejects_the_rest() {
        assert_eq!(
            "device".parse::<OutputSpec>().unwrap(),
            OutputSpec::Device(None)
        );
        assert_eq!(
            "device:USB Audio".parse::<OutputSpec>().unwrap(),
            OutputSpec::Device(Some("USB Audio".into()))
        );
        assert_eq!("null".parse::<OutputSpec>().unwrap(), OutputSpec::Null);
        assert_eq!(
            "pulse".parse::<OutputSpec>().unwrap(),
            OutputSpec::Pulse(None)
        );
        assert_eq!(
            "pulse:alsa_output.usb".parse::<OutputSpec>().unwrap(),
            OutputSpec::Pulse(Some("alsa_output.usb".into()))
        );
        assert_eq!(
            "wav:/tmp/a:b.wav".parse::<OutputSpec>().unwrap(),
            OutputSpec::Wav("/tmp/a:b.wav".into())
        );
        assert_eq!(
            "pipe:/tmp/snapfifo".parse::<OutputSpec>().unwrap(),
            OutputSpec::Pipe {
                path: "/tmp/snapfifo".into(),
                buffer: SNAPCAST_BUFFER
            }
        );
        assert_eq!(
            "pipe:/tmp/a?b?buffer=400".parse::<OutputSpec>().unwrap(),
            OutputSpec::Pipe {
                path: "/tmp/a?b".into(),
                buffer: Duration::from_millis(400)
            }
        );
        for bad in [
            "pipe:/f?buffer=",
            "pipe:/f?buffer=-1",
            "pipe:/f?buffer=60001",
        ] {
            let err = bad.parse::<OutputSpec>().unwrap_err();
            assert!(err.to_string().contains("0 to 60000"), "{bad}: {err}");
        }
        for bad in [
            "",
            "speakers",
            "wav:",
            "device:",
            "pulse:",
            "null:x",
            "pipe:",
            "pipe:?buffer=5",
        ] {
            let err = bad.parse::<OutputSpec>().unwrap_err();
            assert!(err.to_string().contains("use device"), "{bad}: {err}");
        }
        for spec in [
            "device",
            "device:x",
            "pulse",
            "pulse:gongan",
            "null",
            "wav:out.wav",
            "pipe:/tmp/snapfifo",
            "pipe:f?buffer=0",
        ] {
            assert_eq!(spec.parse::<OutputSpec>().unwrap().to_string(), spec);
        }
    }

    #[test]
    fn latency_is_checked_and_counted_in_frames() {
        assert_eq!(Latency::from_millis(2).unwrap(), Latency::MIN);
        assert_eq!(Latency::from_millis(500).unwrap(), Latency::MAX);
        for bad in [0, 1, 501, u64::MAX] {
            let err = Latency::from_millis(bad).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("latency {bad} ms is out of range: use 2 to 500 milliseconds")
            );
        }
        assert_eq!(Latency::from_millis(20).unwrap().frames(48_000), 960);
        assert_eq!(Latency::MIN.frames(1), 1);
        assert_eq!(Latency::DEFAULT.to_string(), "40 ms");
        assert!((Latency::MIN..=Latency::MAX).contains(&Latency::DEFAULT));
    }
}
