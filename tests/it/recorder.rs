//! A recording of the null sink's monitor in which every frame has a host instant.
//!
//! `parec --raw` streams the monitor into a pipe, and one thread does nothing but read it
//! and note the `Instant` each chunk arrived at. PulseAudio's null sink is paced by the
//! same clock (CLOCK_MONOTONIC), so recorded frames and host time advance together, and a
//! frame's host instant is the instant of frame 0 plus `frame / 48 kHz` — with that instant
//! found afresh around each frame, because the sink's clock drifts a little (see
//! `MonitorClock::offset_near`).
//!
//! The instant of frame 0 comes from the lower envelope of the arrivals. The null sink
//! renders a block when its clock reaches the block's first frame, and the monitor hands the
//! block on at once: a chunk never arrives before its first frame's moment, and arrives late
//! by however long the server, `parec`, the pipe and the scheduler took. Among the hundreds
//! of chunks of the half second before a frame, the earliest (relative to its first frame)
//! is one that was not delayed. Only steady chunks (whole blocks) count: the short
//! top-ups the sink renders when woken early start ahead of its clock.
//!
//! Measured error, by
//! `sound_path::the_recorder_places_a_click_after_it_was_written_and_within_a_millisecond`:
//! a [`click`] written into a `pacat` stream at a known instant, which PulseAudio plays at
//! once (the stream returns from an underrun and the sink rewinds for it), is placed
//! 0.09–0.14 ms (least of 30 clicks) and 0.11–0.19 ms (median) after it was written, in
//! five runs on this 2-core machine with other builds running (load 2–3; ten more runs
//! with an earlier, symmetric window: 0.08–0.12 and 0.10–0.16 ms). A click cannot be heard
//! before it is written, so the mapping is late by at most about 0.1 ms; the write, the
//! pipe to `pacat`, its socket to the server and the sink's wake-up take some tens of
//! microseconds, so it is not early by more than about 0.1 ms either: **±0.1 ms**.
//! `paplay` of a WAV file, request → heard, measured the same way in those runs: 4.0–7.0 ms
//! median (least 3.7–6.2 ms).
//! Placing each frame by the later of the floors behind and ahead of it (so that frames the
//! recording lost under load do not place later ones early; see `MonitorClock::offset_near`)
//! gave 0.14–0.17 ms (least) and 0.23–0.24 ms (median) in two runs on an idle machine.

use std::io::Read;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::pulse::SINK;

/// The recording's rate: the null sink's (scripts/test-pulse sets 48 kHz), so PulseAudio
/// does not resample between the sink and the recording.
pub const RATE: u32 = 48_000;
const CHANNELS: usize = 2;
const FRAME_BYTES: usize = 4 * CHANNELS;
/// The latency `parec` asks for. The null sink's block is the smallest latency any client
/// asks for, so with this the recorder sets the beat — steady blocks of 2 ms (or less, if a
/// player asks for less), which the fit needs. At 10 ms, with gongan's stream (about 13 ms)
/// also playing, blocks and fragments do not line up and no steady run of chunks is left.
const LATENCY_MS: u32 = 2;

/// One read from the pipe: `frames` frames, the first being recorded frame `first`, that
/// were in this process at `at`.
#[derive(Clone, Copy, Debug)]
struct Arrival {
    at: Instant,
    first: u64,
    frames: u64,
}

#[derive(Default)]
struct Log {
    samples: Vec<f32>,
    arrivals: Vec<Arrival>,
}

struct Shared {
    frames: AtomicU64,
    log: Mutex<Log>,
}

/// `parec` recording the null sink's monitor, as 32-bit float stereo at 48 kHz; stopped
/// (and its process killed) when dropped.
pub struct Recording {
    child: Child,
    reader: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl Recording {
    /// Starts recording the tests' null sink and returns once audio is arriving.
    pub fn start() -> Recording {
        Recording::start_sink(SINK)
    }

    /// Starts recording the monitor of the null sink `sink` (another null sink a test
    /// loaded beside the tests' own) and returns once audio is arriving.
    pub fn start_sink(sink: &str) -> Recording {
        let mut child = Command::new("parec")
            .arg(format!("--device={sink}.monitor"))
            .args([
                "--raw",
                "--rate=48000",
                "--channels=2",
                "--format=float32le",
            ])
            .arg(format!("--latency-msec={LATENCY_MS}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("parec (pulseaudio-utils) must be installed; `make test` installs it");
        let pipe = child.stdout.take().expect("parec's stdout");
        let shared = Arc::new(Shared {
            frames: AtomicU64::new(0),
            log: Mutex::new(Log::default()),
        });
        let reader = std::thread::Builder::new()
            .name("recorder".into())
            .spawn({
                let shared = shared.clone();
                move || read(pipe, &shared)
            })
            .expect("the recorder's thread");
        let mut recording = Recording {
            child,
            reader: Some(reader),
            shared,
        };
        // A tenth of a second of audio: parec is connected and the monitor is flowing.
        let deadline = Instant::now() + Duration::from_secs(10);
        while recording.frames_so_far() < u64::from(RATE) / 10 {
            if let Ok(Some(status)) = recording.child.try_wait() {
                panic!("parec ended before recording anything ({status})");
            }
            assert!(Instant::now() < deadline, "parec recorded no audio in 10 s");
            std::thread::sleep(Duration::from_millis(5));
        }
        recording
    }

    /// Frames recorded so far.
    pub fn frames_so_far(&self) -> u64 {
        self.shared.frames.load(Ordering::Acquire)
    }

    /// Stops recording and returns the samples with their clock.
    pub fn stop(mut self) -> Recorded {
        self.end();
        let log = std::mem::take(&mut *self.shared.log.lock().unwrap());
        if let Some(dir) = std::env::var_os("GONGAN_TEST_RECORDINGS") {
            keep(std::path::Path::new(&dir), &log);
        }
        Recorded {
            clock: MonitorClock::fit(&log.arrivals),
            samples: log.samples,
        }
    }

    fn end(&mut self) {
        // Raw audio has no header to finish: parec may simply be killed.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the recorder's thread");
        }
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.end();
    }
}

/// Reads the pipe until parec ends, noting when each chunk arrived. Nothing else happens on
/// this thread, so it is back in `read` as soon as it can be.
fn read(mut pipe: ChildStdout, shared: &Shared) {
    let mut buf = vec![0u8; 1 << 16];
    let mut pending: Vec<u8> = Vec::with_capacity(1 << 17);
    let mut frames = 0u64;
    loop {
        let n = match pipe.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let at = Instant::now();
        pending.extend_from_slice(&buf[..n]);
        let whole = pending.len() / FRAME_BYTES;
        if whole == 0 {
            continue;
        }
        let bytes = whole * FRAME_BYTES;
        {
            let mut log = shared.log.lock().unwrap();
            log.samples.extend(
                pending[..bytes]
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            );
            log.arrivals.push(Arrival {
                at,
                first: frames,
                frames: whole as u64,
            });
        }
        pending.drain(..bytes);
        frames += whole as u64;
        shared.frames.store(frames, Ordering::Release);
    }
}

/// What was recorded: interleaved stereo samples and the host instant of each frame.
pub struct Recorded {
    /// Interleaved stereo at [`RATE`].
    pub samples: Vec<f32>,
    /// Recorded frame → host instant.
    pub clock: MonitorClock,
}

/// With `GONGAN_TEST_RECORDINGS=DIR`, every recording is kept for a post-mortem, named
/// after its test: `TEST-N.wav` (float32 stereo) and `TEST-N.arrivals` (one line per chunk:
/// seconds since the first chunk, first frame, frames).
fn keep(dir: &std::path::Path, log: &Log) {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let test = std::thread::current()
        .name()
        .unwrap_or("recording")
        .replace("::", "-");
    let base = dir.join(format!("{test}-{}", COUNT.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(dir).expect("GONGAN_TEST_RECORDINGS is a folder");
    let spec = hound::WavSpec {
        channels: CHANNELS as u16,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut wav = hound::WavWriter::create(base.with_extension("wav"), spec).unwrap();
    for &s in &log.samples {
        wav.write_sample(s).unwrap();
    }
    wav.finalize().unwrap();
    let Some(t0) = log.arrivals.first().map(|a| a.at) else {
        return;
    };
    let lines: String = log
        .arrivals
        .iter()
        .map(|a| {
            format!(
                "{:.6} {} {}\n",
                (a.at - t0).as_secs_f64(),
                a.first,
                a.frames
            )
        })
        .collect();
    std::fs::write(base.with_extension("arrivals"), lines).unwrap();
    eprintln!("recorder: kept {}.wav and .arrivals", base.display());
}

/// Recorded frames ↔ host instants (see the module's documentation).
#[derive(Clone, Debug)]
pub struct MonitorClock {
    /// Each steady chunk's first frame, and the host instant frame 0 would have had by it
    /// (its arrival minus its first frame's duration), in recording order.
    points: Vec<(u64, Instant)>,
    /// The most common steady chunk size: the sink's block, mostly.
    block: u64,
    /// How far the sink's clock ran from the host's over the recording, in seconds
    /// (followed by the fit; see `offset_near`).
    drift: f64,
}

/// The steady chunks that place a frame: those that began in the half second before it
/// or in the 20 ms after it (the chunks of the frame itself), and those of the half second
/// after it (see `offset_near`).
const BEFORE: u64 = RATE as u64 / 2;
const AFTER: u64 = RATE as u64 / 50;
/// Fewest steady chunks to place a frame by; the span widens until it holds this many.
const FEWEST: usize = 20;

impl MonitorClock {
    fn fit(arrivals: &[Arrival]) -> MonitorClock {
        // A steady chunk is one sink block: the same size as the chunks before and after
        // it. That leaves out reads that gathered several blocks (late, harmless) and the
        // short top-ups the sink renders when woken early (a stream starting, a rewind):
        // a top-up of a block of B frames that is S frames long starts B − S frames ahead
        // of the sink's clock, and would pull the envelope early.
        let points: Vec<(u64, Instant)> = arrivals
            .windows(3)
            .filter(|w| w[0].frames == w[1].frames && w[1].frames == w[2].frames)
            .map(|w| (w[1].first, w[1].at - frames_to_duration(w[1].first)))
            .collect();
        assert!(
            points.len() >= FEWEST,
            "too few steady chunks to place the recording in time ({} of {} chunks)",
            points.len(),
            arrivals.len()
        );
        let mut sizes = std::collections::HashMap::<u64, usize>::new();
        for w in arrivals.windows(3) {
            if w[0].frames == w[1].frames && w[1].frames == w[2].frames {
                *sizes.entry(w[1].frames).or_default() += 1;
            }
        }
        let block = sizes
            .into_iter()
            .max_by_key(|&(size, count)| (count, size))
            .map_or(0, |(size, _)| size);
        let mut clock = MonitorClock {
            points,
            block,
            drift: 0.0,
        };
        let (first, last) = (clock.points[0].0, clock.points[clock.points.len() - 1].0);
        clock.drift = signed_seconds(clock.offset_near(last), clock.offset_near(first));
        clock
    }

    /// The host instant of frame 0, as the steady chunks around `frame` place it. Not one
    /// origin for the whole recording: the monitor's frames do not keep exactly to the
    /// host's clock, and they step.
    ///
    /// - The recording can *gain* frames: a stream that starts, stops or returns from an
    ///   underrun makes the null sink rewind and render again, and the monitor can hand on
    ///   the re-rendered frames after those it had delivered (measured: a 1.8 ms step when
    ///   a `pacat` stream ended; 60–100 ppm in a session with gongan's stream, by
    ///   `benches/sound_path.rs`). Later chunks' offsets step down.
    /// - It can *lose* frames when the machine is busy (a click placed 1.07 ms before it
    ///   was written, in a local run with builds going). Later chunks' offsets step up.
    /// - And the sink advances its clock by each block's length rounded down to a
    ///   microsecond (a few ppm either way).
    ///
    /// A floor (the earliest chunk) over the chunks behind the frame is right unless frames
    /// were lost behind it — it then places the frame early; a floor over the chunks ahead
    /// is right unless frames were gained ahead of it — early again. Each is only ever
    /// early, so the frame is placed by the later of the two.
    fn offset_near(&self, frame: u64) -> Instant {
        let behind = self
            .floor(frame.saturating_sub(BEFORE), frame.saturating_add(AFTER))
            .expect("steady chunks");
        match self.floor(frame, frame.saturating_add(BEFORE)) {
            Some(ahead) => behind.max(ahead),
            None => behind,
        }
    }

    /// The earliest offset among the steady chunks that began in `from..=to`, the span
    /// widened on both sides until it holds [`FEWEST`] of them; `None` if no chunk began
    /// at `from` or later.
    fn floor(&self, from: u64, to: u64) -> Option<Instant> {
        let first = self.points.partition_point(|p| p.0 < from);
        if first == self.points.len() {
            return None;
        }
        let width = to.saturating_sub(from).max(1);
        let (mut from, mut to) = (from, to);
        loop {
            let start = self.points.partition_point(|p| p.0 < from);
            let end = self.points.partition_point(|p| p.0 <= to);
            if end - start >= FEWEST || (start == 0 && end == self.points.len()) {
                return self.points[start..end].iter().map(|p| p.1).min();
            }
            // Near either end of a recording there are few chunks: look further.
            from = from.saturating_sub(width);
            to = to.saturating_add(width);
        }
    }

    /// The host instant recorded frame `frame` was played at by the null sink.
    #[must_use]
    pub fn instant_of(&self, frame: u64) -> Instant {
        self.offset_near(frame) + frames_to_duration(frame)
    }

    /// The recorded frame (fractional) the null sink played at `at`; negative before the
    /// recording began.
    #[must_use]
    pub fn frame_at(&self, at: Instant) -> f64 {
        let rate = f64::from(RATE);
        // Placed by the chunks around the first guess, then around the better one.
        let guess = signed_seconds(at, self.points[0].1) * rate;
        let better = signed_seconds(at, self.offset_near(guess.max(0.0) as u64)) * rate;
        signed_seconds(at, self.offset_near(better.max(0.0) as u64)) * rate
    }

    /// One line on how the mapping was found, for a test's output.
    #[must_use]
    pub fn describe(&self) -> String {
        format!(
            "fitted to {} steady chunks, mostly of {} frames; the sink's clock drifted \
             {:+.3} ms from the host's",
            self.points.len(),
            self.block,
            self.drift * 1e3
        )
    }
}

/// `a - b` in seconds, negative when `a` is earlier.
fn signed_seconds(a: Instant, b: Instant) -> f64 {
    if a >= b {
        (a - b).as_secs_f64()
    } else {
        -(b - a).as_secs_f64()
    }
}

fn frames_to_duration(frames: u64) -> Duration {
    Duration::from_nanos((u128::from(frames) * 1_000_000_000 / u128::from(RATE)) as u64)
}

/// The loudest sample of the left channel: what onsets are found relative to.
#[must_use]
pub fn left_peak(samples: &[f32]) -> f32 {
    samples
        .iter()
        .step_by(CHANNELS)
        .fold(0.0f32, |m, s| m.max(s.abs()))
}

/// Where a sound starts: every frame (of the left channel) whose level passes `threshold`
/// after at least `quiet` frames below it.
#[must_use]
pub fn onsets(samples: &[f32], threshold: f32, quiet: usize) -> Vec<usize> {
    let mut onsets = Vec::new();
    let mut last_loud: Option<usize> = None;
    for (frame, s) in samples.iter().step_by(CHANNELS).enumerate() {
        if s.abs() > threshold {
            if last_loud.is_none_or(|l| frame - l > quiet) {
                onsets.push(frame);
            }
            last_loud = Some(frame);
        }
    }
    onsets
}

/// Gaps in a sound: runs of at least `min_frames` frames of exact silence (both channels)
/// between sound at about the same level on either side (within 5 ms; the level after at
/// most ten times the level before, so the silence before a new stroke's attack is not
/// one) — what the null sink plays for a stream that underran in the middle of a sound.
/// `(first frame, frames)` each.
#[must_use]
pub fn dropouts(samples: &[f32], min_frames: usize) -> Vec<(usize, usize)> {
    let frames: Vec<&[f32]> = samples.chunks_exact(CHANNELS).collect();
    let silent = |f: &[f32]| f.iter().all(|&s| s == 0.0);
    let near = RATE as usize / 200;
    let level = |range: std::ops::Range<usize>| {
        frames[range]
            .iter()
            .flat_map(|f| f.iter())
            .fold(0.0f32, |m, s| m.max(s.abs()))
    };
    let mut gaps = Vec::new();
    let mut i = 0;
    while i < frames.len() {
        if !silent(frames[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < frames.len() && silent(frames[i]) {
            i += 1;
        }
        if i - start >= min_frames && start > 0 && i < frames.len() {
            let before = level(start.saturating_sub(near)..start);
            let after = level(i..(i + near).min(frames.len()));
            if before > 1e-4 && after > 1e-4 && after < 10.0 * before {
                gaps.push((start, i - start));
            }
        }
    }
    gaps
}

/// Frames in a [`click`]: 10 ms.
pub const CLICK_FRAMES: usize = 480;
const CLICK_PEAK: f32 = 0.9;

/// A click to time a player by (mono): a ramp from 0.9 down to 0 over 10 ms. Its start can
/// be placed to a fraction of a frame even when its first frames are missing from the
/// recording — and they can be: a stream that starts (or returns from an underrun) makes
/// the null sink rewind and play it at once, over audio the monitor has already delivered,
/// and the monitor then drops the overlap, up to one sink block of the click's beginning.
/// Any sample of the ramp says how far into the click it is.
#[must_use]
pub fn click() -> Vec<f32> {
    (0..CLICK_FRAMES)
        .map(|i| CLICK_PEAK * (1.0 - i as f32 / CLICK_FRAMES as f32))
        .collect()
}

/// Where each [`click`] in a recording starts, in (fractional) recorded frames: at a jump
/// of the left channel up onto the ramp, that frame minus how far down the ramp it is.
/// Clicks a stalled player sent back to back are told apart; a second jump inside a click
/// (a rewind can leave a piece of it twice in the monitor) is not a new click.
#[must_use]
pub fn click_starts(samples: &[f32]) -> Vec<f64> {
    let left: Vec<f32> = samples.iter().step_by(CHANNELS).copied().collect();
    let step = f64::from(CLICK_PEAK) / CLICK_FRAMES as f64;
    let mut starts: Vec<f64> = Vec::new();
    for (i, w) in left.windows(2).enumerate() {
        if w[1] - w[0] > CLICK_PEAK / 2.0 {
            let start = (i + 1) as f64 - (f64::from(CLICK_PEAK) - f64::from(w[1])) / step;
            if starts
                .last()
                .is_none_or(|&last| start - last > CLICK_FRAMES as f64 - 10.0)
            {
                starts.push(start);
            }
        }
    }
    starts
}

/// A pack whose every instrument is a 10 ms click, so each stroke is one sharp onset in
/// both recordings.
pub fn single_click_pack() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(dir.path().join("click.wav"), spec).unwrap();
    for s in click() {
        writer.write_sample(s).unwrap();
    }
    writer.finalize().unwrap();
    let instruments: String = [
        "gong", "suwukan", "kempul", "kenong", "ketuk", "kempyang", "bonang", "saron",
    ]
    .iter()
    .map(|name| format!("[instruments.{name}]\nfile = \"click.wav\"\n"))
    .collect();
    std::fs::write(
        dir.path().join("pack.toml"),
        format!("name = \"clicks\"\n{instruments}"),
    )
    .unwrap();
    dir
}

/// Where each stroke starts in a recording, as host instants.
pub fn stroke_instants(recorded: &Recorded) -> Vec<Instant> {
    let peak = left_peak(&recorded.samples);
    assert!(peak > 0.01, "nothing was heard (peak {peak})");
    // Strokes of one beat land together; beats are at least a tenth of a second apart.
    onsets(&recorded.samples, peak / 5.0, RATE as usize / 20)
        .into_iter()
        .map(|frame| recorded.clock.instant_of(frame as u64))
        .collect()
}

/// The `p` quantile (0–1) of `sorted`, the nearest rank.
#[must_use]
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The spread of signed differences in milliseconds, for a test's report: the p50, p95
/// and largest magnitude, then the signed median and range.
#[must_use]
pub fn spread(values: &[f64]) -> String {
    let mut sorted: Vec<f64> = values.iter().map(|v| v.abs()).collect();
    sorted.sort_by(f64::total_cmp);
    let mut signed = values.to_vec();
    signed.sort_by(f64::total_cmp);
    format!(
        "|Δ| p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms; signed p50 {:.2} ms, from {:.2} to {:.2} ms",
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.95),
        sorted[sorted.len() - 1],
        percentile(&signed, 0.5),
        signed[0],
        signed[signed.len() - 1],
    )
}
