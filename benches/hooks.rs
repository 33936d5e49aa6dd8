//! Receiver benchmarks (PRODUCT.md §8, issue 10), run with `cargo bench --bench hooks`
//! (under a minute once built). The server is the real one, in process
//! (`Application::build(Config::for_tests(..))` on 127.0.0.1:0 with the null output), and
//! the load generator shares its cores (on a 2-core machine, both run on those 2 cores;
//! elsewhere, `taskset -c 0,1 cargo bench --bench hooks` holds the run to 2).
//!
//! 1. Signed deliveries verified and mapped: Alertmanager (bearer token), Grafana
//!    (HMAC over `timestamp:body`), PagerDuty (two `v1=` signatures, the second valid) and
//!    GitHub (`X-Hub-Signature-256`) deliveries in turn, each a new delivery id, each
//!    mapped to a cue by the defaults and carried out; 16 keep-alive connections. Prints
//!    deliveries/s per run (median and spread) and the answer time p50/p99. Bar ≥ 2 000/s.
//! 2. A storm of 5 000 Alertmanager notifications of one firing alert, as fast as the
//!    connections go, against the default 150 ms coalescing window. First byte-identical
//!    copies (a retry storm, an HA cluster's peers): one gong, 4 999 duplicates. Then
//!    5 000 different instances of the alert (each its own notification, so no
//!    duplicates): the gong plays once per coalescing window — consecutive gong strokes are
//!    at least a window apart, every delivery's cue is a stroke or joined one that sounded
//!    (none lost), and no stroke sounds twice (none doubled). Every request must be
//!    answered 2xx. Counted from the conductor's `cue_played` events on `GET /v1/events`.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gongan::config::{Config, Hooks, RawHooks};
use gongan::http::Application;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::mpsc;

const CONNECTIONS: usize = 16;
const PER_RUN: usize = 4_000;
const RUNS: usize = 5;
const STORM: usize = 5_000;
const BAR_PER_SECOND: f64 = 2_000.0;

const TOKEN: &str = "bench-hook-token";
const GRAFANA_SECRET: &str = "bench-grafana-secret";
const PAGERDUTY_SECRET: &str = "bench-pagerduty-secret";
const GITHUB_SECRET: &str = "bench-github-secret";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let ok = runtime.block_on(async {
        let throughput = throughput().await;
        let storm = storm().await;
        throughput && storm
    });
    if !ok {
        std::process::exit(1);
    }
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/hooks/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn hmac_hex(secret: &str, parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

/// A request ready to send.
#[derive(Clone)]
struct Prepared {
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
}

/// A server with every alert receiver configured (and `coalesce_window` as the tests'
/// default, 150 ms).
async fn start() -> (Application, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(data.path());
    config.hooks = Hooks::validate(
        RawHooks {
            token: Some(TOKEN.into()),
            grafana_hmac_secret: Some(GRAFANA_SECRET.into()),
            pagerduty_secret: Some(PAGERDUTY_SECRET.into()),
            github_secret: Some(GITHUB_SECRET.into()),
            ..RawHooks::default()
        },
        Vec::new(),
    )
    .unwrap();
    let app = Application::build(config).await.unwrap();
    (app, data)
}

/// An Alertmanager notification of the fixture's alert on instance `n`.
fn alertmanager_instance(n: usize) -> String {
    let mut payload: Value = serde_json::from_str(&fixture("alertmanager-firing.json")).unwrap();
    payload["alerts"][0]["fingerprint"] = format!("{n:016x}").into();
    payload["alerts"][0]["labels"]["instance"] = format!("https://server-{n}.example.org").into();
    payload["commonLabels"]["instance"] = format!("https://server-{n}.example.org").into();
    payload.to_string()
}

fn alertmanager(body: String) -> Prepared {
    Prepared {
        path: "/hooks/alertmanager",
        headers: vec![("authorization", format!("Bearer {TOKEN}"))],
        body: body.into(),
    }
}

/// The four tools' signed deliveries in turn, each with a new delivery id.
fn mixed(run: usize, count: usize) -> Vec<Prepared> {
    let grafana: Value = serde_json::from_str(&fixture("grafana-firing.json")).unwrap();
    let incident = Bytes::from(fixture("pagerduty-incident-triggered.json"));
    let incident_signature = format!(
        "v1={},v1={}",
        hmac_hex("rotated-out", &[&incident]),
        hmac_hex(PAGERDUTY_SECRET, &[&incident])
    );
    let run_success = Bytes::from(fixture("github-workflow-run-success.json"));
    let run_signature = format!("sha256={}", hmac_hex(GITHUB_SECRET, &[&run_success]));
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    (0..count)
        .map(|i| {
            let id = format!("bench-{run}-{i}");
            match i % 4 {
                0 => alertmanager(alertmanager_instance(run * count + i)),
                1 => {
                    let mut body = grafana.clone();
                    body["alerts"][0]["fingerprint"] = id.clone().into();
                    let body = body.to_string();
                    let signature = hmac_hex(
                        GRAFANA_SECRET,
                        &[timestamp.as_bytes(), b":", body.as_bytes()],
                    );
                    Prepared {
                        path: "/hooks/grafana",
                        headers: vec![
                            ("x-grafana-alerting-signature", signature),
                            ("x-grafana-alerting-signature-timestamp", timestamp.clone()),
                        ],
                        body: body.into(),
                    }
                }
                2 => Prepared {
                    path: "/hooks/pagerduty",
                    headers: vec![
                        ("x-pagerduty-signature", incident_signature.clone()),
                        ("x-webhook-id", id),
                    ],
                    body: incident.clone(),
                },
                _ => Prepared {
                    path: "/hooks/github",
                    headers: vec![
                        ("x-hub-signature-256", run_signature.clone()),
                        ("x-github-event", "workflow_run".into()),
                        ("x-github-delivery", id),
                        ("content-type", "application/json".into()),
                    ],
                    body: run_success.clone(),
                },
            }
        })
        .collect()
}

/// One answer: status, JSON body, time from sending to the whole answer.
struct Answer {
    status: u16,
    json: Value,
    took: Duration,
}

/// Sends every request over `CONNECTIONS` keep-alive connections; returns the wall time
/// and the answers.
async fn send_all(port: u16, requests: Vec<Prepared>) -> (Duration, Vec<Answer>) {
    let mut shares: Vec<Vec<Prepared>> = vec![Vec::new(); CONNECTIONS];
    for (i, request) in requests.into_iter().enumerate() {
        shares[i % CONNECTIONS].push(request);
    }
    let mut connections = Vec::new();
    for _ in 0..CONNECTIONS {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        stream.set_nodelay(true).unwrap();
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        connections.push(sender);
    }
    let started = Instant::now();
    let tasks: Vec<_> = shares
        .into_iter()
        .zip(connections)
        .map(|(share, mut sender)| {
            tokio::spawn(async move {
                let mut answers = Vec::with_capacity(share.len());
                for prepared in share {
                    let mut request = Request::builder()
                        .method(Method::POST)
                        .uri(prepared.path)
                        .header("host", format!("127.0.0.1:{port}"));
                    for (name, value) in &prepared.headers {
                        request = request.header(*name, value.as_str());
                    }
                    let request = request.body(Full::new(prepared.body)).unwrap();
                    let sent = Instant::now();
                    let response = sender.send_request(request).await.unwrap();
                    let status = response.status().as_u16();
                    let bytes = response.into_body().collect().await.unwrap().to_bytes();
                    answers.push(Answer {
                        status,
                        json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                        took: sent.elapsed(),
                    });
                }
                answers
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.extend(task.await.unwrap());
    }
    (started.elapsed(), answers)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn throughput() -> bool {
    let (app, _data) = start().await;
    let port = app.local_addr().port();
    let stop = app.shutdown_handle();
    let server = tokio::spawn(app.run_until_stopped());

    let (_, warm) = send_all(port, mixed(usize::MAX / 2, 800)).await;
    assert!(warm.iter().all(|a| a.status == 200));
    let mut rates = Vec::new();
    let mut took = Vec::new();
    let mut ok = true;
    for run in 0..RUNS {
        let requests = mixed(run, PER_RUN);
        let (elapsed, answers) = send_all(port, requests).await;
        let mapped = answers
            .iter()
            .filter(|a| a.status == 200 && a.json["done"].is_string())
            .count();
        if mapped != PER_RUN {
            let odd = answers
                .iter()
                .find(|a| !a.json["done"].is_string())
                .unwrap();
            println!(
                "  run {run}: {mapped}/{PER_RUN} carried out; e.g. {} {}",
                odd.status, odd.json
            );
            ok = false;
        }
        rates.push(PER_RUN as f64 / elapsed.as_secs_f64());
        took.extend(answers.iter().map(|a| a.took));
    }
    rates.sort_by(f64::total_cmp);
    took.sort();
    let median = rates[RUNS / 2];
    println!(
        "signed deliveries verified and mapped: median {median:.0}/s (runs {:.0}–{:.0}/s; \
         {RUNS} runs × {PER_RUN}, {CONNECTIONS} connections, load generator on the same \
         cores; bar >= {BAR_PER_SECOND:.0}/s)",
        rates[0],
        rates[RUNS - 1],
    );
    println!(
        "  answer time p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(percentile(&took, 0.5)),
        ms(percentile(&took, 0.99)),
        ms(took[took.len() - 1]),
    );
    ok &= median >= BAR_PER_SECOND;
    stop.shutdown();
    server.await.unwrap();
    ok
}

/// Every `cue_played` of a server's event stream, as it comes.
async fn cue_events(port: u16) -> mpsc::UnboundedReceiver<Value> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = Request::get("/v1/events")
        .header("host", format!("127.0.0.1:{port}"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(read_events(response.into_body(), tx));
    rx
}

async fn read_events(mut body: Incoming, tx: mpsc::UnboundedSender<Value>) {
    let mut buffer = String::new();
    while let Some(Ok(frame)) = body.frame().await {
        let Ok(data) = frame.into_data() else {
            continue;
        };
        buffer.push_str(&String::from_utf8_lossy(&data));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if !block.lines().any(|l| l.trim() == "event: cue_played") {
                continue;
            }
            let data: String = block
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            if let Ok(value) = serde_json::from_str(&data)
                && tx.send(value).is_err()
            {
                return;
            }
        }
    }
}

/// Cues a probe and collects every `cue_played` up to it: each cue asked for before the
/// probe has sounded by then.
async fn played_until_probe(port: u16, events: &mut mpsc::UnboundedReceiver<Value>) -> Vec<Value> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = Request::post("/v1/cues")
        .header("host", format!("127.0.0.1:{port}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(
            r#"{"instrument": "ketuk", "gain_db": -40}"#,
        )))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 202);
    let receipt: Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let probe = receipt["id"].clone();
    let mut played = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(20), events.recv())
            .await
            .expect("the probe sounds")
            .expect("the event stream is open");
        if event["id"] == probe {
            return played;
        }
        played.push(event);
    }
}

async fn storm() -> bool {
    let (app, _data) = start().await;
    let port = app.local_addr().port();
    let rate = app.conductor().clock().sample_rate();
    let stop = app.shutdown_handle();
    let server = tokio::spawn(app.run_until_stopped());
    let window = Duration::from_millis(150);
    let mut events = cue_events(port).await;
    let mut ok = true;

    // a. The same notification 5 000 times.
    let same = alertmanager(fixture("alertmanager-firing.json"));
    let (elapsed, answers) = send_all(port, vec![same; STORM]).await;
    let played = played_until_probe(port, &mut events).await;
    let all_2xx = answers.iter().all(|a| (200..300).contains(&a.status));
    let duplicates = answers
        .iter()
        .filter(|a| a.json["duplicate"] == true)
        .count();
    let cued = answers.iter().filter(|a| a.json["cue"].is_object()).count();
    let gongs = played.iter().filter(|e| e["instrument"] == "gong").count();
    println!(
        "storm of {STORM} identical notifications in {:.2} s ({:.0}/s): {} answered 2xx, \
         {cued} cued, {duplicates} duplicates, {gongs} gong stroke(s) (expected 1)",
        elapsed.as_secs_f64(),
        STORM as f64 / elapsed.as_secs_f64(),
        answers
            .iter()
            .filter(|a| (200..300).contains(&a.status))
            .count(),
    );
    ok &= all_2xx && cued == 1 && duplicates == STORM - 1 && gongs == 1;

    // b. 5 000 instances of the alert, each its own notification.
    let requests: Vec<Prepared> = (0..STORM)
        .map(|n| alertmanager(alertmanager_instance(n)))
        .collect();
    let (elapsed, answers) = send_all(port, requests).await;
    let played = played_until_probe(port, &mut events).await;
    let all_2xx = answers.iter().all(|a| (200..300).contains(&a.status));
    let receipts: Vec<(u64, bool)> = answers
        .iter()
        .filter_map(|a| {
            Some((
                a.json["cue"]["id"].as_u64()?,
                a.json["cue"]["coalesced"].as_bool()?,
            ))
        })
        .collect();
    let strokes: BTreeSet<u64> = receipts
        .iter()
        .filter(|(_, coalesced)| !coalesced)
        .map(|(id, _)| *id)
        .collect();
    let mut gong_frames: HashMap<u64, u64> = HashMap::new();
    let mut doubled = 0;
    for event in played.iter().filter(|e| e["instrument"] == "gong") {
        let id = event["id"].as_u64().unwrap();
        if gong_frames
            .insert(id, event["frame"].as_u64().unwrap())
            .is_some()
        {
            doubled += 1;
        }
    }
    let lost = receipts
        .iter()
        .filter(|(id, _)| !gong_frames.contains_key(id))
        .count();
    let mut frames: Vec<u64> = gong_frames.values().copied().collect();
    frames.sort_unstable();
    let gaps: Vec<Duration> = frames
        .windows(2)
        .map(|w| Duration::from_secs_f64((w[1] - w[0]) as f64 / f64::from(rate)))
        .collect();
    let mut sorted_gaps = gaps.clone();
    sorted_gaps.sort();
    let windows_spanned = (elapsed.as_secs_f64() / window.as_secs_f64()).ceil() as usize + 1;
    println!(
        "storm of {STORM} notifications of one alert on {STORM} instances in {:.2} s ({:.0}/s): \
         {} answered 2xx, {} cues ({} strokes, {} joined one), {} gong strokes heard \
         (at most {windows_spanned} windows of {} ms spanned), {lost} lost, {doubled} doubled",
        elapsed.as_secs_f64(),
        STORM as f64 / elapsed.as_secs_f64(),
        answers
            .iter()
            .filter(|a| (200..300).contains(&a.status))
            .count(),
        receipts.len(),
        strokes.len(),
        receipts.len() - strokes.len(),
        gong_frames.len(),
        window.as_millis(),
    );
    if let (Some(min), Some(max)) = (sorted_gaps.first(), sorted_gaps.last()) {
        println!(
            "  gap between gong strokes: min {:.1} ms, median {:.1} ms, max {:.1} ms (window {} ms)",
            ms(*min),
            ms(percentile(&sorted_gaps, 0.5)),
            ms(*max),
            window.as_millis()
        );
    }
    let mut took: Vec<Duration> = answers.iter().map(|a| a.took).collect();
    took.sort();
    println!(
        "  answer time p50 {:.2} ms, p99 {:.2} ms",
        ms(percentile(&took, 0.5)),
        ms(percentile(&took, 0.99))
    );
    // A stroke of its own only when no identical stroke is planned within a window: the
    // engine's block (5 ms at most) is the tolerance on frames.
    let once_per_window = sorted_gaps
        .first()
        .is_none_or(|min| *min + Duration::from_millis(5) >= window);
    ok &= all_2xx
        && receipts.len() == STORM
        && lost == 0
        && doubled == 0
        && gong_frames.len() == strokes.len()
        && strokes.len() <= windows_spanned
        && once_per_window;
    println!("  {}", if ok { "ok" } else { "FAILED" });
    stop.shutdown();
    server.await.unwrap();
    ok
}
