//! The sound card output, through cpal — and how it outlives a failing sound card.
//!
//! One thread, the *supervisor*, owns the cpal stream. The engine's [`Renderer`] is lent to
//! the stream's data callback in a [`Lease`]; when a stream is dropped, cpal drops its
//! callback (on the stream's worker thread once the last callback has returned: not a
//! real-time path) and the lease sends the renderer home over a channel. So when the device
//! fails, the supervisor drops the stream, takes the renderer back and builds a new stream
//! around it, at the engine's sample rate: the engine's frame clock simply continues, and
//! the control side re-anchors its clock mapping on the new stream's timing reports.
//!
//! A stream *fails* when cpal says it is gone (the device disappeared) or when its callbacks
//! stop while they should flow. The second case is the common one: when PulseAudio dies,
//! the ALSA pulse plugin reports an error in a tight loop (hundreds of thousands a second)
//! and never a fatal one. The patience before calling a stall a failure, and the startup
//! allowance of a new stream, come from measuring the ALSA pulse plugin on a PulseAudio
//! null sink (the sink the tests and many headless machines play to):
//!
//! - A new stream's first callbacks fill the plugin's buffer at once, then nothing comes
//!   for up to 2.0 s (0.4–2.0 s measured) until the sink's next block (a null sink with
//!   nothing else attached renders 2 s blocks), with `snd_pcm_avail_delay` failing (EIO)
//!   in a loop meanwhile; then it flows.
//! - A hiccup (the sound server stopped for 0.3–3 s, or starved of CPU) stops the callbacks
//!   for as long as the hiccup, then the plugin reports an underrun, cpal re-prepares the
//!   stream, and the same startup pause follows (up to 2 s) before it flows again.
//!
//! So an underrun restarts the startup allowance ([`STARTUP`], twice the longest pause
//! seen), and a flowing stream may stand still for [`STALL`] before it counts as failed.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{
    BufferSize, ErrorKind, FromSample, SampleFormat, SizedSample, StreamConfig, SupportedBufferSize,
};
use serde::Serialize;
use tokio::sync::watch;

use super::live::LiveThread;
use super::meter::LatencyMeter;
use super::outage::{Episode, reopen_delay};
use super::priority::raise_priority_of_this_thread;
use super::{Latency, OutputError, OutputHealth};
use crate::audio::engine::{Controller, EngineConfig, Renderer, engine};
use crate::audio::{CHANNELS, DEFAULT_SAMPLE_RATE, HostTime};

/// Frames the callback renders at a time when the device's buffer is not plain stereo
/// `f32` and has to go through a scratch buffer (allocated once, before the stream runs).
const SCRATCH_FRAMES: usize = 4096;

/// How long a flowing stream's callbacks may stand still before the device counts as
/// failed. Longer than the hiccups the pulse plugin rides out by itself; the pause that
/// follows its underrun recovery is covered by [`STARTUP`] instead.
pub const STALL: Duration = Duration::from_secs(2);

/// How long a new (or underrun-restarted) stream may take to start flowing: twice the
/// longest startup pause measured through the pulse plugin (2.0 s).
pub const STARTUP: Duration = Duration::from_secs(4);

/// The most callbacks of a (re)started stream answered with silence (see [`Prefill`]),
/// for a device that never makes its callbacks wait.
const MAX_PREFILL_CALLBACKS: u32 = 16;

/// How often the supervisor looks at the stream.
const WATCH_EVERY: Duration = Duration::from_millis(50);

/// How long a dropped stream may take to give the renderer back.
const GIVE_BACK: Duration = Duration::from_secs(5);

/// Distinct errors kept between two looks at the stream; more are not logged.
const MAX_PENDING_ERRORS: usize = 16;

/// One output device, as `gongan devices` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceInfo {
    /// The name to pass as `--output device:NAME` (ALSA's PCM name: `default`, `pulse`,
    /// `hw:CARD=PCH,DEV=0`…).
    pub name: String,
    /// What the host says it is ("PulseAudio Sound Server").
    pub description: String,
    /// Whether the host calls it the default output.
    pub default: bool,
    /// Its default channel count, rate and sample format, when it can tell.
    pub config: Option<String>,
}

/// A device's name for `--output device:NAME`: its host-specific id without the host
/// (`alsa:pulse` → `pulse`), or its description where the host has no id.
fn device_name(device: &cpal::Device) -> String {
    device
        .id()
        .map(|id| id.id().to_owned())
        .unwrap_or_else(|_| device.to_string())
}

/// Lists the output devices of the default host.
pub fn list_devices() -> Result<Vec<DeviceInfo>, OutputError> {
    let host = cpal::default_host();
    let default = host.default_output_device();
    let default_name = default.as_ref().map(device_name);
    let mut devices: Vec<cpal::Device> = host
        .output_devices()
        .map_err(|e| OutputError::Device(e.to_string()))?
        .collect();
    // ALSA's `default` is not among its hints; it is the one `--output device` opens.
    if let Some(default) = default
        && !devices.iter().any(|d| Some(device_name(d)) == default_name)
    {
        devices.insert(0, default);
    }
    Ok(devices
        .into_iter()
        .map(|device| {
            let name = device_name(&device);
            let config = device.default_output_config().ok().map(|c| {
                format!(
                    "{} ch, {} Hz, {}",
                    c.channels(),
                    c.sample_rate(),
                    c.sample_format()
                )
            });
            DeviceInfo {
                default: default_name.as_deref() == Some(name.as_str()),
                description: device.to_string(),
                name,
                config,
            }
        })
        .collect())
}

/// A sound card playing an engine. The stream lives on the supervisor's thread (cpal
/// streams need not be `Send`), which reopens the device when it fails; dropping this
/// stops both.
pub struct DeviceOutput {
    name: String,
    live: LiveThread,
}

impl DeviceOutput {
    /// [`DeviceOutput::open_with`] the [default latency](Latency::DEFAULT).
    pub fn open(
        name: Option<&str>,
        config: EngineConfig,
    ) -> Result<(Controller, DeviceOutput), OutputError> {
        DeviceOutput::open_with(name, config, Latency::DEFAULT)
    }

    /// Opens the default device, or the first whose name contains `name`, and starts
    /// playing a new engine through it with about `latency` of audio queued. The engine
    /// runs at 48 kHz when the device supports it, else at the device's default rate; a
    /// reopened device runs at the same rate.
    ///
    /// # Errors
    /// The device cannot be found or opened now. (Failures after this are recovered
    /// from, and reported through [`DeviceOutput::watch`].)
    pub fn open_with(
        name: Option<&str>,
        config: EngineConfig,
        latency: Latency,
    ) -> Result<(Controller, DeviceOutput), OutputError> {
        let (opened_tx, opened_rx) = mpsc::channel();
        let wanted = name.map(str::to_owned);
        let live = LiveThread::spawn("the sound card", "gongan-device-output", move |ends| {
            raise_priority_of_this_thread();
            let (home, returned) = mpsc::channel();
            let opened = open_first(wanted.as_deref(), config, latency, &home, &ends.meter);
            let live = match opened {
                Ok((controller, live)) => {
                    let _ = opened_tx.send(Ok((controller, live.device.clone())));
                    live
                }
                Err(err) => {
                    let _ = opened_tx.send(Err(err));
                    return;
                }
            };
            Supervisor {
                wanted,
                latency,
                home,
                returned,
                health: ends.health,
                meter: ends.meter,
                stop: ends.stop,
                episode: Episode::default(),
                last_error: None,
            }
            .run(live);
        })
        .map_err(OutputError::Thread)?;
        let (controller, device_name) = opened_rx
            .recv()
            .map_err(|_| OutputError::Device("the audio thread ended while opening".into()))??;
        Ok((
            controller,
            DeviceOutput {
                name: device_name,
                live,
            },
        ))
    }

    /// The device's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Why the device is not playing, while it is down (unplugged, its sound server gone)
    /// and being reopened; `None` while it plays, even if it reported errors it recovered
    /// from by itself.
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

    /// The delay the device reported in its latest callback between that callback and
    /// the playback of its first frame (its buffer and the sound server's delay); `None`
    /// before it reported one and while the device is down.
    #[must_use]
    pub fn latency(&self) -> Option<Duration> {
        self.live.latency()
    }
}

/// The renderer on loan to one stream's data callback. When the callback is dropped (with
/// its stream, or by cpal when building the stream failed), the renderer goes home, so
/// the next stream carries on with the same engine.
struct Lease {
    renderer: Option<Renderer>,
    home: mpsc::Sender<Renderer>,
}

impl Lease {
    fn new(renderer: Renderer, home: &mpsc::Sender<Renderer>) -> Lease {
        Lease {
            renderer: Some(renderer),
            home: home.clone(),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(renderer) = self.renderer.take() {
            // Nobody home: the output is being dropped, and the renderer with it.
            let _ = self.home.send(renderer);
        }
    }
}

/// What one stream's callbacks report to the supervisor: counters and flags only (the
/// callbacks never block on them), and the errors that differ from the one before.
struct Vitals {
    callbacks: AtomicU64,
    rendered: AtomicU64,
    restarts: AtomicU64,
    /// Set on an underrun, taken by the data callback to fill the buffer anew.
    restarted: AtomicBool,
    /// cpal said the stream is gone for good.
    lost: AtomicBool,
    errors: Mutex<Vec<cpal::Error>>,
}

impl Vitals {
    fn new() -> Arc<Vitals> {
        Arc::new(Vitals {
            callbacks: AtomicU64::new(0),
            rendered: AtomicU64::new(0),
            restarts: AtomicU64::new(0),
            restarted: AtomicBool::new(false),
            lost: AtomicBool::new(false),
            errors: Mutex::new(Vec::with_capacity(MAX_PENDING_ERRORS)),
        })
    }

    fn read(&self) -> Reading {
        Reading {
            restarts: self.restarts.load(Ordering::Acquire),
            callbacks: self.callbacks.load(Ordering::Acquire),
            rendered: self.rendered.load(Ordering::Acquire),
            lost: self.lost.load(Ordering::Acquire),
        }
    }

    /// The errors reported since the last call, oldest first.
    fn take_errors(&self) -> Vec<cpal::Error> {
        match self.errors.lock() {
            // Drained, not swapped: the callback's vector keeps its capacity.
            Ok(mut errors) => errors.drain(..).collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// A sample of a stream's [`Vitals`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Reading {
    /// Data callbacks so far, silent ones included.
    callbacks: u64,
    /// Data callbacks that rendered the engine.
    rendered: u64,
    /// Underruns the stream restarted after.
    restarts: u64,
    /// Whether cpal reported the stream gone.
    lost: bool,
}

/// Why a stream was given up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// cpal reported the device gone.
    Lost,
    /// It flowed, then its callbacks stood still for [`STALL`].
    Stalled,
    /// It did not start flowing within [`STARTUP`] of opening (or of an underrun).
    NeverStarted,
}

/// What the watchdog makes of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Opened or restarted, not flowing yet, still within its allowance.
    Starting,
    /// Rendering, with callbacks arriving.
    Flowing,
    /// Give up on it.
    Failed(Failure),
}

/// Decides from successive [`Reading`]s of one stream whether it is starting, flowing or
/// failed. Pure: it is given the time.
#[derive(Debug)]
struct Watchdog {
    last: Reading,
    /// When the stream was opened or last restarted after an underrun.
    phase_start: Instant,
    /// `rendered` at `phase_start`: rendering beyond it means flowing.
    rendered_at_phase: u64,
    /// The last time the callbacks moved (or the stream restarted).
    last_life: Instant,
    flowing: bool,
}

impl Watchdog {
    fn new(now: Instant) -> Watchdog {
        Watchdog {
            last: Reading::default(),
            phase_start: now,
            rendered_at_phase: 0,
            last_life: now,
            flowing: false,
        }
    }

    fn observe(&mut self, reading: Reading, now: Instant) -> Verdict {
        if reading.lost {
            return Verdict::Failed(Failure::Lost);
        }
        if reading.restarts != self.last.restarts {
            // An underrun: the stream fills its buffer again and may pause as at startup.
            self.phase_start = now;
            self.last_life = now;
            self.rendered_at_phase = reading.rendered;
            self.flowing = false;
        }
        if reading.callbacks != self.last.callbacks {
            self.last_life = now;
        }
        if reading.rendered > self.rendered_at_phase {
            self.flowing = true;
        }
        self.last = reading;
        if self.flowing {
            if now.saturating_duration_since(self.last_life) > STALL {
                Verdict::Failed(Failure::Stalled)
            } else {
                Verdict::Flowing
            }
        } else if now.saturating_duration_since(self.phase_start) > STARTUP {
            Verdict::Failed(Failure::NeverStarted)
        } else {
            Verdict::Starting
        }
    }
}

/// Which callbacks of a new stream (or one restarted after an underrun) are answered with
/// silence instead of rendered: those that only fill the device's buffer. When that audio
/// will be heard is unknown — the pulse plugin fills its whole buffer (three periods) at
/// once, reports the delay of a running stream, and then may hold it for up to two seconds
/// until the sound server starts taking it. The first callback that had to wait for the
/// device (half a block or more after the one before) shows that audio is being taken;
/// rendering starts there. So every block the engine renders is stamped with an honest
/// "heard at" instant, and no stroke is put into audio that sits in a buffer for seconds.
#[derive(Debug, Default)]
struct Prefill {
    /// Silent callbacks so far.
    silent: u32,
    /// Done filling: render every callback from now on.
    filled: bool,
    /// When the callback before came.
    last: Option<HostTime>,
}

impl Prefill {
    /// Whether the callback at `now`, for a block lasting `block`, is to be silence.
    fn silent(&mut self, now: HostTime, block: Duration) -> bool {
        let waited = self
            .last
            .is_some_and(|last| now.saturating_since(last) >= block / 2);
        self.last = Some(now);
        if self.filled || waited || self.silent >= MAX_PREFILL_CALLBACKS {
            self.filled = true;
            return false;
        }
        self.silent += 1;
        true
    }
}

/// One stream and what its callbacks report.
struct Live {
    stream: cpal::Stream,
    vitals: Arc<Vitals>,
    device: String,
    /// The engine's rate, which every stream of an output runs at.
    rate: u32,
    /// The frames per callback the device granted, when it says.
    period: Option<u32>,
}

/// How watching a stream ended.
enum Watched {
    /// The output is being dropped.
    Stopped,
    /// The stream flows (only when watching until it does).
    Flowing,
    /// The stream failed.
    Failed(Failure),
}

/// The supervisor thread's state: watches the stream and reopens the device when it fails.
struct Supervisor {
    wanted: Option<String>,
    latency: Latency,
    home: mpsc::Sender<Renderer>,
    returned: mpsc::Receiver<Renderer>,
    health: watch::Sender<OutputHealth>,
    meter: Arc<LatencyMeter>,
    stop: mpsc::Receiver<()>,
    episode: Episode,
    /// The latest error the current stream reported, for the fault text.
    last_error: Option<String>,
}

impl Supervisor {
    /// Watches `live`; when it fails, reopens the device until a stream flows again; until
    /// the output is dropped.
    fn run(mut self, mut live: Live) {
        let rate = live.rate;
        loop {
            let failure = match self.watch(&live, false) {
                Watched::Failed(failure) => failure,
                Watched::Stopped | Watched::Flowing => return,
            };
            let outage = Instant::now();
            let cause = self.describe(failure);
            tracing::error!("{cause}; reopening it");
            self.episode = Episode::default();
            self.meter.forget();
            self.health.send_replace(OutputHealth::Degraded {
                fault: cause.clone(),
            });
            // Attempts against a missing sound server make libasound print a line each to
            // stderr; the error each attempt returns is logged once per outage instead.
            quiet_alsa_errors_on_this_thread();
            let Some(mut renderer) = self.take_back(live) else {
                return self.stuck(&cause);
            };
            let mut attempt = 0;
            live = loop {
                if self.stopped_within(reopen_delay(attempt)) {
                    return;
                }
                attempt += 1;
                let lease = Lease::new(renderer, &self.home);
                match open_stream(
                    self.wanted.as_deref(),
                    rate,
                    self.latency,
                    lease,
                    &self.meter,
                ) {
                    Ok(new) => match self.watch(&new, true) {
                        Watched::Flowing => break new,
                        Watched::Stopped => return,
                        Watched::Failed(failure) => {
                            let why = self.describe(failure);
                            self.note_fault(&cause, &why);
                            renderer = match self.take_back(new) {
                                Some(renderer) => renderer,
                                None => return self.stuck(&cause),
                            };
                        }
                    },
                    Err(err) => {
                        let why = match err {
                            OutputError::Device(why) => why,
                            other => other.to_string(),
                        };
                        self.note_fault(&cause, &format!("cannot reopen it: {why}"));
                        renderer = match self.returned.recv_timeout(GIVE_BACK) {
                            Ok(renderer) => renderer,
                            Err(_) => return self.stuck(&cause),
                        };
                    }
                }
            };
            let after = outage.elapsed();
            tracing::info!(
                device = %live.device,
                period_frames = live.period,
                attempts = attempt,
                "the sound card is playing again after {:.1} s",
                after.as_secs_f64()
            );
            self.episode = Episode::default();
            self.health.send_replace(OutputHealth::Playing {
                recovered: Some(after),
            });
        }
    }

    /// Watches a stream until the output stops, the stream fails, or — when
    /// `until_flowing` — it flows. Logs its errors, each distinct one once per episode.
    fn watch(&mut self, live: &Live, until_flowing: bool) -> Watched {
        let mut watchdog = Watchdog::new(Instant::now());
        let mut flowing = false;
        loop {
            if self.stopped_within(WATCH_EVERY) {
                return Watched::Stopped;
            }
            for error in live.vitals.take_errors() {
                let message = error.to_string();
                if self.episode.first_time(&message) {
                    tracing::warn!("sound card error: {message}");
                }
                self.last_error = Some(message);
            }
            let verdict = watchdog.observe(live.vitals.read(), Instant::now());
            match verdict {
                Verdict::Failed(failure) => return Watched::Failed(failure),
                Verdict::Flowing if until_flowing => return Watched::Flowing,
                // Errors the stream got over while (re)starting are not why it may fail
                // later.
                Verdict::Flowing if !flowing => self.last_error = None,
                Verdict::Flowing | Verdict::Starting => {}
            }
            flowing = verdict == Verdict::Flowing;
        }
    }

    /// Whether the output was dropped, waiting up to `wait` for it.
    fn stopped_within(&self, wait: Duration) -> bool {
        !matches!(
            self.stop.recv_timeout(wait),
            Err(mpsc::RecvTimeoutError::Timeout)
        )
    }

    /// Drops a stream and takes the renderer back from its callback.
    fn take_back(&mut self, live: Live) -> Option<Renderer> {
        // cpal joins the stream's worker, which drops the callback and so the lease.
        let Live { stream, .. } = live;
        drop(stream);
        self.last_error = None;
        self.returned.recv_timeout(GIVE_BACK).ok()
    }

    /// The fault text for a failure: what happened, with the stream's last error.
    fn describe(&self, failure: Failure) -> String {
        let what = match failure {
            Failure::Lost => "the sound card went away",
            Failure::Stalled => "the sound card stopped taking audio",
            Failure::NeverStarted => "the sound card took no audio after it was opened",
        };
        match &self.last_error {
            Some(error) => format!("{what} ({error})"),
            None => what.to_owned(),
        }
    }

    /// A reason the device still cannot play: logged and published once per outage.
    fn note_fault(&mut self, cause: &str, why: &str) {
        if self.episode.first_time(why) {
            tracing::warn!("sound card: {why}");
            self.health.send_replace(OutputHealth::Degraded {
                fault: format!("{cause}; {why}"),
            });
        }
    }

    /// The stream never gave the renderer back: no new stream can play it.
    fn stuck(&self, cause: &str) {
        let fault = format!(
            "{cause}; its audio thread did not let go, so it cannot be reopened: restart gongan"
        );
        tracing::error!("{fault}");
        self.health.send_replace(OutputHealth::Degraded { fault });
        // Wait to be dropped.
        let _ = self.stop.recv();
    }
}

/// Opens the device for the first time: picks the engine's rate (48 kHz when the device
/// supports it, else its default rate), builds the engine and starts a stream with it.
fn open_first(
    name: Option<&str>,
    config: EngineConfig,
    latency: Latency,
    home: &mpsc::Sender<Renderer>,
    meter: &Arc<LatencyMeter>,
) -> Result<(Controller, Live), OutputError> {
    let device = find_device(name)?;
    let device_name = device.to_string();
    let default_rate = device
        .default_output_config()
        .map_err(|e| OutputError::Device(format!("{device_name}: {e}")))?
        .sample_rate();
    let supports_default = device
        .supported_output_configs()
        .map(|mut configs| configs.any(|c| c.contains_rate(DEFAULT_SAMPLE_RATE)))
        .unwrap_or(false);
    let rate = if supports_default {
        DEFAULT_SAMPLE_RATE
    } else {
        default_rate
    };
    let (controller, renderer) = engine(EngineConfig {
        sample_rate: rate,
        ..config
    });
    drop(device);
    let live = open_stream(name, rate, latency, Lease::new(renderer, home), meter)?;
    tracing::info!(
        device = %live.device,
        rate,
        period_frames = live.period,
        latency = %latency,
        "playing to the sound card"
    );
    Ok((controller, live))
}

/// Finds the device (a fresh host each time, so that a sound server that came back is seen:
/// ALSA rereads its configuration once every handle on the old one is gone), picks a
/// config at the engine's `rate`, and starts a stream rendering the leased renderer.
/// On an error the lease is dropped, and the renderer is home.
fn open_stream(
    name: Option<&str>,
    rate: u32,
    latency: Latency,
    lease: Lease,
    meter: &Arc<LatencyMeter>,
) -> Result<Live, OutputError> {
    let device = find_device(name)?;
    let device_name = device.to_string();
    let (config, format) = choose_config(&device, rate, latency)?;
    let vitals = Vitals::new();
    let built = match format {
        SampleFormat::F32 => build::<f32>(&device, config, lease, &vitals, meter),
        SampleFormat::I16 => build::<i16>(&device, config, lease, &vitals, meter),
        SampleFormat::I32 => build::<i32>(&device, config, lease, &vitals, meter),
        SampleFormat::U16 => build::<u16>(&device, config, lease, &vitals, meter),
        other => {
            return Err(OutputError::Device(format!(
                "{device_name}: unsupported sample format {other}"
            )));
        }
    };
    let stream = built.map_err(|e| {
        OutputError::Device(format!(
            "{device_name}: {e} (asked for {} Hz and a {latency} buffer)",
            config.sample_rate
        ))
    })?;
    stream
        .play()
        .map_err(|e| OutputError::Device(format!("{device_name}: {e}")))?;
    Ok(Live {
        period: stream.buffer_size().ok(),
        stream,
        vitals,
        device: device_name,
        rate,
    })
}

/// The default output device, or the one named `name` (else the first whose name or
/// description contains it).
fn find_device(name: Option<&str>) -> Result<cpal::Device, OutputError> {
    let host = cpal::default_host();
    match name {
        None => host
            .default_output_device()
            .ok_or_else(|| OutputError::NoDevice("(no default sound card)".into())),
        Some(wanted) => {
            let devices: Vec<cpal::Device> = host
                .output_devices()
                .map_err(|e| OutputError::Device(e.to_string()))?
                .collect();
            // The name `gongan devices` prints, exactly; else a part of a name or of a
            // description ("device:Pulse").
            let exact = devices.iter().position(|d| device_name(d) == wanted);
            let partial = || {
                devices
                    .iter()
                    .position(|d| device_name(d).contains(wanted) || d.to_string().contains(wanted))
            };
            exact
                .or_else(partial)
                .map(|i| devices.into_iter().nth(i).expect("an index of devices"))
                .ok_or_else(|| {
                    OutputError::NoDevice(format!(
                        "matching '{wanted}' (gongan devices lists their names)"
                    ))
                })
        }
    }
}

/// Sample formats the callback can write.
fn writable(format: SampleFormat) -> bool {
    matches!(
        format,
        SampleFormat::F32 | SampleFormat::I16 | SampleFormat::I32 | SampleFormat::U16
    )
}

/// The stream config to open `device` with at exactly `rate`: the device's default
/// channel count and sample format when they offer that rate, else the closest config
/// that does (32-bit float and stereo preferred). The buffer is about `latency`: cpal's
/// ALSA backend makes a buffer of two requested periods, so the period asked for is half
/// the latency, kept inside what the device accepts.
fn choose_config(
    device: &cpal::Device,
    rate: u32,
    latency: Latency,
) -> Result<(StreamConfig, SampleFormat), OutputError> {
    let name = device.to_string();
    let default = device.default_output_config().ok();
    let mut configs: Vec<_> = device
        .supported_output_configs()
        .map_err(|e| OutputError::Device(format!("{name}: {e}")))?
        .filter(|c| c.channels() >= 1 && c.contains_rate(rate) && writable(c.sample_format()))
        .collect();
    configs.sort_by_key(|c| {
        (
            default
                .as_ref()
                .is_none_or(|d| d.channels() != c.channels()),
            default
                .as_ref()
                .is_none_or(|d| d.sample_format() != c.sample_format()),
            c.sample_format() != SampleFormat::F32,
            c.channels().abs_diff(2),
        )
    });
    let chosen = configs.first().ok_or_else(|| {
        OutputError::Device(format!(
            "{name} does not offer {rate} Hz (the engine's rate) in a sample format gongan writes"
        ))
    })?;
    let period = (latency.frames(rate) / 2).max(1);
    let period = match *chosen.buffer_size() {
        SupportedBufferSize::Range { min, max } if min <= max => period.clamp(min, max),
        _ => period,
    };
    Ok((
        StreamConfig {
            channels: chosen.channels(),
            sample_rate: rate,
            buffer_size: BufferSize::Fixed(period),
        },
        chosen.sample_format(),
    ))
}

fn build<T>(
    device: &cpal::Device,
    config: StreamConfig,
    mut lease: Lease,
    vitals: &Arc<Vitals>,
    meter: &Arc<LatencyMeter>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + FromSample<f32>,
{
    let channels = usize::from(config.channels.max(1));
    let mut scratch = vec![0.0f32; CHANNELS * SCRATCH_FRAMES];
    let rate = u64::from(config.sample_rate);
    let mut prefill = Prefill::default();
    let data_vitals = vitals.clone();
    let meter = meter.clone();
    let data = move |out: &mut [T], info: &cpal::OutputCallbackInfo| {
        let vitals = &data_vitals;
        vitals.callbacks.fetch_add(1, Ordering::AcqRel);
        if vitals.restarted.swap(false, Ordering::AcqRel) {
            prefill = Prefill::default();
        }
        let block = Duration::from_nanos((out.len() / channels) as u64 * 1_000_000_000 / rate);
        let silent = prefill.silent(HostTime::now(), block);
        let renderer = match lease.renderer.as_mut() {
            Some(renderer) if !silent => renderer,
            _ => {
                out.fill(T::from_sample(0.0f32));
                return;
            }
        };
        // When this buffer's first frame reaches the speaker: now plus the delay cpal
        // reports between this callback and its playback (the device's buffering).
        let timestamp = info.timestamp();
        let delay = timestamp.playback.duration_since(timestamp.callback);
        meter.set(delay);
        let mut heard = HostTime::now() + delay;
        for chunk in out.chunks_mut(channels * SCRATCH_FRAMES) {
            let frames = chunk.len() / channels;
            let stereo = &mut scratch[..CHANNELS * frames];
            renderer.render_heard(stereo, heard);
            heard = heard + Duration::from_nanos(frames as u64 * 1_000_000_000 / rate);
            for (frame, lr) in chunk.chunks_exact_mut(channels).zip(stereo.chunks_exact(2)) {
                if channels == 1 {
                    frame[0] = T::from_sample(0.5 * (lr[0] + lr[1]));
                } else {
                    frame[0] = T::from_sample(lr[0]);
                    frame[1] = T::from_sample(lr[1]);
                    for extra in &mut frame[2..] {
                        *extra = T::from_sample(0.0);
                    }
                }
            }
        }
        vitals.rendered.fetch_add(1, Ordering::AcqRel);
    };
    let error_vitals = vitals.clone();
    let mut last: Option<cpal::Error> = None;
    let error = move |err: cpal::Error| {
        let vitals = &error_vitals;
        match err.kind() {
            ErrorKind::Xrun => {
                vitals.restarts.fetch_add(1, Ordering::AcqRel);
                vitals.restarted.store(true, Ordering::Release);
            }
            ErrorKind::DeviceNotAvailable
            | ErrorKind::StreamInvalidated
            | ErrorKind::HostUnavailable => vitals.lost.store(true, Ordering::Release),
            _ => {}
        }
        // A dead device repeats its error in a tight loop: hand over only a change, and
        // never wait for the supervisor.
        if last.as_ref() != Some(&err) {
            if let Ok(mut pending) = vitals.errors.try_lock()
                && pending.len() < MAX_PENDING_ERRORS
            {
                pending.push(err.clone());
            }
            last = Some(err);
        }
    };
    device.build_output_stream(config, data, error, None)
}

/// Stops libasound from printing its own error lines to stderr for calls made on this
/// thread (each failed attempt to reach a missing PulseAudio prints one): the error each
/// call returns says the same, and is logged once per outage.
#[cfg(target_os = "linux")]
fn quiet_alsa_errors_on_this_thread() {
    use std::ffi::{c_char, c_int, c_void};
    /// `snd_local_error_handler_t`; the `va_list` is passed as a pointer and left alone.
    type LocalHandler = unsafe extern "C" fn(
        *const c_char,
        c_int,
        *const c_char,
        c_int,
        *const c_char,
        *mut c_void,
    );
    unsafe extern "C" {
        /// alsa-lib's thread-local error handler (since 1.1.6); libasound is linked for
        /// cpal already.
        fn snd_lib_error_set_local(handler: Option<LocalHandler>) -> Option<LocalHandler>;
    }
    unsafe extern "C" fn ignore(
        _file: *const c_char,
        _line: c_int,
        _function: *const c_char,
        _err: c_int,
        _fmt: *const c_char,
        _args: *mut c_void,
    ) {
    }
    // SAFETY: installs a handler for this thread only; `ignore` matches the handler's
    // signature and reads none of its arguments.
    unsafe {
        snd_lib_error_set_local(Some(ignore));
    }
}

#[cfg(not(target_os = "linux"))]
fn quiet_alsa_errors_on_this_thread() {}

#[cfg(test)]
mod test {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Feeds the watchdog a reading every 50 ms from `start` and returns the verdicts.
    fn replay(readings: &[(u64, Reading)]) -> Vec<Verdict> {
        let start = Instant::now();
        let mut watchdog = Watchdog::new(start);
        readings
            .iter()
            .map(|(at, reading)| watchdog.observe(*reading, start + ms(*at)))
            .collect()
    }

    fn reading(callbacks: u64, rendered: u64, restarts: u64) -> Reading {
        Reading {
            callbacks,
            rendered,
            restarts,
            lost: false,
        }
    }

    #[test]
    fn a_new_stream_may_pause_for_its_startup_allowance() {
        // One silent callback at once, then nothing for two seconds (the pulse plugin on an
        // idle null sink), then it flows.
        let verdicts = replay(&[
            (50, reading(1, 0, 0)),
            (2000, reading(1, 0, 0)),
            (2050, reading(4, 2, 0)),
            (2100, reading(6, 4, 0)),
        ]);
        assert_eq!(
            verdicts,
            [
                Verdict::Starting,
                Verdict::Starting,
                Verdict::Flowing,
                Verdict::Flowing
            ]
        );
        // One that never flows is given up after the allowance.
        let verdicts = replay(&[(3900, reading(1, 0, 0)), (4100, reading(1, 0, 0))]);
        assert_eq!(
            verdicts,
            [Verdict::Starting, Verdict::Failed(Failure::NeverStarted)]
        );
    }

    #[test]
    fn a_flowing_stream_fails_only_after_a_long_stall() {
        let verdicts = replay(&[
            (50, reading(3, 1, 0)),
            (1950, reading(3, 1, 0)),
            (2000, reading(4, 2, 0)),
            (4000, reading(4, 2, 0)),
            (4100, reading(4, 2, 0)),
        ]);
        assert_eq!(
            verdicts,
            [
                Verdict::Flowing,
                Verdict::Flowing,
                Verdict::Flowing,
                Verdict::Flowing,
                Verdict::Failed(Failure::Stalled)
            ]
        );
    }

    #[test]
    fn an_underrun_restarts_the_startup_allowance() {
        // Flowing, then a hiccup: an underrun, and the plugin's startup pause again, longer
        // than STALL but within STARTUP.
        let verdicts = replay(&[
            (50, reading(3, 1, 0)),
            (400, reading(4, 2, 1)),
            (3000, reading(4, 2, 1)),
            (3100, reading(7, 3, 1)),
        ]);
        assert_eq!(
            verdicts,
            [
                Verdict::Flowing,
                Verdict::Starting,
                Verdict::Starting,
                Verdict::Flowing
            ]
        );
    }

    #[test]
    fn a_stream_renders_once_the_device_takes_audio() {
        let block = ms(10);
        let at = |n: u64| HostTime::from_nanos(n * 1_000_000);
        // The pulse plugin: three callbacks back to back fill its buffer, the fourth comes
        // after the sound server's startup pause.
        let mut prefill = Prefill::default();
        let silent: Vec<_> = [0, 0, 1, 1900, 1910, 1911, 1930]
            .iter()
            .map(|t| prefill.silent(at(*t), block))
            .collect();
        assert_eq!(silent, [true, true, true, false, false, false, false]);
        // A sound card: two periods fill it, the third waits a period.
        let mut prefill = Prefill::default();
        let silent: Vec<_> = [0, 0, 10, 20]
            .iter()
            .map(|t| prefill.silent(at(*t), block))
            .collect();
        assert_eq!(silent, [true, true, false, false]);
        // A device that never makes a callback wait is rendered to after a while.
        let mut prefill = Prefill::default();
        let silent = (0..20).filter(|_| prefill.silent(at(0), block)).count();
        assert_eq!(silent, MAX_PREFILL_CALLBACKS as usize);
    }

    #[test]
    fn a_lost_device_fails_at_once() {
        let lost = Reading {
            lost: true,
            ..reading(5, 3, 0)
        };
        assert_eq!(
            replay(&[(50, reading(3, 1, 0)), (100, lost)]),
            [Verdict::Flowing, Verdict::Failed(Failure::Lost)]
        );
    }
}
