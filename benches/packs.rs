//! Sound-pack benchmarks (issue 11), run with `cargo bench --bench packs`:
//!
//! 1. Activating a pack, at the store (`PackRegistry::begin_switch` + `commit`, what
//!    `POST /v1/packs/{name}/activate` does besides handing the pack to the conductor):
//!    the CPU time of the first activation (decoding a pack's files; synthesizing the
//!    built-in default pack) against an activation of a pack loaded before (from the
//!    cache). Bar: a cached activation ≤ 20 ms of CPU.
//! 2. The same through HTTP on a running server (null output): the CPU the whole process
//!    spends per `POST /v1/packs/{name}/activate` of a cached pack, less what the paced
//!    null output spends in the same wall time when idle (measured first).
//! 3. Upload and activate a ~20 MB pack (two instruments, 40 s and 13 s of stereo float
//!    WAV): the wall time of `PUT /v1/packs/{name}` (tar.gz streamed, checked, unpacked,
//!    decoded, renamed into place) and of the activation after it.
//!
//! CPU time is the process's, from `getrusage(RUSAGE_SELF)` (user + system, every
//! thread): the switch decodes on a blocking-pool thread, so a per-thread clock would
//! miss it. In (1) nothing else runs in the process, so the process's time is the
//! activation's. Each measure prints its median with the minimum and maximum over its
//! runs.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use gongan::config::{Config, PackChoice};
use gongan::http::Application;
use gongan::store::PackRegistry;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

const RATE: u32 = 48_000;
/// Runs of each cached activation.
const CACHED_RUNS: usize = 40;
/// Runs of each first (uncached) activation: each opens a new registry.
const COLD_RUNS: usize = 5;
/// Runs of the 20 MB upload.
const UPLOAD_RUNS: usize = 5;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let packs = tempfile::tempdir().unwrap();
    let office = packs.path().join("office");
    write_pack(
        &office,
        &[("gong", 6.0), ("kenong", 3.0), ("airhorn", 2.0)],
        1,
    );
    let big = packs.path().join("big");
    write_pack(&big, &[("gong", 40.0), ("airhorn", 13.0)], 2);
    println!(
        "packs: office {} on disk (3 mono instruments, 11 s), big {} (2 stereo float instruments, 53 s)",
        size(folder_bytes(&office)),
        size(folder_bytes(&big))
    );
    runtime.block_on(registry_activation(&office));
    runtime.block_on(http_activation(&office));
    runtime.block_on(upload_and_activate(&big));
}

/// Process CPU time (user + system, all threads) so far.
fn cpu() -> Duration {
    // SAFETY: getrusage fills the struct it is given; a zeroed rusage is a valid value.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// `median (min … max) over n` in milliseconds.
fn summary(samples: &mut [Duration]) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    format!(
        "median {:.2} ms (min {:.2}, max {:.2}) over {}",
        ms(samples[samples.len() / 2]),
        ms(samples[0]),
        ms(samples[samples.len() - 1]),
        samples.len()
    )
}

fn size(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn folder_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                folder_bytes(&e.path())
            } else {
                e.metadata().unwrap().len()
            }
        })
        .sum()
}

/// A pack of float WAVs, one per `(instrument, seconds)`, with `channels` channels: a
/// decaying partial-rich tone with a little noise, so it neither compresses to nothing
/// nor decodes trivially.
fn write_pack(dir: &Path, instruments: &[(&str, f64)], channels: u16) {
    std::fs::create_dir_all(dir).unwrap();
    let mut manifest = String::from("name = \"bench\"\n");
    let spec = hound::WavSpec {
        channels,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut noise = 0x2545_f491_4f6c_dd1du64;
    for (n, (name, seconds)) in instruments.iter().enumerate() {
        let file = format!("{name}.wav");
        let mut writer = hound::WavWriter::create(dir.join(&file), spec).unwrap();
        let frames = (seconds * f64::from(RATE)) as usize;
        let hz = 110.0 * (n + 1) as f64;
        for i in 0..frames {
            let t = i as f64 / f64::from(RATE);
            let tone = (0..4)
                .map(|k| (std::f64::consts::TAU * hz * (k + 1) as f64 * t).sin() / (k + 1) as f64)
                .sum::<f64>();
            noise ^= noise << 13;
            noise ^= noise >> 7;
            noise ^= noise << 17;
            let hiss = (noise >> 40) as f64 / (1u64 << 24) as f64 - 0.5;
            let sample = (0.3 * tone + 0.02 * hiss) * (-t / seconds * 3.0).exp();
            for _ in 0..channels {
                writer.write_sample(sample as f32).unwrap();
            }
        }
        writer.finalize().unwrap();
        manifest.push_str(&format!("[instruments.{name}]\nfile = \"{file}\"\n"));
    }
    std::fs::write(dir.join("pack.toml"), manifest).unwrap();
}

/// A data dir holding `pack` installed as `team`.
fn data_with(pack: &Path) -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    gongan::store::packs::install_local(data.path(), "team", pack, RATE).unwrap();
    data
}

/// (1) First and cached activations at the store.
async fn registry_activation(pack: &Path) {
    let data = data_with(pack);
    let mut cold_team = Vec::new();
    let mut cold_default = Vec::new();
    for _ in 0..COLD_RUNS {
        // Default active (synthesized at open); the first switch to `team` decodes it.
        let registry =
            Arc::new(PackRegistry::open(&PackChoice::Default, data.path(), RATE).unwrap());
        let before = cpu();
        registry.begin_switch("team").await.unwrap().commit();
        cold_team.push(cpu() - before);
        // `team` active at open; the first switch to `default` synthesizes it.
        let choice = PackChoice::Installed("team".into());
        let registry = Arc::new(PackRegistry::open(&choice, data.path(), RATE).unwrap());
        let before = cpu();
        registry.begin_switch("default").await.unwrap().commit();
        cold_default.push(cpu() - before);
    }
    println!(
        "registry: first activation of an installed pack (decode): {}",
        summary(&mut cold_team)
    );
    println!(
        "registry: first activation of the built-in default pack (synthesis): {}",
        summary(&mut cold_default)
    );
    let registry = Arc::new(PackRegistry::open(&PackChoice::Default, data.path(), RATE).unwrap());
    registry.begin_switch("team").await.unwrap().commit();
    let mut cached = Vec::new();
    for i in 0..CACHED_RUNS {
        let id = if i % 2 == 0 { "default" } else { "team" };
        let before = cpu();
        let info = registry.begin_switch(id).await.unwrap().commit();
        cached.push(cpu() - before);
        assert!(info.active);
    }
    println!(
        "registry: activation of a cached pack (bar ≤ 20 ms CPU): {}",
        summary(&mut cached)
    );
}

struct Server {
    base: String,
    http: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

impl Server {
    async fn send(&self, method: Method, path: &str, kind: &str, body: Vec<u8>) -> (u16, String) {
        let request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", kind)
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let response = self.http.request(request).await.unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    async fn activate(&self, id: &str) {
        let (status, text) = self
            .send(
                Method::POST,
                &format!("/v1/packs/{id}/activate"),
                "application/json",
                b"{}".to_vec(),
            )
            .await;
        assert_eq!(status, 200, "{text}");
    }
}

async fn start(
    data: &Path,
) -> (
    Server,
    gongan::http::ShutdownHandle,
    tokio::task::JoinHandle<()>,
) {
    let app = Application::build(Config::for_tests(data)).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.local_addr().port());
    let stop = app.shutdown_handle();
    let task = tokio::spawn(app.run_until_stopped());
    let http = Client::builder(TokioExecutor::new()).build_http();
    (Server { base, http }, stop, task)
}

/// (2) A cached activation through HTTP, as process CPU less the idle server's.
async fn http_activation(pack: &Path) {
    let data = data_with(pack);
    let (server, stop, task) = start(data.path()).await;
    server.activate("team").await;
    server.activate("default").await;
    // What the paced null output and the server cost when nothing is asked of them.
    let (cpu0, wall0) = (cpu(), Instant::now());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_share = (cpu() - cpu0).as_secs_f64() / wall0.elapsed().as_secs_f64();
    let mut net = Vec::new();
    let mut walls = Vec::new();
    for i in 0..CACHED_RUNS {
        let id = if i % 2 == 0 { "team" } else { "default" };
        let (before, started) = (cpu(), Instant::now());
        server.activate(id).await;
        let wall = started.elapsed();
        let spent = (cpu() - before).as_secs_f64() - idle_share * wall.as_secs_f64();
        net.push(Duration::from_secs_f64(spent.max(0.0)));
        walls.push(wall);
    }
    println!(
        "http: idle server (null output) uses {:.1} % of a core",
        idle_share * 100.0
    );
    println!(
        "http: POST activate of a cached pack, process CPU less idle (bar ≤ 20 ms): {}",
        summary(&mut net)
    );
    println!(
        "http: POST activate of a cached pack, wall: {}",
        summary(&mut walls)
    );
    stop.shutdown();
    task.await.unwrap();
}

/// (3) Upload and activate a ~20 MB pack.
async fn upload_and_activate(pack: &Path) {
    let mut tar = tar::Builder::new(Vec::new());
    tar.append_dir_all("big", pack).unwrap();
    let tar = tar.into_inner().unwrap();
    let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
    gzip.write_all(&tar).unwrap();
    let archive = gzip.finish().unwrap();
    println!(
        "upload: the pack as a tar.gz is {} ({} as a tar)",
        size(archive.len() as u64),
        size(tar.len() as u64)
    );
    let data = tempfile::tempdir().unwrap();
    let (server, stop, task) = start(data.path()).await;
    let mut uploads = Vec::new();
    let mut activations = Vec::new();
    let mut activation_cpu = Vec::new();
    for run in 0..UPLOAD_RUNS {
        if run > 0 {
            server.activate("default").await;
        }
        let started = Instant::now();
        let (status, text) = server
            .send(
                Method::PUT,
                "/v1/packs/big",
                "application/gzip",
                archive.clone(),
            )
            .await;
        uploads.push(started.elapsed());
        assert_eq!(status, if run == 0 { 201 } else { 200 }, "{text}");
        let (before, started) = (cpu(), Instant::now());
        server.activate("big").await;
        activations.push(started.elapsed());
        activation_cpu.push(cpu() - before);
    }
    println!(
        "upload: PUT of the 20 MB pack (receive, check, unpack, decode, rename), wall: {}",
        summary(&mut uploads)
    );
    println!(
        "upload: then POST activate (cached by the upload), wall: {}",
        summary(&mut activations)
    );
    println!(
        "upload: that activation's process CPU (idle server included): {}",
        summary(&mut activation_cpu)
    );
    stop.shutdown();
    task.await.unwrap();
}
