//! Issue 8, the real sound path under trouble: both cores busy, and a sound server that
//! dies mid-session and comes back.
//!
//! The sound server dies mid-session and comes back. `/healthz` says `degraded`
//! and an `output` event says why while it is gone; the session keeps real time (its
//! deadlines do not move); the strokes that fell in the outage are reported missed; the
//! output reopens by itself and sound resumes with the next stroke, on its planned
//! instant, within 2 s of the server's return.

use std::time::{Duration, Instant, SystemTime};

use gongan::audio::output::OutputSpec;
use gongan::config::PackChoice;
use serde_json::{Value, json};

use crate::http_support::{Events, TestServer, block_on};
use crate::pulse::{SINK, exclusive_pulse, pull_the_plug, require_null_sink};
use crate::recorder::{Recording, onsets};
use crate::render::click_pack;

/// 4 s of buka, then 30 s of lancaran at full density: a stroke every ~1.9 s.
const PLAN: &str = r#"{"name": "Outage", "segments": [{"title": "Hold", "duration": "30s", "form": "lancaran", "density": "full"}]}"#;

/// Through the default output: PulseAudio's own protocol.
#[test]
fn a_sound_server_that_dies_and_returns_loses_no_time() {
    let _pulse = exclusive_pulse();
    block_on(outage(OutputSpec::Device(None)));
}

/// Through cpal, as on a machine whose sound card has no PulseAudio server in front of
/// it — here the same server, by the name cpal gives its sink.
#[test]
fn a_sound_server_that_dies_and_returns_loses_no_time_through_cpal() {
    let _pulse = exclusive_pulse();
    block_on(outage(OutputSpec::Device(Some(SINK.into()))));
}

/// UTC (RFC 3339, as events carry it) to a host instant, through one reading of both
/// clocks.
struct Clocks {
    utc: SystemTime,
    host: Instant,
}

impl Clocks {
    fn now() -> Clocks {
        Clocks {
            utc: SystemTime::now(),
            host: Instant::now(),
        }
    }

    fn host_of(&self, utc: &str) -> Instant {
        let time = utc.split('T').nth(1).unwrap().trim_end_matches('Z');
        let mut parts = time.split(':');
        let h: f64 = parts.next().unwrap().parse().unwrap();
        let m: f64 = parts.next().unwrap().parse().unwrap();
        let s: f64 = parts.next().unwrap().parse().unwrap();
        let of_day = h * 3600.0 + m * 60.0 + s;
        let now_of_day = self
            .utc
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
            % 86_400.0;
        let ahead = of_day - now_of_day;
        if ahead >= 0.0 {
            self.host + Duration::from_secs_f64(ahead)
        } else {
            self.host - Duration::from_secs_f64(-ahead)
        }
    }
}

async fn health(server: &TestServer) -> Value {
    server.get("/healthz").await.json
}

async fn outage(output: OutputSpec) {
    // The server's own account of the outage, in the test's output if it fails.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("gongan=info")
        .with_test_writer()
        .try_init();
    require_null_sink();
    let dir = tempfile::tempdir().unwrap();
    let pack = click_pack(dir.path());
    let server = TestServer::start_with(|c| {
        c.output = output;
        c.pack = PackChoice::Dir(pack);
    })
    .await;
    assert_eq!(health(&server).await["output"], "device");
    let mut events: Events = server.events().await;
    events.until("status").await;
    let clocks = Clocks::now();
    let plan: Value = serde_json::from_str(PLAN).unwrap();
    let started = server.post("/v1/session", &json!({"plan": plan})).await;
    assert_eq!(started.status, 201, "{}", started.text);
    let deadline_before = started.json["segments"][0]["planned_seconds"]
        .as_f64()
        .unwrap();
    // Into the segment, then pull the plug.
    loop {
        let stroke = events.until("stroke").await;
        if stroke["seconds"].as_f64().unwrap() > 6.0 {
            break;
        }
    }
    let unplugged = pull_the_plug();
    let lost = Instant::now();
    let degraded = loop {
        let (kind, data) = events.next().await.expect("the stream goes on");
        if kind == "output" && data["output"] == "degraded" {
            break data;
        }
    };
    assert!(
        !degraded["detail"].as_str().unwrap().is_empty(),
        "{degraded}"
    );
    assert_eq!(health(&server).await["output"], "degraded");
    // The session keeps real time while there is no sound.
    let during = server.get("/v1/session").await.json;
    assert!(during["elapsed_seconds"].as_f64().unwrap() > 6.0);
    tokio::time::sleep(Duration::from_secs(3).saturating_sub(lost.elapsed())).await;

    drop(unplugged); // the server starts again
    let back = Instant::now();
    let recording = Recording::start();
    let mut missed = 0;
    let mut recovered = None;
    let mut heard_after = Vec::new();
    let finished = loop {
        let (kind, data) = events.next().await.expect("the stream goes on");
        match kind.as_str() {
            "missed" => missed += data["strokes"].as_u64().unwrap(),
            "output" if data["output"] == "device" => recovered = Some(back.elapsed()),
            "stroke" if recovered.is_some() => {
                heard_after.push(clocks.host_of(data["utc"].as_str().unwrap()));
            }
            "finished" => break data,
            _ => {}
        }
    };
    let recorded = recording.stop();
    let recovered = recovered.expect("an output event says the sound is back");
    assert!(
        recovered < Duration::from_secs(2),
        "the output reopened {recovered:?} after the sound server returned"
    );
    assert_eq!(health(&server).await["output"], "device");
    assert!(missed >= 1, "the strokes of the outage are reported missed");
    // The deadline did not move: 4 s of buka + the planned 30 s.
    assert_eq!(finished["seconds"].as_f64().unwrap(), 4.0 + deadline_before);

    assert!(
        heard_after.len() >= 5,
        "{} strokes after the return",
        heard_after.len()
    );
    let first = heard_after[0];
    assert!(
        first.saturating_duration_since(back) < Duration::from_secs(3),
        "the first stroke after the return was planned {:?} after it",
        first.saturating_duration_since(back)
    );
    assert_heard_on_time(&recorded, &heard_after, 5.0);
    server.stop().await;
}

/// Every planned instant has a stroke in the recording within `within_ms` of it.
fn assert_heard_on_time(recorded: &crate::recorder::Recorded, planned: &[Instant], within_ms: f64) {
    let found: Vec<Instant> = onsets(&recorded.samples, 0.005, 2400)
        .into_iter()
        .map(|frame| recorded.clock.instant_of(frame as u64))
        .collect();
    let errors_ms: Vec<f64> = planned
        .iter()
        .map(|planned| {
            found
                .iter()
                .map(|f| {
                    if f > planned {
                        (*f - *planned).as_secs_f64() * 1000.0
                    } else {
                        -(*planned - *f).as_secs_f64() * 1000.0
                    }
                })
                .min_by(|a, b| a.abs().total_cmp(&b.abs()))
                .expect("strokes in the recording")
        })
        .collect();
    assert!(
        errors_ms.iter().all(|e| e.abs() < within_ms),
        "heard minus planned, ms, per stroke: {errors_ms:.2?}"
    );
}

/// A session's strokes through the sound card while `stress-ng` keeps both cores busy:
/// every stroke is either heard on its instant or reported missed — never late, never
/// silently lost. (How many are missed under load is measured by `benches/sound_path.rs`;
/// the bar of none is not met yet: see BENCHMARKS.md.)
#[test]
fn with_both_cores_busy_every_stroke_is_on_time_or_reported_missed() {
    let _pulse = exclusive_pulse();
    block_on(under_load());
}

async fn under_load() {
    require_null_sink();
    let dir = tempfile::tempdir().unwrap();
    let pack = click_pack(dir.path());
    let server = TestServer::start_with(|c| {
        c.output = OutputSpec::Device(None);
        c.pack = PackChoice::Dir(pack);
    })
    .await;
    let mut stress = std::process::Command::new("stress-ng")
        .args(["--cpu", "2", "--timeout", "60s", "--quiet"])
        .spawn()
        .expect("stress-ng must be installed; `make test` installs it");
    let mut events = server.events().await;
    events.until("status").await;
    let clocks = Clocks::now();
    let recording = Recording::start();
    let plan = r#"{"name": "Busy", "segments": [{"title": "Busy", "duration": "16s", "form": "lancaran", "density": "full"}]}"#;
    let plan: Value = serde_json::from_str(plan).unwrap();
    let started = server.post("/v1/session", &json!({"plan": plan})).await;
    assert_eq!(started.status, 201, "{}", started.text);
    let expected = {
        let plan = gongan::session::ValidPlan::from_json(&plan.to_string()).unwrap();
        let options = gongan::session::TimelineOptions::new(gongan::session::SESSION_RATE);
        gongan::session::timeline(&plan, &gongan::session::History::new(), &options)
            .strokes()
            .len() as u64
    };
    let mut planned = Vec::new();
    let mut missed = 0;
    loop {
        let (kind, data) = events.next().await.expect("the stream goes on");
        match kind.as_str() {
            "stroke" => planned.push(clocks.host_of(data["utc"].as_str().unwrap())),
            "missed" => missed += data["strokes"].as_u64().unwrap(),
            "finished" => break,
            _ => {}
        }
    }
    // The final gong's stroke event comes with (or just before) `finished`; let it ring in.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let recorded = recording.stop();
    let _ = stress.kill();
    let _ = stress.wait();
    assert_eq!(
        planned.len() as u64 + missed,
        expected,
        "{} heard and {missed} missed of {expected} planned",
        planned.len()
    );
    assert!(planned.len() >= 15, "{} strokes heard", planned.len());
    // Under load the output's own latency reports wander (measured: up to 12 ms late for
    // a few seconds at a time; see BENCHMARKS.md); the engine never lets a stroke be
    // heard more than its 20 ms tolerance late, and the recorder's placing adds < 1 ms.
    assert_heard_on_time(&recorded, &planned, 21.0);
    server.stop().await;
}
