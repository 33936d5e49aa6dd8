//! `GET /v1/events` (issue 4): strokes in order at the timeline's frames, one stroke per
//! coalescing window in a cue storm, streams that end on shutdown.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gongan::session::{History, Speed, TimelineOptions, ValidPlan, timeline};
use serde_json::{Value, json};

use crate::http_support::TestServer;

const DRILL: &str = r#"{"name": "Drill", "segments": [{"title": "Go", "duration": "8s", "form": "lancaran", "density": "full"}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sees_segments_and_strokes_in_order_at_the_timelines_frames() {
    let server = TestServer::start().await;
    let mut events = server.events().await;
    let (kind, first) = events.next().await.unwrap();
    assert_eq!(kind, "status");
    assert_eq!(first["status"]["output"], "null");

    let speed = 4.0;
    let plan: Value = serde_json::from_str(DRILL).unwrap();
    let started = server
        .post("/v1/session", &json!({"plan": plan, "speed": speed}))
        .await;
    assert_eq!(started.status, 201, "{}", started.text);

    let started_utc = started.json["started"].as_str().unwrap().to_owned();

    // What the timeline says. (A pitch the pack lacks wraps onto one it has, so every
    // stroke sounds.)
    let valid = ValidPlan::from_json(DRILL).unwrap();
    let options = TimelineOptions::new(48_000).with_speed(Speed::new(speed).unwrap());
    let expected: Vec<(u64, Value, Option<u8>)> = timeline(&valid, &History::new(), &options)
        .strokes()
        .iter()
        .map(|s| {
            (
                s.frame.0,
                serde_json::to_value(s.instrument).unwrap(),
                s.variant,
            )
        })
        .collect();
    let last_seconds = expected.last().unwrap().0 as f64 / 48_000.0;

    // Every event until the session has finished and the clock has passed its last stroke.
    let mut seen = Vec::new();
    let mut finished = false;
    loop {
        let (kind, data) = events.next().await.expect("stream open");
        assert_eq!(data["type"], kind.as_str());
        if kind == "tick" {
            let elapsed = data["session"]["elapsed_seconds"].as_f64().unwrap_or(0.0);
            if finished && elapsed > last_seconds {
                break;
            }
            continue;
        }
        finished |= kind == "finished";
        seen.push((kind, data));
    }
    assert_eq!(seen[0].0, "session_started");
    assert_eq!(seen[0].1["seconds"], 0.0);
    assert_eq!(seen[0].1["utc"].as_str().unwrap(), started_utc);
    // Strokes carry the session frame they were planned for: exactly the timeline's.
    let strokes: Vec<(u64, Value, Option<u8>)> = seen
        .iter()
        .filter(|(kind, _)| kind == "stroke")
        .map(|(_, d)| {
            (
                d["planned"].as_u64().unwrap(),
                d["instrument"].clone(),
                d["variant"].as_u64().map(|v| v as u8),
            )
        })
        .collect();
    let kinds: Vec<&str> = seen.iter().map(|(k, _)| k.as_str()).collect();
    assert!(
        strokes.len() > 10,
        "a full lancaran has many strokes: {strokes:?}"
    );
    assert_eq!(strokes.len(), expected.len(), "{kinds:?}");
    assert_eq!(strokes, expected);

    // Segment announcements come in order and before the segment's later strokes.
    let segment = seen
        .iter()
        .position(|(k, _)| k == "segment_started")
        .expect("segment_started");
    let segment_seconds = seen[segment].1["seconds"].as_f64().unwrap();
    for (kind, data) in &seen[..segment] {
        if kind == "stroke" {
            assert!(data["seconds"].as_f64().unwrap() <= segment_seconds);
        }
    }
    let moments: Vec<f64> = seen
        .iter()
        .filter(|(k, _)| k != "finished")
        .filter_map(|(_, d)| d["seconds"].as_f64())
        .collect();
    assert!(moments.windows(2).all(|w| w[0] <= w[1]), "{moments:?}");
    // Engine frames go forward with them (the output's clock maps one onto the other).
    let frames: Vec<u64> = seen
        .iter()
        .filter(|(k, _)| k == "stroke")
        .filter_map(|(_, d)| d["frame"].as_u64())
        .collect();
    assert!(frames.windows(2).all(|w| w[0] <= w[1]), "{frames:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cue_storm_is_one_stroke_per_window_and_health_stays_quick() {
    let server = Arc::new(TestServer::start().await);
    let mut events = server.events().await;
    events.until("status").await;

    let storm = {
        let server = server.clone();
        tokio::spawn(async move {
            let limit = Arc::new(tokio::sync::Semaphore::new(48));
            let mut tasks = Vec::new();
            for _ in 0..3000 {
                let permit = limit.clone().acquire_owned().await.unwrap();
                let server = server.clone();
                tasks.push(tokio::spawn(async move {
                    let reply = server
                        .post("/v1/cues", &json!({"instrument": "gong"}))
                        .await;
                    drop(permit);
                    assert_eq!(reply.status, 202, "{}", reply.text);
                    (
                        reply.json["id"].as_u64().unwrap(),
                        reply.json["coalesced"].as_bool().unwrap(),
                    )
                }));
            }
            let mut receipts = Vec::new();
            for task in tasks {
                receipts.push(task.await.unwrap());
            }
            receipts
        })
    };
    let mut slowest = Duration::ZERO;
    while !storm.is_finished() {
        let asked = Instant::now();
        let health = server.get("/healthz").await;
        assert_eq!(health.status, 200);
        slowest = slowest.max(asked.elapsed());
    }
    let receipts = storm.await.unwrap();
    assert!(
        slowest < Duration::from_millis(500),
        "healthz took {slowest:?} during the storm"
    );

    let played: BTreeSet<u64> = receipts
        .iter()
        .filter(|(_, c)| !c)
        .map(|(id, _)| *id)
        .collect();
    let all: BTreeSet<u64> = receipts.iter().map(|(id, _)| *id).collect();
    assert_eq!(played, all, "every coalesced answer names a cue that plays");
    assert!(
        played.len() < 200,
        "{} strokes for 3000 identical cues",
        played.len()
    );

    // A distinct marker cue after the storm: every storm stroke is reported before it.
    let marker = server
        .post("/v1/cues", &json!({"instrument": "gong", "gain_db": -6}))
        .await;
    let marker = marker.json["id"].as_u64().unwrap();
    let mut frames = Vec::new();
    loop {
        let data = events.until("cue_played").await;
        let id = data["id"].as_u64().unwrap();
        if id == marker {
            break;
        }
        assert!(played.contains(&id));
        frames.push(data["frame"].as_u64().unwrap());
    }
    assert_eq!(frames.len(), played.len(), "one cue_played per stroke");
    let window = 48_000 * 150 / 1000;
    assert!(
        frames.windows(2).all(|w| w[1] - w[0] >= window),
        "strokes closer than the window: {frames:?}"
    );
    Arc::try_unwrap(server).ok().unwrap().stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_end_cleanly_on_shutdown() {
    let server = TestServer::start().await;
    let mut first = server.events().await;
    let mut second = server.events().await;
    first.until("status").await;
    second.until("tick").await;
    server.shutdown_handle().shutdown();
    while first.next().await.is_some() {}
    while second.next().await.is_some() {}
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_client_gets_a_resync_and_the_stream_goes_on() {
    let server = TestServer::start_with(|c| c.event_buffer = 4).await;
    let mut events = server.events().await;
    events.until("status").await;
    // 64 distinct cues on one frame: their 64 `cue_played` events are published in one
    // burst, far more than the 4 the buffer holds.
    let at = server.conductor.clock().now().0 + 24_000;
    for i in 0..64 {
        let cue = json!({"instrument": "ketuk", "gain_db": -(i as f64) / 2.0, "at": at});
        assert_eq!(server.post("/v1/cues", &cue).await.status, 202);
    }
    let resync = events.until("resync").await;
    assert!(resync["missed"].as_u64().unwrap() > 0, "{resync}");
    assert_eq!(resync["status"]["output"], "null");
    // Still open: the next tick arrives.
    events.until("tick").await;
    server.stop().await;
}
