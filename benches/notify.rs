//! Notification benchmark (issue 10), run with `cargo bench --bench notify`:
//!
//! 1 000 session events with the receiver down for 30 s, then up: all delivered, in
//! order, once. A real server (the `null` output) with one signed JSON target on a port
//! where nothing listens. Three sessions of 199, 199 and 99 thirty-second `bell` segments
//! at speed 1200 (25 ms each, one after another) make (1 started + 199 × (segment,
//! deadline) + 1 finished) × 2 + (1 + 99 × 2 + 1) = 1 000 events, all from the sessions'
//! own announcements, in about 25 s. 30 s after the first session starts, a receiver
//! starts listening on that port. Prints what was queued when it came up and what was
//! delivered, the order and duplicate checks, how long after the receiver came up the
//! first message arrived (the backoff's wait) and the time to drain, and each session's
//! length from its start request to its `finished` event against its plan (the notifier
//! must not slow the session).
//!
//! Warnings are left out: they follow the warning strokes as the engine reports them,
//! and at 25 ms segments a loaded machine reports some after their segment has ended
//! (the notifier then drops them as stale).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use gongan::config::{Config, NotifyFormat, NotifyTarget, Secret};
use gongan::http::Application;
use gongan::session::{Event, SessionEvent};
use gongan::store::Database;
use gongan::store::outbox::Outbox;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

/// Segments of each session (a plan has at most 200).
const SESSIONS: [usize; 3] = [199, 199, 99];
const EVENTS: usize = 1_000;
const DOWN: Duration = Duration::from_secs(30);
const SPEED: f64 = 1200.0;
const SECRET: &str = "bench-secret";
const GIVE_UP: Duration = Duration::from_secs(300);

struct Got {
    delivery: u64,
    event: String,
    body: Value,
    signed: bool,
    at: Instant,
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

async fn bench() {
    let data = tempfile::tempdir().unwrap();
    // A port where nothing listens until the receiver starts.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = Config::for_tests(data.path());
    config.hooks.notify = vec![NotifyTarget {
        name: "bench".into(),
        url: format!("http://127.0.0.1:{port}/bench"),
        format: NotifyFormat::Json,
        secret: Secret::new(SECRET),
        events: ["started", "segment", "deadline", "finished"]
            .map(str::to_owned)
            .to_vec(),
    }];
    let app = Application::build(config).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    let stop = app.shutdown_handle();
    let conductor = app.conductor();
    let server = tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();

    let t0 = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel::<Got>();
    let dir = data.path().to_owned();
    let receiver = tokio::spawn(async move {
        tokio::time::sleep_until((t0 + DOWN).into()).await;
        let queued = tokio::task::spawn_blocking(move || {
            Outbox::new(Database::open(&dir).unwrap())
                .counts(None)
                .unwrap()
                .pending
        })
        .await
        .unwrap();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the receiver's port is still free");
        let up = Instant::now();
        let app = Router::new()
            .route("/bench", post(record))
            .with_state(Arc::new(tx));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (up, queued)
    });

    let mut events = conductor.subscribe();
    let mut sessions_ended = Vec::new();
    let mut lengths = Vec::new();
    for segments in SESSIONS {
        let segment = json!({"title": "Step", "duration": "30s", "form": "bell"});
        let plan = json!({"name": "Bench", "segments": vec![segment; segments]});
        let begun = Instant::now();
        let started = http
            .post(format!("{base}/v1/session"))
            .json(&json!({"plan": plan, "speed": SPEED, "by": "bench"}))
            .send()
            .await
            .unwrap();
        assert_eq!(started.status(), 201, "{}", started.text().await.unwrap());
        // The next session starts once this one has said it finished: a start within
        // the conductor's steering lead of the previous session's end replaces it before
        // its last events are published (reported in issue 10's note).
        loop {
            match events.recv().await {
                Ok(Event::Session(SessionEvent::Finished { .. })) => break,
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => panic!("the conductor stopped"),
            }
        }
        sessions_ended.push(t0.elapsed());
        lengths.push((segments, begun.elapsed()));
    }

    let (up, queued_when_up) = receiver.await.unwrap();
    let mut got: Vec<Got> = Vec::new();
    let mut distinct = std::collections::BTreeSet::new();
    while distinct.len() < EVENTS {
        match tokio::time::timeout_at((up + GIVE_UP).into(), rx.recv()).await {
            Ok(Some(one)) => {
                distinct.insert(one.delivery);
                got.push(one);
            }
            _ => break,
        }
    }
    let drained = got.last().map(|g| g.at);
    // The last answer is recorded a moment after the receiver got it.
    let outbox = Outbox::new(Database::open(data.path()).unwrap());
    let settled = Instant::now() + Duration::from_secs(10);
    let mut counts = outbox.counts(None).unwrap();
    while counts.pending > 0 && Instant::now() < settled {
        tokio::time::sleep(Duration::from_millis(50)).await;
        counts = outbox.counts(None).unwrap();
    }
    stop.shutdown();
    let _ = tokio::time::timeout(Duration::from_secs(20), server).await;
    let ids: Vec<u64> = got.iter().map(|g| g.delivery).collect();
    let in_order = ids.windows(2).all(|w| w[0] < w[1]);
    let duplicates = got.len() - distinct.len();
    let unsigned = got.iter().filter(|g| !g.signed).count();
    // Each body is the JSON event its header names.
    let mismatched = got
        .iter()
        .filter(|g| g.body["event"] != g.event.as_str())
        .count();
    let mut expected = Vec::new();
    for segments in SESSIONS {
        expected.push("started");
        for _ in 0..segments {
            expected.extend(["segment", "deadline"]);
        }
        expected.push("finished");
    }
    assert_eq!(expected.len(), EVENTS);
    let events: Vec<&str> = got.iter().map(|g| g.event.as_str()).collect();
    // The buka (4 s, never sped up) and the segments at the session's speed.
    let strayed: Vec<String> = lengths
        .iter()
        .map(|(segments, length)| {
            let planned = 4.0 + *segments as f64 * 30.0 / SPEED;
            format!("{:+.3} s of {planned:.2} s", length.as_secs_f64() - planned)
        })
        .collect();

    println!(
        "notifications: {EVENTS} events, receiver down for {} s",
        DOWN.as_secs()
    );
    println!(
        "  sessions ended at:     {}",
        sessions_ended
            .iter()
            .map(|d| format!("{:.1} s", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  session length vs plan: {} (start request → `finished` event)",
        strayed.join(", ")
    );
    println!("  queued when it came up: {queued_when_up}");
    println!(
        "  outbox after:          {} delivered, {} pending, {} failed",
        counts.delivered, counts.pending, counts.failed
    );
    println!(
        "  received:              {} requests, {} distinct deliveries, {} duplicates, {} unsigned, {} bodies not their event",
        got.len(),
        distinct.len(),
        duplicates,
        unsigned,
        mismatched
    );
    println!(
        "  in order:              {} (delivery ids strictly increasing); events as the sessions ran: {}",
        in_order,
        events == expected
    );
    if let (Some(first), Some(last)) = (got.first(), drained) {
        println!(
            "  receiver up → first:   {:.2} s (the backoff's wait)",
            (first.at - up).as_secs_f64()
        );
        println!(
            "  first → last:          {:.2} s ({:.0} deliveries/s)",
            (last - first.at).as_secs_f64(),
            distinct.len() as f64 / (last - first.at).as_secs_f64().max(1e-9)
        );
        println!(
            "  receiver up → drained: {:.2} s",
            (last - up).as_secs_f64()
        );
    }
    if events != expected {
        let at = events
            .iter()
            .zip(&expected)
            .position(|(a, b)| a != b)
            .unwrap_or(events.len().min(expected.len()));
        let from = at.saturating_sub(3);
        println!(
            "  first difference at event {at}: got {:?}, expected {:?}",
            &events[from..(at + 4).min(events.len())],
            &expected[from..(at + 4).min(expected.len())]
        );
    }
    let ok = distinct.len() == EVENTS
        && in_order
        && duplicates == 0
        && unsigned == 0
        && mismatched == 0
        && events == expected;
    println!(
        "  result:                {}",
        if ok { "PASS" } else { "FAIL" }
    );
    if !ok {
        std::process::exit(1);
    }
}

async fn record(
    State(tx): State<Arc<mpsc::UnboundedSender<Got>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let signed = header("x-gongan-signature")
        .strip_prefix("sha256=")
        .and_then(|hex| hex::decode(hex).ok())
        .is_some_and(|given| {
            let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
            mac.update(&body);
            mac.verify_slice(&given).is_ok()
        });
    let _ = tx.send(Got {
        delivery: header("x-gongan-delivery").parse().unwrap_or(0),
        event: header("x-gongan-event"),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        signed,
        at: Instant::now(),
    });
    StatusCode::OK
}
