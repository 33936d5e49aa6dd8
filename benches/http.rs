//! HTTP benchmarks (PRODUCT.md §7), run with `cargo bench --bench http`:
//!
//! 1. HTTP cue → first frame rendered on the paced null output, at 200 requests/s:
//!    p50/p99 of the time from sending `POST /v1/cues` until the frame clock passes the
//!    frame the receipt names. Bar: p99 ≤ one null-output block (240 frames, 5 ms) + 2 ms.
//! 2. `GET /v1/status` throughput against the real `gongan serve` binary (bar ≥ 10 000
//!    requests/s on 2 cores; the load generator shares those cores), then its resident
//!    memory (VmRSS, bar ≤ 40 MB) while serving with the default pack, then SIGTERM and
//!    a clean exit.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use gongan::config::Config;
use gongan::http::Application;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

const CUES: usize = 2_000;
const RATE: u64 = 200;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(cue_latency());
    runtime.block_on(status_throughput_and_memory());
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

async fn cue_latency() {
    let data = tempfile::tempdir().unwrap();
    let app = Application::build(Config::for_tests(data.path()))
        .await
        .unwrap();
    let port = app.local_addr().port();
    let conductor = app.conductor();
    let stop = app.shutdown_handle();
    let server = tokio::spawn(app.run_until_stopped());

    // A thread that watches the frame clock and stamps the moment it passes each frame.
    let (pending_tx, pending_rx) = mpsc::channel::<(u64, Instant)>();
    let clock = conductor.clock().clone();
    let watcher = std::thread::spawn(move || {
        let mut pending: Vec<(u64, Instant)> = Vec::new();
        let mut latencies = Vec::new();
        let mut open = true;
        while open || !pending.is_empty() {
            loop {
                match pending_rx.try_recv() {
                    Ok(p) => pending.push(p),
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => {
                        open = false;
                        break;
                    }
                }
            }
            let now = clock.now().0;
            let stamp = Instant::now();
            pending.retain(|(frame, sent)| {
                if now > *frame {
                    latencies.push(stamp - *sent);
                    false
                } else {
                    true
                }
            });
            std::thread::sleep(Duration::from_micros(50));
        }
        latencies
    });

    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let instruments = [
        "gong", "kempul", "kenong", "ketuk", "kempyang", "saron", "bonang", "suwukan",
    ];
    // Warm up the connection pool.
    for _ in 0..8 {
        let _ = client
            .request(
                Request::get(format!("http://127.0.0.1:{port}/healthz"))
                    .body(Full::new(Bytes::new()))
                    .unwrap(),
            )
            .await;
    }
    let mut ticker = tokio::time::interval(Duration::from_nanos(1_000_000_000 / RATE));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let coalesced = Arc::new(AtomicU64::new(0));
    let mut round_trips = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..CUES {
        ticker.tick().await;
        let client = client.clone();
        let pending = pending_tx.clone();
        let coalesced = coalesced.clone();
        let body = format!(
            r#"{{"instrument": "{}", "gain_db": {}}}"#,
            instruments[i % instruments.len()],
            -((i % 200) as f64) / 10.0
        );
        tasks.push(tokio::spawn(async move {
            let request = Request::builder()
                .method(Method::POST)
                .uri(format!("http://127.0.0.1:{port}/v1/cues"))
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body)))
                .unwrap();
            let sent = Instant::now();
            let response = client.request(request).await.unwrap();
            assert_eq!(response.status(), 202);
            let body = response.into_body().collect().await.unwrap().to_bytes();
            let answered = sent.elapsed();
            let receipt: serde_json::Value = serde_json::from_slice(&body).unwrap();
            if receipt["coalesced"].as_bool() == Some(true) {
                coalesced.fetch_add(1, Ordering::Relaxed);
            }
            let _ = pending.send((receipt["frame"].as_u64().unwrap(), sent));
            answered
        }));
    }
    for task in tasks {
        round_trips.push(task.await.unwrap());
    }
    drop(pending_tx);
    let mut latencies = watcher.join().unwrap();
    latencies.sort();
    round_trips.sort();
    println!(
        "cue -> first frame rendered, null output, {CUES} cues at {RATE}/s: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (bar: p99 <= 7 ms); coalesced {}",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
        coalesced.load(Ordering::Relaxed),
    );
    println!(
        "  HTTP round trip alone: p50 {:.2} ms, p99 {:.2} ms",
        percentile(&round_trips, 0.5).as_secs_f64() * 1e3,
        percentile(&round_trips, 0.99).as_secs_f64() * 1e3,
    );
    stop.shutdown();
    server.await.unwrap();
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn status_throughput_and_memory() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gongan"))
        .args([
            "serve",
            "--output",
            "null",
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--data-dir")
        .arg(data.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let started = Instant::now();
    loop {
        let request = Request::get(format!("http://127.0.0.1:{port}/healthz"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        if client.request(request).await.is_ok() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "  server ready {:.0} ms after spawn",
        started.elapsed().as_secs_f64() * 1e3
    );
    let idle_rss = rss_kib(pid, "VmRSS:");

    let connections = 32;
    let duration = Duration::from_secs(5);
    let done = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let done = done.clone();
        let count = count.clone();
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            stream.set_nodelay(true).unwrap();
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(connection);
            while !done.load(Ordering::Relaxed) {
                let request = Request::get("/v1/status")
                    .header("host", format!("127.0.0.1:{port}"))
                    .body(Empty::<Bytes>::new())
                    .unwrap();
                let response = sender.send_request(request).await.unwrap();
                assert_eq!(response.status(), 200);
                response.into_body().collect().await.unwrap();
                count.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(duration).await;
    done.store(true, Ordering::Relaxed);
    let rss_loaded = rss_kib(pid, "VmRSS:");
    for task in tasks {
        task.await.unwrap();
    }
    let total = count.load(Ordering::Relaxed);
    println!(
        "GET /v1/status: {:.0} requests/s over {} s with {connections} keep-alive connections (load generator on the same 2 cores; bar >= 10000)",
        total as f64 / duration.as_secs_f64(),
        duration.as_secs()
    );
    println!(
        "resident memory of `gongan serve` with the default pack: idle {:.1} MB, under load {:.1} MB, peak {:.1} MB (bar <= 40 MB)",
        idle_rss as f64 / 1024.0,
        rss_loaded as f64 / 1024.0,
        rss_kib(pid, "VmHWM:") as f64 / 1024.0
    );
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let status = child.wait().unwrap();
    println!("  SIGTERM -> exit status {status}");
}
