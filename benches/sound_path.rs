//! The live sound path, measured (PRODUCT.md §8, issue 8): `gongan serve --output device`
//! through cpal → ALSA → a private PulseAudio null sink, recorded from the sink's monitor
//! by `tests/it/recorder.rs`, each recorded frame placed on the host clock (see
//! [`LocalClock`]).
//!
//! Run it through `scripts/bench-sound-path`, which starts a PulseAudio of its own for it
//! (never the user's, and not the one `make test` uses, so a test playing at the same time
//! cannot end up in the recording):
//!
//! ```sh
//! scripts/bench-sound-path strokes --minutes 30   # A: every stroke of a session, stressed
//! scripts/bench-sound-path cues --cues 150        # B: POST /v1/cues → heard, beside paplay
//! ```
//!
//! Options: `--minutes N` (A's length, default 5), `--segment-seconds S` (A's segments,
//! lancaran at full density, default 24: 16 strokes each), `--cues N` (B, per player and
//! phase, default 150), `--no-stress` (A without `stress-ng --cpu 2`), `--latency MS`
//! (passed to `gongan serve --latency`), `--output device|pulse` (passed to `gongan serve
//! --output`, default `device`: cpal; `pulse` is PulseAudio's own protocol, which writes a
//! cue asked for now into the audio already queued), `--out DIR` (where the per-stroke tables, the
//! server's log and the summary go; default `target/bench-sound-path/MODE-UNIXTIME`).
//!
//! ## The sound
//!
//! The server plays a pack whose every instrument is one sound: a linear ramp from its peak
//! down to 0 over 100 ms ([`ramp`]). A ramp can be placed to a fraction of a frame at any
//! level: a straight line fitted to the recorded samples meets zero exactly [`RAMP`]
//! frames after the sound began, however loud the pack and the stroke made it, and even if
//! its first frames are missing (a player whose stream starts makes the null sink rewind,
//! and the monitor drops up to one sink block of the beginning: `paplay` does that). The
//! pack's `gain_db` keeps two simultaneous strokes (kenong and gong on a segment's last
//! beat) well under the limiter's threshold, so the engine plays every stroke as the
//! ramp, scaled, and strokes on the same frame add up to a ramp too.
//!
//! ## What counts as what (A)
//!
//! Recorded frames are placed on the host clock by [`LocalClock`], the lower hull of the
//! recorder's chunk arrivals around each frame (the null sink's clock runs 60–90 ppm fast
//! while gongan plays into it).
//!
//! The planned strokes come from the library's pure timeline of the same plan (not from
//! the server's events, so a stroke the server never mentions still counts); strokes on
//! the same session frame form one *group*, heard as one ramp. A stroke's planned host
//! instant is the session's host origin plus its session frames. The origin: the server
//! gives UTC instants only to the millisecond, but every `GET /v1/session` snapshot carries
//! one moment twice, as exact session seconds and as UTC truncated to the millisecond, so
//! `utc − seconds` is at most the UTC origin and, over a few hundred snapshots at random
//! phases of the millisecond, its maximum is the origin within a few microseconds. One
//! reading of `SystemTime` and `Instant` together then places it on the host clock.
//!
//! - **heard**: the start of the ramp found within ±150 ms of the group's planned instant;
//!   error = heard − planned.
//! - **lost**: no onset in that window.
//! - **mangled**: the recording does not match the scaled ramp: residual energy, over
//!   2 ms before to 20 ms after the ramp, above 1e-3 of the ramp's (−30 dB; an intact
//!   stroke leaves about 1e-7, the 16-bit sink's rounding), on either channel; or a
//!   dropout (8 or more frames of digital silence inside the ramp); or a level more than
//!   1 dB from what the group's strokes add up to (a stroke of a group lost, or doubled),
//!   relative to the median of the run.
//! - **unexpected**: onsets that belong to no planned stroke (a stroke played twice or in
//!   the wrong place).
//!
//! The server's side is counted too: its `stroke` events against the plan, and the strokes
//! its `missed` events report.
//!
//! ## B
//!
//! Request time is taken just before the request is sent (gongan: the HTTP request on a
//! warm keep-alive connection; `paplay`: spawning the process); heard is the start of the
//! ramp in the recording, the first one from 5 ms before the request on. The two players
//! alternate, each request ≥ 450 ms after the last and after the last sound has played
//! out, idle and then under `stress-ng --cpu 2`, all in one recording. `paplay`'s new
//! stream loses up to a sink block of its beginning to the rewind that starts it: the
//! ramp's start is still found, and that loss is counted apart from other damage.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use gongan::session::{History, SESSION_RATE, TimelineOptions, ValidPlan, timeline};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

#[allow(dead_code)]
#[path = "../tests/it/pulse.rs"]
mod pulse;
#[allow(dead_code)]
#[path = "../tests/it/recorder.rs"]
mod recorder;

use recorder::{RATE, Recorded, Recording, onsets};

/// Frames in the bench sound's ramp: 100 ms.
const RAMP: usize = 4_800;
/// The ramp's first sample in the WAV file (what `paplay` plays).
const RAMP_PEAK: f32 = 0.5;
/// Onsets: the first sample over this level after [`QUIET`] frames under it.
const THRESHOLD: f32 = 0.004;
/// 150 ms: longer than the ramp is loud, shorter than the closest strokes (400 ms).
const QUIET: usize = 7_200;
/// A group's onset is searched this far either side of its planned instant.
const WINDOW_S: f64 = 0.150;
/// Residual energy over the ramp's energy above which a stroke is mangled.
const MANGLED_RESIDUAL: f64 = 1e-3;
/// Level difference from the run's median above which a stroke is mangled.
const MANGLED_LEVEL_DB: f64 = 1.0;
/// Frames of digital silence inside a ramp that make a dropout.
const DROPOUT_FRAMES: usize = 8;

type Http = Client<HttpConnector, Full<Bytes>>;

struct Options {
    mode: String,
    minutes: f64,
    segment_seconds: u32,
    cues: usize,
    stress: bool,
    latency: Option<u64>,
    /// `gongan serve --output`: `device` (cpal) or `pulse` (PulseAudio's own protocol).
    output: String,
    out: Option<PathBuf>,
}

fn usage() -> ! {
    eprintln!(
        "usage: scripts/bench-sound-path strokes|cues [--minutes N] [--segment-seconds S] \
         [--cues N] [--no-stress] [--latency MS] [--output device|pulse] [--out DIR]"
    );
    std::process::exit(2)
}

fn options() -> Option<Options> {
    let mut options = Options {
        mode: String::new(),
        minutes: 5.0,
        segment_seconds: 24,
        cues: 150,
        stress: true,
        latency: None,
        output: "device".into(),
        out: None,
    };
    // `cargo bench` adds `--bench`; it means nothing here.
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let value = |args: &mut dyn Iterator<Item = String>, name: &str| {
        args.next().unwrap_or_else(|| {
            eprintln!("{name} needs a value");
            usage()
        })
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "strokes" | "cues" => options.mode = arg,
            "--minutes" => {
                options.minutes = value(&mut args, &arg).parse().unwrap_or_else(|_| usage())
            }
            "--segment-seconds" => {
                options.segment_seconds = value(&mut args, &arg).parse().unwrap_or_else(|_| usage())
            }
            "--cues" => options.cues = value(&mut args, &arg).parse().unwrap_or_else(|_| usage()),
            "--no-stress" => options.stress = false,
            "--latency" => {
                options.latency = Some(value(&mut args, &arg).parse().unwrap_or_else(|_| usage()))
            }
            "--output" => options.output = value(&mut args, &arg),
            "--out" => options.out = Some(value(&mut args, &arg).into()),
            _ => usage(),
        }
    }
    if options.mode.is_empty() {
        None
    } else {
        Some(options)
    }
}

fn main() {
    let Some(options) = options() else {
        // `cargo bench` runs every benchmark without arguments: this one needs a sound
        // server of its own and takes minutes, so it says how to run it instead.
        println!(
            "sound_path: skipped; run it with `scripts/bench-sound-path strokes --minutes 30` \
             and `scripts/bench-sound-path cues` (see benches/sound_path.rs)"
        );
        return;
    };
    if std::env::var_os("GONGAN_PULSE_DIR").is_none() {
        eprintln!(
            "sound_path: not pointed at a private PulseAudio; run it through \
             scripts/bench-sound-path"
        );
        std::process::exit(2);
    }
    pulse::require_null_sink();
    let out = options.out.clone().unwrap_or_else(|| {
        let unix = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/bench-sound-path")
            .join(format!("{}-{unix}", options.mode))
    });
    std::fs::create_dir_all(&out).unwrap();
    // The recorder keeps each recording (WAV and chunk arrivals) where this names: the
    // arrivals are what [`LocalClock`] is fitted to.
    // SAFETY: no other thread exists yet to read the environment concurrently.
    unsafe { std::env::set_var("GONGAN_TEST_RECORDINGS", &out) };
    let pack = out.join("pack");
    write_pack(&pack);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let summary = match options.mode.as_str() {
        "strokes" => runtime.block_on(strokes(&options, &out, &pack)),
        _ => runtime.block_on(cues(&options, &out, &pack)),
    };
    print!("{summary}");
    std::fs::write(out.join("summary.txt"), &summary).unwrap();
    println!("details in {}", out.display());
}

/// The bench sound: a ramp from [`RAMP_PEAK`] down to 0 over [`RAMP`] frames.
fn ramp() -> Vec<f32> {
    (0..RAMP)
        .map(|i| RAMP_PEAK * (1.0 - i as f32 / RAMP as f32))
        .collect()
}

/// A pack in which every instrument the timeline strikes is [`ramp`].
fn write_pack(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    // Stereo, the same on both sides: `paplay` plays a mono file on the left only.
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut wav = hound::WavWriter::create(dir.join("ramp.wav"), spec).unwrap();
    for s in ramp() {
        wav.write_sample(s).unwrap();
        wav.write_sample(s).unwrap();
    }
    wav.finalize().unwrap();
    let mut manifest = String::from(
        "name = \"bench-ramp\"\ndescription = \"Every instrument a 100 ms ramp: \
         benches/sound_path.rs\"\nauthor = \"gongan\"\nlicence = \"CC0-1.0\"\n",
    );
    for name in [
        "gong", "suwukan", "kempul", "kenong", "ketuk", "kempyang", "bonang", "saron",
    ] {
        // The pack's loudness normalisation plays the short ramp at about 0.63 of full
        // scale; −14 dB brings a stroke to 0.13, so the loudest group (gong + kenong on
        // a segment's last beat) stays far under the limiter's threshold (0.891) and is
        // played as the sum of its ramps.
        let _ = write!(
            manifest,
            "\n[instruments.{name}]\nfile = \"ramp.wav\"\ngain_db = -14.0\n"
        );
    }
    std::fs::write(dir.join("pack.toml"), manifest).unwrap();
}

/// `gongan serve` on the sound card with the bench pack, its log in `out/server.log`.
struct Server {
    child: Child,
    port: u16,
    http: Http,
}

impl Server {
    async fn start(options: &Options, out: &Path, pack: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let data = out.join("data");
        std::fs::create_dir_all(&data).unwrap();
        let log = std::fs::File::create(out.join("server.log")).unwrap();
        // Another build of the server may be measured beside this one, in the same
        // conditions (`GONGAN_BENCH_SERVER=/path/to/gongan`).
        let binary = std::env::var_os("GONGAN_BENCH_SERVER")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_gongan").into());
        let mut command = Command::new(binary);
        command
            .args(["serve", "--output", &options.output, "--bind"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(&data)
            .arg("--pack")
            .arg(pack);
        if let Some(ms) = options.latency {
            command.arg("--latency").arg(ms.to_string());
        }
        let child = command
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "gongan=info".into()),
            )
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("gongan serve");
        let server = Server {
            child,
            port,
            http: Client::builder(TokioExecutor::new()).build_http(),
        };
        let started = Instant::now();
        let health = loop {
            if let Ok((200, health)) = server.try_call(Method::GET, "/healthz", None).await {
                break health;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not answer in 30 s (see {}/server.log)",
                out.display()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(health["output"], "device", "{health}");
        // A new PulseAudio stream takes a second or two to start flowing.
        loop {
            let (_, status) = server.call(Method::GET, "/v1/status", None).await;
            if status["engine"]["seconds"].as_f64().unwrap_or(0.0) >= 3.0 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the device clock does not advance: {status}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn try_call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let mut request = Request::builder().method(method).uri(self.url(path));
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(
                body.map(Value::to_string).unwrap_or_default(),
            )))
            .unwrap();
        let response = self
            .http
            .request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.try_call(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Follows `/v1/events` into `events` (arrival instant, event) until the stream ends.
    fn follow_events(&self, events: Arc<Mutex<Vec<(Instant, Value)>>>) {
        let http = self.http.clone();
        let url = self.url("/v1/events");
        tokio::spawn(async move {
            let request = Request::get(url).body(Full::new(Bytes::new())).unwrap();
            let Ok(response) = http.request(request).await else {
                return;
            };
            let mut body = response.into_body();
            let mut pending = String::new();
            while let Some(Ok(frame)) = body.frame().await {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                let at = Instant::now();
                pending.push_str(&String::from_utf8_lossy(&data));
                while let Some(end) = pending.find("\n\n") {
                    let block: String = pending.drain(..end + 2).collect();
                    for line in block.lines() {
                        if let Some(data) = line.strip_prefix("data:")
                            && let Ok(value) = serde_json::from_str::<Value>(data.trim())
                        {
                            events.lock().unwrap().push((at, value));
                        }
                    }
                }
            }
        });
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// `stress-ng --cpu 2`, stopped (SIGTERM to it, which ends its workers) when dropped.
struct Stress(Option<Child>);

impl Stress {
    fn start(on: bool, limit: Duration) -> Stress {
        if !on {
            return Stress(None);
        }
        let child = Command::new("stress-ng")
            .args(["--cpu", "2", "--quiet", "--timeout"])
            // A bench killed halfway leaves no CPU hog running for long.
            .arg(format!("{}s", limit.as_secs() + 60))
            .stdout(Stdio::null())
            .spawn()
            .expect("stress-ng (scripts/bench-sound-path installs it)");
        // Let the workers take the cores before anything is measured.
        std::thread::sleep(Duration::from_secs(2));
        Stress(Some(child))
    }
}

impl Drop for Stress {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

/// `SystemTime` and `Instant` read together: the tightest of a few tries (error ≲ 1 µs).
fn clock_pair() -> (SystemTime, Instant) {
    let mut best: Option<(Duration, SystemTime, Instant)> = None;
    for _ in 0..20 {
        let before = Instant::now();
        let utc = SystemTime::now();
        let after = Instant::now();
        let width = after - before;
        if best.is_none_or(|(w, _, _)| width < w) {
            best = Some((width, utc, before + width / 2));
        }
    }
    let (_, utc, instant) = best.unwrap();
    (utc, instant)
}

/// Nanoseconds since the Unix epoch of an RFC 3339 UTC instant as gongan writes it
/// (`2026-11-22T09:30:00.125Z`).
fn parse_utc(text: &str) -> Option<i128> {
    let (date, time) = text.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, min, s) = (t.next()??, t.next()??, t.next()??);
    let nanos_frac = format!("{frac:0<9}")[..9].parse::<i64>().ok()?;
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + min * 60 + s;
    Some(i128::from(secs) * 1_000_000_000 + i128::from(nanos_frac))
}

fn unix_nanos(t: SystemTime) -> i128 {
    t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos() as i128
}

/// `base` moved by `nanos` (either way).
fn shifted(base: Instant, nanos: i128) -> Instant {
    if nanos >= 0 {
        base + Duration::from_nanos(nanos as u64)
    } else {
        base - Duration::from_nanos((-nanos) as u64)
    }
}

/// A small deterministic generator for the jitter between requests.
struct Jitter(u64);

impl Jitter {
    fn below(&mut self, max: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_nanos(self.0 % max.as_nanos().max(1) as u64)
    }
}

/// Recorded frames → host time, by the lower envelope of the chunk arrivals around each
/// frame: their lower convex hull within 3 s either side.
///
/// The monitor's frames do not keep exactly to the host's clock while gongan plays into
/// the null sink: its clock runs 60–90 ppm fast (0.1–0.16 s over a 30-minute recording),
/// smoothly — a straight line to a few microseconds over seconds. No chunk arrives before
/// its first frame is played, so the undelayed ones lie on that line and the hull of
/// 6 seconds of them finds it. The recorder's own clock takes the earliest chunk of the
/// half second before each frame instead; with `stress-ng` on both cores a half second
/// can pass without one undelayed chunk, and that placed strokes up to 11 ms late (p90
/// 1.7 ms) in a 5-minute run here, so the bench places frames itself and prints how far
/// the recorder's clock is from it.
///
/// The arrivals come from the file the recorder keeps (`GONGAN_TEST_RECORDINGS`; seconds
/// since its first chunk, to the microsecond). They are tied to host instants at the one
/// chunk whose offset is the least of the recording: the recorder places that chunk's
/// first frame at that chunk's arrival whatever span of chunks it looks at.
struct LocalClock {
    /// First frame of each steady chunk, ascending.
    firsts: Vec<f64>,
    /// Its arrival minus its first frame's time, in seconds since the file's first chunk.
    offsets: Vec<f64>,
    /// The host instant of the file's first chunk.
    t0: Instant,
}

impl LocalClock {
    /// Chunks this far either side of a frame place it, in seconds.
    const REACH: f64 = 3.0;

    /// The one `*.arrivals` file the recorder kept in `dir`, tied to `recorder`.
    fn load(dir: &Path, recorder: &recorder::MonitorClock) -> LocalClock {
        let path = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "arrivals"))
            .expect("the recorder kept its arrivals (GONGAN_TEST_RECORDINGS)");
        let text = std::fs::read_to_string(&path).unwrap();
        let chunks: Vec<(f64, u64, u64)> = text
            .lines()
            .filter_map(|line| {
                let mut f = line.split_whitespace();
                Some((
                    f.next()?.parse().ok()?,
                    f.next()?.parse().ok()?,
                    f.next()?.parse().ok()?,
                ))
            })
            .collect();
        let mut firsts = Vec::new();
        let mut offsets = Vec::new();
        let mut least = (f64::INFINITY, 0u64, 0.0f64);
        for w in chunks.windows(3) {
            // Steady chunks only, as the recorder fits them (see MonitorClock::fit).
            if w[0].2 == w[1].2 && w[1].2 == w[2].2 {
                let (arrival, first) = (w[1].0, w[1].1);
                let offset = arrival - first as f64 / f64::from(RATE);
                firsts.push(first as f64);
                offsets.push(offset);
                if offset < least.0 {
                    least = (offset, first, arrival);
                }
            }
        }
        let (_, first, arrival) = least;
        let t0 = recorder.instant_of(first) - Duration::from_secs_f64(arrival);
        LocalClock {
            firsts,
            offsets,
            t0,
        }
    }

    /// The offset (arrival minus frame time) at `frame`, on the hull, in the file's seconds.
    fn offset(&self, frame: f64) -> f64 {
        let reach = Self::REACH * f64::from(RATE);
        let lo = self.firsts.partition_point(|&f| f < frame - reach);
        let hi = self.firsts.partition_point(|&f| f <= frame + reach);
        // The lower convex hull of (first frame, offset), left to right.
        let mut hull: Vec<(f64, f64)> = Vec::new();
        for (&x, &y) in self.firsts[lo..hi].iter().zip(&self.offsets[lo..hi]) {
            while let [.., (x1, y1), (x2, y2)] = hull[..] {
                if (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1) <= 0.0 {
                    hull.pop();
                } else {
                    break;
                }
            }
            hull.push((x, y));
        }
        match hull[..] {
            // No chunk within reach (a recording shorter than that has some): the nearest.
            [] => {
                let k = lo.min(self.offsets.len() - 1);
                self.offsets[k]
            }
            [(x0, y0), ..] if frame <= x0 => y0,
            [.., (xn, yn)] if frame >= xn => yn,
            _ => hull
                .windows(2)
                .find(|w| w[0].0 <= frame && frame <= w[1].0)
                .map_or(hull[0].1, |w| {
                    let ((x1, y1), (x2, y2)) = (w[0], w[1]);
                    y1 + (y2 - y1) * (frame - x1) / (x2 - x1)
                }),
        }
    }

    /// Seconds from the file's first chunk to the moment recorded frame `frame` was played.
    fn seconds_of(&self, frame: f64) -> f64 {
        self.offset(frame) + frame / f64::from(RATE)
    }

    /// Seconds from the file's first chunk to `at` (negative before it).
    fn since(&self, at: Instant) -> f64 {
        if at >= self.t0 {
            (at - self.t0).as_secs_f64()
        } else {
            -(self.t0 - at).as_secs_f64()
        }
    }

    /// The recorded frame (fractional) played at `at`.
    fn frame_at(&self, at: Instant) -> f64 {
        let since = self.since(at);
        let mut frame = (since - self.offsets[0]) * f64::from(RATE);
        for _ in 0..3 {
            frame = (since - self.offset(frame)) * f64::from(RATE);
        }
        frame
    }

    /// How far the sink's clock ran ahead of the host's over the recording, in seconds.
    fn gained(&self) -> f64 {
        let last = self.firsts.last().copied().unwrap_or(0.0);
        self.offset(0.0) - self.offset(last)
    }

    /// How much later than this clock the recorder's own places `frame`, in seconds.
    fn recorder_minus_local(&self, recorder: &recorder::MonitorClock, frame: f64) -> f64 {
        self.since(recorder.instant_of(frame.max(0.0) as u64)) - self.seconds_of(frame.floor())
    }
}

/// A ramp found in the recording.
#[derive(Clone, Copy, Debug)]
struct Ramp {
    /// Where it starts, in recorded frames (fractional).
    start: f64,
    /// Its first sample's level (left channel).
    level: f64,
    /// Residual energy over the ramp's energy (the worse channel).
    residual: f64,
    /// The same from the first recorded frame of the ramp on: the residual of a ramp
    /// whose beginning is missing but which is otherwise whole.
    residual_after_head: f64,
    /// Frames of its beginning missing from the recording (the onset minus the start).
    head: usize,
    /// The longest run of digital silence inside it, in frames.
    dropout: usize,
}

/// Measures the ramp whose onset (first frame over [`THRESHOLD`]) is `onset`.
fn measure(left: &[f32], right: &[f32], onset: usize) -> Ramp {
    let len = left.len();
    // The start: a line through the first half of the ramp as recorded meets zero RAMP
    // frames after the sound began.
    let from = (onset + 1).min(len);
    let to = (onset + 1 + RAMP / 2).min(len);
    let (mut sn, mut sy, mut snn, mut sny) = (0.0, 0.0, 0.0, 0.0);
    for (n, &y) in (from..to).zip(&left[from..to]) {
        let (n, y) = ((n - onset) as f64, f64::from(y));
        sn += n;
        sy += y;
        snn += n * n;
        sny += n * y;
    }
    let count = (to - from) as f64;
    let slope = (count * sny - sn * sy) / (count * snn - sn * sn);
    let intercept = (sy - slope * sn) / count;
    // Every stream and the sink run at 48 kHz, so a sound starts on a whole frame: the
    // fit's fraction of a frame is its noise.
    let fitted = if slope < 0.0 && count > 10.0 {
        (onset as f64 - intercept / slope - RAMP as f64).round()
    } else {
        onset as f64
    };
    let fit = |channel: &[f32], start: f64, from: f64| -> (f64, f64) {
        let shape = |n: usize| {
            let into = n as f64 - start;
            if (0.0..RAMP as f64).contains(&into) {
                1.0 - into / RAMP as f64
            } else {
                0.0
            }
        };
        // From 2 ms before the ramp to 20 ms after it.
        let hi = ((start + RAMP as f64) as usize + 960).min(channel.len());
        let lo = (from.floor() as usize).saturating_sub(96).min(hi);
        let span = || (lo..hi).zip(&channel[lo..hi]);
        let (mut xr, mut rr) = (0.0, 0.0);
        for (n, &x) in span() {
            xr += f64::from(x) * shape(n);
            rr += shape(n) * shape(n);
        }
        let a = if rr > 0.0 { xr / rr } else { 0.0 };
        let mut residual = 0.0;
        for (n, &x) in span() {
            let e = f64::from(x) - a * shape(n);
            residual += e * e;
        }
        let energy = a * a * rr;
        (
            a,
            if energy > 0.0 {
                residual / energy
            } else {
                f64::INFINITY
            },
        )
    };
    // A quiet ramp falls by less than the sink's 16-bit step per frame, and the staircase
    // biases the line's zero by up to half a step: the fit can land a frame off. The ramp
    // starts on the neighbouring frame that matches it best.
    let start = [fitted - 1.0, fitted, fitted + 1.0]
        .into_iter()
        .min_by(|a, b| fit(left, *a, *a).1.total_cmp(&fit(left, *b, *b).1))
        .unwrap_or(fitted);
    let (level, left_residual) = fit(left, start, start);
    let (_, right_residual) = fit(right, start, start);
    // From the onset on: 2 ms before it would count the missing head again.
    let (_, left_tail) = fit(left, start, onset as f64 + 96.0);
    let (_, right_tail) = fit(right, start, onset as f64 + 96.0);
    // Digital silence inside the ramp after its onset (a missing beginning is `head`),
    // while the ramp is still above 1 % of its level.
    let first = (start.ceil().max(0.0) as usize).max(onset).min(len);
    let last = ((start + RAMP as f64 * 0.99) as usize).clamp(first, len);
    let (mut run, mut dropout) = (0usize, 0usize);
    for &s in &left[first..last] {
        run = if s == 0.0 { run + 1 } else { 0 };
        dropout = dropout.max(run);
    }
    Ramp {
        start,
        level,
        residual: left_residual.max(right_residual),
        residual_after_head: left_tail.max(right_tail),
        head: (onset as f64 - start).max(0.0) as usize,
        dropout,
    }
}

fn split(recorded: &Recorded) -> (Vec<f32>, Vec<f32>) {
    let left = recorded.samples.iter().step_by(2).copied().collect();
    let right = recorded
        .samples
        .iter()
        .skip(1)
        .step_by(2)
        .copied()
        .collect();
    (left, right)
}

/// The sorted values' nearest-rank percentile `p` (0..=1).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn sorted(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.into_iter().collect();
    v.sort_by(f64::total_cmp);
    v
}

/// "p50 / p99 / max" of `values`, in ms with `digits` decimals.
fn spread(values: &[f64], digits: usize) -> String {
    let s = sorted(values.iter().copied());
    format!(
        "p50 {:.d$} / p99 {:.d$} / max {:.d$} ms (min {:.d$}, n = {})",
        percentile(&s, 0.5),
        percentile(&s, 0.99),
        s.last().copied().unwrap_or(f64::NAN),
        s.first().copied().unwrap_or(f64::NAN),
        s.len(),
        d = digits
    )
}

fn load_note() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    format!(
        "{cores} cores; load average {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// One planned group: strokes on the same session frame.
struct Group {
    frame: u64,
    strokes: Vec<String>,
    /// The group's linear gain (the strokes' levels added up).
    gain: f64,
}

/// A: a whole session through the sound card, under `stress-ng --cpu 2`, every stroke
/// found in the recording.
async fn strokes(options: &Options, out: &Path, pack: &Path) -> String {
    let segments = ((options.minutes * 60.0) / f64::from(options.segment_seconds))
        .ceil()
        .max(1.0) as usize;
    let segment = json!({
        "title": "Bench",
        "duration": format!("{}s", options.segment_seconds),
        "form": "lancaran",
        "density": "full",
    });
    let plan = json!({"name": "Bench", "segments": vec![segment; segments]});
    let valid = ValidPlan::from_json(&plan.to_string()).expect("the bench plan is valid");
    let planned = timeline(
        &valid,
        &History::default(),
        &TimelineOptions::new(SESSION_RATE),
    );
    let mut groups: Vec<Group> = Vec::new();
    for stroke in planned.strokes() {
        let name = match stroke.variant {
            Some(v) => format!("{} {v}", stroke.instrument.name()),
            None => stroke.instrument.name().to_owned(),
        };
        let gain = 10f64.powf(f64::from(stroke.gain_db) / 20.0);
        match groups.last_mut() {
            Some(g) if g.frame == stroke.frame.0 => {
                g.strokes.push(name);
                g.gain += gain;
            }
            _ => groups.push(Group {
                frame: stroke.frame.0,
                strokes: vec![name],
                gain,
            }),
        }
    }
    let total_strokes = planned.strokes().len();
    let session_seconds = planned.planned_end().0 as f64 / f64::from(SESSION_RATE);
    println!(
        "A: {segments} segments of {} s, {total_strokes} strokes in {} groups over {:.0} s; \
         stress: {}",
        options.segment_seconds,
        groups.len(),
        session_seconds,
        options.stress
    );

    let recording = Recording::start();
    let server = Server::start(options, out, pack).await;
    let (_, health) = server.call(Method::GET, "/healthz", None).await;
    let stress = Stress::start(
        options.stress,
        Duration::from_secs_f64(session_seconds + 60.0),
    );
    let load_at_start = load_note();
    let events = Arc::new(Mutex::new(Vec::new()));
    server.follow_events(events.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;

    let (status, started) = server
        .call(Method::POST, "/v1/session", Some(&json!({"plan": plan})))
        .await;
    assert_eq!(status, 201, "{started}");
    let (pair_utc, pair_instant) = clock_pair();
    let started_utc = parse_utc(started["started"].as_str().unwrap()).unwrap();

    // Snapshots at random phases of the millisecond, many at first, then one every second
    // or so until the session ends (they also show the server answering under load).
    let mut jitter = Jitter(0x9E37_79B9_7F4A_7C15);
    let mut origin_utc = started_utc;
    let mut snapshots = 0usize;
    let mut pairs = vec![(pair_utc, pair_instant)];
    let mut slow_snapshots = Vec::new();
    let deadline = Instant::now() + Duration::from_secs_f64(session_seconds + 60.0);
    loop {
        let asked = Instant::now();
        let (status, snapshot) = server.call(Method::GET, "/v1/session", None).await;
        slow_snapshots.push(asked.elapsed().as_secs_f64() * 1e3);
        assert_eq!(status, 200, "{snapshot}");
        if let (Some(utc), Some(seconds)) = (
            snapshot["now"]["utc"].as_str().and_then(parse_utc),
            snapshot["now"]["seconds"].as_f64(),
        ) {
            origin_utc = origin_utc.max(utc - (seconds * 1e9).round() as i128);
            snapshots += 1;
        }
        let over = snapshot["state"] == "finished"
            || events
                .lock()
                .unwrap()
                .iter()
                .any(|(_, e)| e["type"] == "finished");
        if over {
            break;
        }
        assert!(Instant::now() < deadline, "the session did not finish");
        let pause = if snapshots < 300 {
            Duration::from_millis(3) + jitter.below(Duration::from_millis(7))
        } else {
            Duration::from_millis(700) + jitter.below(Duration::from_millis(600))
        };
        tokio::time::sleep(pause).await;
        if snapshots % 60 == 0 {
            pairs.push(clock_pair());
        }
    }
    pairs.push(clock_pair());
    // The last stroke's ramp and a little silence.
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(stress);
    let load_at_end = load_note();
    server.stop();
    let recorded = recording.stop();
    let local = LocalClock::load(out, &recorded.clock);
    let events = std::mem::take(&mut *events.lock().unwrap());

    // The session's host origin.
    let origin = shifted(pair_instant, origin_utc - unix_nanos(pair_utc));
    let planned_instant =
        |frame: u64| origin + Duration::from_nanos(frame * 1_000_000_000 / u64::from(SESSION_RATE));
    let (left, right) = split(&recorded);
    let found = onsets(&recorded.samples, THRESHOLD, QUIET);
    let window = WINDOW_S * f64::from(RATE);
    let mut used = vec![false; found.len()];
    struct Heard {
        group: usize,
        ramp: Option<Ramp>,
        error_ms: f64,
        /// The recorder's own clock's placing of the onset minus this bench's.
        recorder_ms: f64,
    }
    let mut heard = Vec::new();
    let mut cursor = 0;
    for (g, group) in groups.iter().enumerate() {
        let planned = planned_instant(group.frame);
        let expected = local.frame_at(planned);
        while cursor < found.len() && (found[cursor] as f64) < expected - window {
            cursor += 1;
        }
        let hit = (cursor..found.len())
            .take_while(|&k| (found[k] as f64) <= expected + window)
            .find(|&k| !used[k]);
        match hit {
            Some(k) => {
                used[k] = true;
                let ramp = measure(&left, &right, found[k]);
                heard.push(Heard {
                    group: g,
                    ramp: Some(ramp),
                    error_ms: (local.seconds_of(ramp.start) - local.since(planned)) * 1e3,
                    recorder_ms: local.recorder_minus_local(&recorded.clock, ramp.start) * 1e3,
                });
            }
            None => heard.push(Heard {
                group: g,
                ramp: None,
                error_ms: f64::NAN,
                recorder_ms: f64::NAN,
            }),
        }
    }
    // Level: each group's first sample against what its strokes add up to, relative to
    // the run's median.
    let ratios = sorted(
        heard
            .iter()
            .filter_map(|h| h.ramp.map(|r| r.level / groups[h.group].gain)),
    );
    let median_ratio = percentile(&ratios, 0.5);
    let level_db = |h: &Heard| {
        h.ramp
            .map(|r| 20.0 * (r.level / groups[h.group].gain / median_ratio).log10())
    };
    let mut csv =
        String::from("planned_seconds,strokes,error_ms,level_db,residual,dropout_frames,status\n");
    let (mut lost, mut mangled) = (Vec::new(), Vec::new());
    let mut errors = Vec::new();
    let mut residuals_ok = Vec::new();
    for h in &heard {
        let group = &groups[h.group];
        let seconds = group.frame as f64 / f64::from(SESSION_RATE);
        let status = match h.ramp {
            None => {
                lost.push(h.group);
                "lost"
            }
            Some(r) => {
                errors.push((seconds, h.error_ms));
                let level = level_db(h).unwrap();
                if r.residual > MANGLED_RESIDUAL
                    || r.dropout >= DROPOUT_FRAMES
                    || level.abs() > MANGLED_LEVEL_DB
                {
                    mangled.push(h.group);
                    "mangled"
                } else {
                    residuals_ok.push(r.residual);
                    "ok"
                }
            }
        };
        let _ = writeln!(
            csv,
            "{seconds:.6},{},{:.4},{:.3},{:.3e},{},{status}",
            group.strokes.join("+"),
            h.error_ms,
            level_db(h).unwrap_or(f64::NAN),
            h.ramp.map_or(f64::NAN, |r| r.residual),
            h.ramp.map_or(0, |r| r.dropout),
        );
    }
    std::fs::write(out.join("strokes.csv"), csv).unwrap();
    let unexpected: Vec<f64> = found
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(&f, _)| f as f64 / f64::from(RATE))
        .collect();

    // Drift: the least-squares slope of the error over the session, leaving out its first
    // minute (the output clock's fit settling after the stream opened) when it is longer
    // than two; and the first minute's strokes against the last minute's.
    let settled: Vec<(f64, f64)> = errors
        .iter()
        .copied()
        .filter(|(t, _)| session_seconds < 120.0 || *t >= 60.0)
        .collect();
    let n = settled.len() as f64;
    let (st, se) = settled
        .iter()
        .fold((0.0, 0.0), |(a, b), (t, e)| (a + t, b + e));
    let (mt, me) = (st / n, se / n);
    let (mut cov, mut var) = (0.0, 0.0);
    for (t, e) in &settled {
        cov += (t - mt) * (e - me);
        var += (t - mt) * (t - mt);
    }
    let slope = cov / var; // ms per second
    let first_minute = sorted(errors.iter().filter(|(t, _)| *t < 64.0).map(|(_, e)| *e));
    let last = errors.last().map_or(0.0, |(t, _)| *t);
    let last_minute = sorted(
        errors
            .iter()
            .filter(|(t, _)| *t > last - 60.0)
            .map(|(_, e)| *e),
    );
    // Wall clock against the monotonic clock over the run (NTP slewing, if any).
    let (u0, i0) = pairs[0];
    let (u1, i1) = *pairs.last().unwrap();
    let wall_minus_monotonic_us =
        ((unix_nanos(u1) - unix_nanos(u0)) - (i1 - i0).as_nanos() as i128) as f64 / 1e3;

    // The server's view.
    let count = |kind: &str| events.iter().filter(|(_, e)| e["type"] == kind).count();
    let missed: u64 = events
        .iter()
        .filter(|(_, e)| e["type"] == "missed")
        .filter_map(|(_, e)| e["strokes"].as_u64())
        .sum();
    let stroke_events: Vec<&Value> = events
        .iter()
        .map(|(_, e)| e)
        .filter(|e| e["type"] == "stroke")
        .collect();
    let mut planned_frames: Vec<u64> = planned.strokes().iter().map(|s| s.frame.0).collect();
    let mut reported: Vec<u64> = stroke_events
        .iter()
        .filter_map(|e| e["planned"].as_u64())
        .collect();
    planned_frames.sort_unstable();
    reported.sort_unstable();
    let unreported = {
        let mut missing = 0;
        let mut k = 0;
        for f in &planned_frames {
            while k < reported.len() && reported[k] < *f {
                k += 1;
            }
            if k < reported.len() && reported[k] == *f {
                k += 1;
            } else {
                missing += 1;
            }
        }
        missing
    };
    let outputs: Vec<String> = events
        .iter()
        .filter(|(_, e)| e["type"] == "output")
        .map(|(_, e)| format!("{} {}: {}", e["utc"], e["output"], e["detail"]))
        .collect();
    let log = std::fs::read_to_string(out.join("server.log")).unwrap_or_default();
    let log_lines = |word: &str| log.lines().filter(|l| l.contains(word)).count();

    let abs = sorted(errors.iter().map(|(_, e)| e.abs()));
    let signed: Vec<f64> = errors.iter().map(|(_, e)| *e).collect();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "== A: stroke heard vs planned, live, {} ==",
        if options.stress {
            "under stress-ng --cpu 2"
        } else {
            "no stress"
        }
    );
    let _ = writeln!(
        s,
        "session: {segments} × {} s lancaran (full) + 4 s buka = {session_seconds:.0} s, \
         {total_strokes} strokes in {} groups (strokes on one frame are one sound)",
        options.segment_seconds,
        groups.len()
    );
    let _ = writeln!(
        s,
        "machine: {load_at_start} at start, {load_at_end} at the end (others build and test \
         on the same 2 cores); server latency_ms {} at start{}",
        health["latency_ms"],
        options
            .latency
            .map_or(String::new(), |ms| format!(" (--latency {ms})"))
    );
    let recorder_gap: Vec<f64> = heard
        .iter()
        .map(|h| h.recorder_ms)
        .filter(|v| v.is_finite())
        .collect();
    let _ = writeln!(
        s,
        "the recorder's own clock places the strokes later than the bench's hull by {}",
        spread(&recorder_gap, 3)
    );
    let _ = writeln!(
        s,
        "recorder: {}; local fit: the sink's clock gained {:.2} ms on the host's; \
         session origin from {snapshots} snapshots: {:+.3} ms after the `started` \
         millisecond; snapshot round trip {}",
        recorded.clock.describe(),
        local.gained() * 1e3,
        (origin_utc - started_utc) as f64 / 1e6,
        spread(&slow_snapshots, 2)
    );
    let _ = writeln!(s, "heard − planned (signed): {}", spread(&signed, 3));
    let _ = writeln!(
        s,
        "|heard − planned|: p50 {:.3} / p99 {:.3} / max {:.3} ms (bar: p99 ≤ 2 ms); within \
         2 ms: {} of {} heard; over 5 ms: {}",
        percentile(&abs, 0.5),
        percentile(&abs, 0.99),
        abs.last().copied().unwrap_or(f64::NAN),
        abs.iter().filter(|e| **e <= 2.0).count(),
        abs.len(),
        abs.iter().filter(|e| **e > 5.0).count()
    );
    // Each minute's median error: drift shows as a trend, a settling clock as a tail.
    let minutes = (session_seconds / 60.0).ceil() as usize;
    let medians: Vec<String> = (0..minutes)
        .map(|m| {
            let minute = sorted(
                errors
                    .iter()
                    .filter(|(t, _)| (*t / 60.0) as usize == m)
                    .map(|(_, e)| *e),
            );
            format!("{:+.2}", percentile(&minute, 0.5))
        })
        .collect();
    let _ = writeln!(s, "median error of each minute (ms): {}", medians.join(" "));
    let _ = writeln!(
        s,
        "drift (error against session time{}): slope {:+.4} ms/hour → {:+.3} ms over 4 h \
         (bar: < 1 ms); first minute median {:+.3} ms, last minute median {:+.3} ms; wall \
         clock − monotonic over the run {:+.1} µs",
        if session_seconds < 120.0 {
            ""
        } else {
            ", after the first minute"
        },
        slope * 3600.0,
        slope * 4.0 * 3600.0,
        percentile(&first_minute, 0.5),
        percentile(&last_minute, 0.5),
        wall_minus_monotonic_us
    );
    let lost_strokes: usize = lost.iter().map(|&g| groups[g].strokes.len()).sum();
    let mangled_strokes: usize = mangled.iter().map(|&g| groups[g].strokes.len()).sum();
    let _ = writeln!(
        s,
        "lost: {} groups ({lost_strokes} strokes); mangled: {} groups ({mangled_strokes} \
         strokes); of {total_strokes} strokes (bar: 0 in 1000); unexpected onsets: {}",
        lost.len(),
        mangled.len(),
        unexpected.len()
    );
    let ok_residuals = sorted(residuals_ok.iter().copied());
    let _ = writeln!(
        s,
        "intact strokes: residual median {:.1e}, max {:.1e} (mangled above {MANGLED_RESIDUAL:.0e}); \
         level spread {:.2} dB (p1–p99)",
        percentile(&ok_residuals, 0.5),
        ok_residuals.last().copied().unwrap_or(f64::NAN),
        {
            let levels = sorted(heard.iter().filter_map(level_db));
            percentile(&levels, 0.99) - percentile(&levels, 0.01)
        }
    );
    for &g in lost.iter().chain(&mangled).take(20) {
        let h = heard.iter().find(|h| h.group == g).unwrap();
        let _ = writeln!(
            s,
            "  {:.3} s {}: {}",
            groups[g].frame as f64 / f64::from(SESSION_RATE),
            groups[g].strokes.join("+"),
            match h.ramp {
                None => "lost".to_owned(),
                Some(r) => format!(
                    "error {:+.3} ms, level {:+.2} dB, residual {:.2e}, dropout {} frames, \
                     beginning missing {} frames",
                    h.error_ms,
                    level_db(h).unwrap(),
                    r.residual,
                    r.dropout,
                    r.head
                ),
            }
        );
    }
    if !unexpected.is_empty() {
        let _ = writeln!(
            s,
            "  unexpected onsets at recorded seconds: {:?}",
            &unexpected[..unexpected.len().min(20)]
        );
    }
    let _ = writeln!(
        s,
        "server: {} stroke events for {total_strokes} planned ({unreported} planned strokes \
         never reported), missed events {} ({missed} strokes), output events {}, resync {}; \
         log lines: {} WARN, {} ERROR",
        stroke_events.len(),
        count("missed"),
        outputs.len(),
        count("resync"),
        log_lines("WARN"),
        log_lines("ERROR")
    );
    for o in outputs.iter().take(10) {
        let _ = writeln!(s, "  output: {o}");
    }
    s
}

/// One request to play the sound: gongan's `POST /v1/cues` or a `paplay`.
struct Ask {
    player: &'static str,
    stressed: bool,
    at: Instant,
    /// gongan's promise: seconds from its "now" until heard.
    in_seconds: Option<f64>,
    /// The HTTP round trip (gongan) or the process's run (paplay), ms.
    took_ms: f64,
}

/// B: `POST /v1/cues` → heard, beside `paplay` of the same WAV, idle and stressed.
async fn cues(options: &Options, out: &Path, pack: &Path) -> String {
    let wav = pack.join("ramp.wav");
    let recording = Recording::start();
    let server = Server::start(options, out, pack).await;
    let (_, health) = server.call(Method::GET, "/healthz", None).await;
    // Warm the connection pool.
    for _ in 0..5 {
        server.call(Method::GET, "/healthz", None).await;
    }
    let mut jitter = Jitter(0x2545_F491_4F6C_DD1D);
    let mut asks: Vec<Ask> = Vec::new();
    let mut loads = Vec::new();
    for stressed in [false, true] {
        let stress = Stress::start(stressed, Duration::from_secs(options.cues as u64 * 2));
        loads.push(load_note());
        for i in 0..options.cues * 2 {
            let player = if i % 2 == 0 { "gongan" } else { "paplay" };
            let at = Instant::now();
            // The next request waits until this sound has played out, so no two sounds
            // overlap in the recording whatever the delays: `paplay` returns once its
            // stream has drained; a cue is heard `in_seconds` after it is answered.
            let (in_seconds, took_ms) = if player == "gongan" {
                let (status, receipt) = server
                    .call(
                        Method::POST,
                        "/v1/cues",
                        Some(&json!({"instrument": "ketuk"})),
                    )
                    .await;
                assert_eq!(status, 202, "{receipt}");
                (
                    receipt["in_seconds"].as_f64(),
                    at.elapsed().as_secs_f64() * 1e3,
                )
            } else {
                let played = Command::new("paplay").arg(&wav).status().unwrap();
                assert!(played.success());
                (None, at.elapsed().as_secs_f64() * 1e3)
            };
            asks.push(Ask {
                player,
                stressed,
                at,
                in_seconds,
                took_ms,
            });
            let played_out = match in_seconds {
                Some(secs) => Instant::now() + Duration::from_secs_f64(secs.max(0.0) + 0.1),
                None => Instant::now(),
            };
            let next = (at + Duration::from_millis(450) + jitter.below(Duration::from_millis(150)))
                .max(played_out + Duration::from_millis(250));
            tokio::time::sleep_until(tokio::time::Instant::from_std(next)).await;
        }
        loads.push(load_note());
        drop(stress);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    server.stop();
    let recorded = recording.stop();
    let local = LocalClock::load(out, &recorded.clock);
    let (left, right) = split(&recorded);
    let found = onsets(&recorded.samples, THRESHOLD, QUIET);
    let mut csv = String::from(
        "player,stressed,delay_ms,promised_ms,took_ms,residual,head_frames,residual_after_head\n",
    );
    // (player, stressed, delay ms, promised ms, the ramp as recorded)
    let mut delays: Vec<(&str, bool, f64, Option<f64>, Ramp)> = Vec::new();
    let mut lost = Vec::new();
    let frame_of = |at: Instant| local.frame_at(at);
    for (k, ask) in asks.iter().enumerate() {
        let from = frame_of(ask.at) - f64::from(RATE) * 0.005;
        let until = asks
            .get(k + 1)
            .map_or(f64::INFINITY, |next| frame_of(next.at));
        let onset = found
            .iter()
            .find(|&&f| f as f64 >= from)
            .filter(|&&f| (f as f64) < until);
        let Some(&onset) = onset else {
            lost.push((ask.player, ask.stressed));
            let _ = writeln!(csv, "{},{},,,{:.3},", ask.player, ask.stressed, ask.took_ms);
            continue;
        };
        let ramp = measure(&left, &right, onset);
        let delay = (local.seconds_of(ramp.start) - local.since(ask.at)) * 1e3;
        let promised = ask.in_seconds.map(|s| s * 1e3);
        let _ = writeln!(
            csv,
            "{},{},{delay:.4},{},{:.3},{:.3e},{},{:.3e}",
            ask.player,
            ask.stressed,
            promised.map_or(String::new(), |p| format!("{p:.4}")),
            ask.took_ms,
            ramp.residual,
            ramp.head,
            ramp.residual_after_head
        );
        delays.push((ask.player, ask.stressed, delay, promised, ramp));
    }
    std::fs::write(out.join("cues.csv"), csv).unwrap();

    let mut s = String::new();
    let _ = writeln!(
        s,
        "== B: request → heard, gongan POST /v1/cues vs paplay of the same WAV =="
    );
    let _ = writeln!(
        s,
        "machine: idle phase {} → {}; stressed phase (stress-ng --cpu 2) {} → {} (others \
         build and test on the same 2 cores); --output {}, server latency_ms {}{}",
        loads[0],
        loads[1],
        loads[2],
        loads[3],
        options.output,
        health["latency_ms"],
        options
            .latency
            .map_or(String::new(), |ms| format!(" (--latency {ms})"))
    );
    let _ = writeln!(
        s,
        "recorder: {}; local fit: the sink's clock gained {:.2} ms on the host's",
        recorded.clock.describe(),
        local.gained() * 1e3
    );
    for stressed in [false, true] {
        let phase = if stressed { "stressed" } else { "idle" };
        let pick = |player: &str| -> Vec<f64> {
            delays
                .iter()
                .filter(|d| d.0 == player && d.1 == stressed)
                .map(|d| d.2)
                .collect()
        };
        let (g, p) = (pick("gongan"), pick("paplay"));
        let ratio = percentile(&sorted(g.iter().copied()), 0.99)
            / percentile(&sorted(p.iter().copied()), 0.99);
        let _ = writeln!(s, "{phase}: gongan {}", spread(&g, 2));
        let _ = writeln!(s, "{phase}: paplay {}", spread(&p, 2));
        let _ = writeln!(
            s,
            "{phase}: gongan p99 / paplay p99 = {ratio:.2} (bar: p99 ≤ 10 ms and ≤ 2×)"
        );
        let late: Vec<f64> = delays
            .iter()
            .filter(|d| d.0 == "gongan" && d.1 == stressed)
            .filter_map(|d| d.3.map(|p| d.2 - p))
            .collect();
        let _ = writeln!(
            s,
            "{phase}: gongan heard − (request + in_seconds it promised): {}",
            spread(&late, 2)
        );
        // A player whose stream starts loses up to a sink block of its sound's beginning
        // to the rewind (see [`ramp`]): counted apart from any other damage.
        let count = |player: &str, test: &dyn Fn(&Ramp) -> bool| {
            delays
                .iter()
                .filter(|d| d.0 == player && d.1 == stressed && test(&d.4))
                .count()
        };
        let headless = |r: &Ramp| r.head > 0;
        let damaged =
            |r: &Ramp| r.residual_after_head > MANGLED_RESIDUAL || r.dropout >= DROPOUT_FRAMES;
        let _ = writeln!(
            s,
            "{phase}: not heard: gongan {}, paplay {}; beginning missing: gongan {}, paplay {}; \
             otherwise mangled (residual > {MANGLED_RESIDUAL:.0e} or a dropout): gongan {}, \
             paplay {}",
            lost.iter().filter(|l| **l == ("gongan", stressed)).count(),
            lost.iter().filter(|l| **l == ("paplay", stressed)).count(),
            count("gongan", &headless),
            count("paplay", &headless),
            count("gongan", &damaged),
            count("paplay", &damaged),
        );
    }
    let took = |player: &str| -> Vec<f64> {
        asks.iter()
            .filter(|a| a.player == player)
            .map(|a| a.took_ms)
            .collect()
    };
    let _ = writeln!(
        s,
        "HTTP round trip of the cue: {}; paplay's run: {}",
        spread(&took("gongan"), 2),
        spread(&took("paplay"), 1)
    );
    s
}
