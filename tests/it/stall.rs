//! Issue 8: a server stopped mid-session (SIGSTOP for 10 s) keeps the session on real
//! time: no burst when it wakes, the strokes that fell in the stop reported missed, and
//! the strokes after it — the session's final gong too — at their planned instants.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::serve_process::ServeProcess;

/// 4 s of buka, then 24 s of lancaran at full density: a stroke every 1.5 s.
const PLAN: &str = r#"{"name": "Stall", "segments": [{"title": "Hold", "duration": "24s", "form": "lancaran", "density": "full"}]}"#;

fn utc_seconds(text: &str) -> f64 {
    // 2026-11-22T09:30:00.125Z → seconds of the day are enough within one test.
    let time = text.split('T').nth(1).unwrap().trim_end_matches('Z');
    let mut parts = time.split(':');
    let h: f64 = parts.next().unwrap().parse().unwrap();
    let m: f64 = parts.next().unwrap().parse().unwrap();
    let s: f64 = parts.next().unwrap().parse().unwrap();
    h * 3600.0 + m * 60.0 + s
}

fn now_utc_seconds() -> f64 {
    let since = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    since % 86_400.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_resumes_on_real_time_without_a_burst() {
    let data = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(data.path(), &[]).await;
    let client = &server.client;
    let mut events = server.events().await;

    let plan: Value = serde_json::from_str(PLAN).unwrap();
    client
        .call(
            hyper::Method::POST,
            "/v1/session",
            Some(&json!({"plan": plan})),
        )
        .await
        .unwrap();
    // Let it run into the segment, then stop the whole process for ten seconds.
    loop {
        let stroke = events.until("stroke").await;
        if stroke["seconds"].as_f64().unwrap() > 7.0 {
            break;
        }
    }
    server.signal("-STOP");
    let stopped_at = now_utc_seconds();
    tokio::time::sleep(Duration::from_secs(10)).await;
    server.signal("-CONT");
    let woke_at = now_utc_seconds();

    let mut missed = 0;
    let mut after = Vec::new();
    let finished = loop {
        let (kind, data) = events.next().await.expect("the stream goes on");
        match kind.as_str() {
            "missed" => missed += data["strokes"].as_u64().unwrap(),
            "stroke" => {
                let planned = utc_seconds(data["utc"].as_str().unwrap());
                after.push((
                    planned,
                    now_utc_seconds(),
                    data["seconds"].as_f64().unwrap(),
                ));
            }
            "finished" => break data,
            _ => {}
        }
    };
    // The strokes that fell in the stop (~6 of them, one every 1.5 s) were missed.
    assert!((5..=8).contains(&missed), "missed {missed}");
    // None was played late: every stroke heard after waking was planned after waking
    // (give or take the engine's 20 ms tolerance), and arrived when it was planned.
    assert!(!after.is_empty());
    for (planned, arrived, seconds) in &after {
        assert!(
            *planned > woke_at - 0.05,
            "a stroke planned at {seconds} s was played after the stop ({planned} < {woke_at})"
        );
        assert!(
            (arrived - planned).abs() < 0.25,
            "stroke at {seconds} s arrived {:.3} s from its instant",
            arrived - planned
        );
    }
    assert!(woke_at - stopped_at >= 9.9);
    // The final gong is where the plan put it: 4 s of buka + 24 s, untouched by the stop.
    assert_eq!(finished["seconds"].as_f64().unwrap(), 28.0);
    server.signal("-TERM");
}
