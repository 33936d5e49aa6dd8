//! Issue 9: a session survives its server. `kill -9` of `gongan serve` at any moment — mid
//! segment, while paused, during the opening phrase, or long enough that the session ends
//! while it is down — and a restart on the same data dir takes the session up where real
//! time is: same id, same steering, its actor log intact, the next stroke at its planned
//! instant, nothing from the time it was down played late.

use hyper::Method;
use serde_json::{Value, json};

use crate::http_support::Events;
use crate::serve_process::{ServeProcess, now_seconds, utc_seconds};

/// 4 s of buka, then a minute of lancaran at full density (a stroke every beat).
fn plan(seconds: u32) -> Value {
    json!({"name": "Drill", "segments": [
        {"title": "Hold", "duration": format!("{seconds}s"), "form": "lancaran", "density": "full"},
        {"title": "Debrief", "duration": "1m", "form": "lancaran"}
    ]})
}

async fn start(server: &ServeProcess, plan: Value, by: &str) -> Value {
    server
        .call(
            Method::POST,
            "/v1/session",
            Some(&json!({"plan": plan, "by": by})),
        )
        .await
}

/// Waits for a stroke planned after session second `after`.
async fn stroke_after(events: &mut Events, after: f64) -> Value {
    loop {
        let stroke = events.until("stroke").await;
        if stroke["seconds"].as_f64().unwrap() > after {
            return stroke;
        }
    }
}

/// The next `count` strokes, each checked to be placed where it was planned — its UTC
/// instant is exactly the session's start plus its session seconds — and to be played
/// then, not in a burst: its event arrives within a second of that instant. (The event's
/// arrival measures delivery too — the conductor's tick, the event stream, this test's
/// scheduling on a busy machine — so this bound is loose; the sound-path tests and
/// `scripts/bench-resume` measure when strokes are heard.)
async fn strokes_on_time(events: &mut Events, started: f64, count: usize) -> Vec<f64> {
    let mut seconds = Vec::new();
    while seconds.len() < count {
        let stroke = events.until("stroke").await;
        let arrived = now_seconds();
        let at = stroke["seconds"].as_f64().unwrap();
        let planned = utc_seconds(stroke["utc"].as_str().unwrap());
        assert!(
            (planned - (started + at)).abs() < 0.002,
            "stroke at {at} s is placed at {planned}, not start + {at} = {}",
            started + at
        );
        assert!(
            (arrived - planned).abs() < 1.0,
            "stroke at {at} s arrived {:.3} s from its planned instant",
            arrived - planned
        );
        seconds.push(at);
    }
    seconds
}

/// The actors of a session's log, in order, from its debrief.
async fn actors(server: &ServeProcess, id: &str) -> Vec<(String, String)> {
    let debrief = server
        .call(Method::GET, &format!("/v1/history/{id}"), None)
        .await;
    debrief["log"]
        .as_array()
        .expect("the debrief has a log")
        .iter()
        .map(|line| {
            (
                line["actor"].as_str().unwrap().to_owned(),
                line["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_resumes_mid_segment_on_real_time_with_its_steering() {
    let data = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(data.path(), &[]).await;
    let mut events = server.events().await;
    let session = start(&server, plan(60), "page").await;
    let id = session["id"].as_str().unwrap().to_owned();
    let started = utc_seconds(session["started"].as_str().unwrap());
    stroke_after(&mut events, 6.0).await;
    let cue = server
        .call(
            Method::POST,
            "/v1/cues",
            Some(&json!({"instrument": "kempul", "by": "pager"})),
        )
        .await;
    assert!(cue["id"].as_u64().is_some(), "{cue}");
    // A command answered 2xx is journaled: kill the server right after the answer.
    let extended = server
        .call(
            Method::POST,
            "/v1/session/extend",
            Some(&json!({"seconds": 30, "by": "deploy-bot"})),
        )
        .await;
    assert_eq!(extended["deadline_seconds"], 94.0, "4 s buka + 60 s + 30 s");
    server.kill9();
    let killed = now_seconds();

    let server = ServeProcess::start(data.path(), &[]).await;
    let mut events = server.events().await;
    let back = server.call(Method::GET, "/v1/session", None).await;
    assert_eq!(back["id"], id.as_str(), "the same session");
    assert_eq!(back["state"], "running");
    assert_eq!(back["deadline_seconds"], 94.0, "the extension survived");
    assert_eq!(back["started"], session["started"], "the same origin");
    // Nothing from the time it was down is played: every stroke now is planned after
    // the restart, and lands at its planned instant.
    let seconds = strokes_on_time(&mut events, started, 3).await;
    assert!(
        seconds[0] > killed - started,
        "a stroke planned at {} s, before the restart, was played",
        seconds[0]
    );

    let log = actors(&server, &id).await;
    let expected = [
        ("page", "started"),
        ("deploy-bot", "extend"),
        ("server", "resumed"),
    ];
    for (actor, action) in expected {
        assert!(
            log.iter().any(|(a, b)| a == actor && b == action),
            "{actor} {action} missing from {log:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_session_stays_paused_and_every_answered_command_survives_a_kill() {
    let data = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(data.path(), &[]).await;
    let mut events = server.events().await;
    let session = start(&server, plan(60), "page").await;
    let id = session["id"].as_str().unwrap().to_owned();
    events.until("segment_started").await;
    let paused = server
        .call(
            Method::POST,
            "/v1/session/pause",
            Some(&json!({"by": "cli:ana"})),
        )
        .await;
    assert_eq!(paused["state"], "paused");
    server.kill9();

    let server = ServeProcess::start(data.path(), &[]).await;
    let back = server.call(Method::GET, "/v1/session", None).await;
    assert_eq!(back["id"], id.as_str());
    assert_eq!(back["state"], "paused", "a paused session stays paused");
    let frozen = paused["remaining_seconds"].as_f64().unwrap();
    assert!(
        (back["remaining_seconds"].as_f64().unwrap() - frozen).abs() < 0.05,
        "the time left stood still: {} then {}",
        frozen,
        back["remaining_seconds"]
    );
    // Resume and move on, each answered and then killed at once.
    let resumed = server
        .call(
            Method::POST,
            "/v1/session/resume",
            Some(&json!({"by": "cli:bo"})),
        )
        .await;
    assert_eq!(resumed["state"], "running");
    server.kill9();
    let server = ServeProcess::start(data.path(), &[]).await;
    assert_eq!(
        server.call(Method::GET, "/v1/session", None).await["state"],
        "running"
    );
    // A bare POST (a CI job's curl) is acted by `api`.
    let (status, next) = server.send(Method::POST, "/v1/session/next", "").await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(next["segment"], 1);
    server.kill9();
    let server = ServeProcess::start(data.path(), &[]).await;
    let back = server.call(Method::GET, "/v1/session", None).await;
    assert_eq!(back["segment"], 1, "the next survived");

    let log = actors(&server, &id).await;
    let steering: Vec<(String, String)> = log
        .into_iter()
        .filter(|(_, action)| ["pause", "resume", "next"].contains(&action.as_str()))
        .collect();
    assert_eq!(
        steering,
        [("cli:ana", "pause"), ("cli:bo", "resume"), ("api", "next")]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_the_opening_phrase_resumes_into_the_session() {
    let data = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(data.path(), &[]).await;
    let session = start(&server, plan(60), "page").await;
    assert_eq!(session["state"], "buka");
    let id = session["id"].as_str().unwrap().to_owned();
    let started = utc_seconds(session["started"].as_str().unwrap());
    server.kill9();

    let server = ServeProcess::start(data.path(), &[]).await;
    let mut events = server.events().await;
    let back = server.call(Method::GET, "/v1/session", None).await;
    assert_eq!(back["id"], id.as_str());
    assert!(
        ["buka", "running"].contains(&back["state"].as_str().unwrap()),
        "{back}"
    );
    strokes_on_time(&mut events, started, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_ended_while_the_server_was_down_is_finished_at_its_planned_end() {
    let data = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(data.path(), &[]).await;
    // A minute at speed 30: the whole session is over about 8 s after it starts.
    let session = server
        .call(
            Method::POST,
            "/v1/session",
            Some(&json!({"plan": {"name": "Quick", "segments": [
                {"title": "Only", "duration": "1m", "form": "lancaran"}]},
                "speed": 30, "by": "page"})),
        )
        .await;
    let id = session["id"].as_str().unwrap().to_owned();
    server.kill9();
    let started = utc_seconds(session["started"].as_str().unwrap());
    let end = started + session["deadline_seconds"].as_f64().unwrap();
    let wait = end - now_seconds() + 0.5;
    if wait > 0.0 {
        tokio::time::sleep(std::time::Duration::from_secs_f64(wait)).await;
    }

    let server = ServeProcess::start(data.path(), &[]).await;
    let back = server.call(Method::GET, "/v1/session", None).await;
    assert_eq!(back["id"], id.as_str());
    assert_eq!(back["state"], "finished");
    let history = server.call(Method::GET, "/v1/history", None).await;
    assert_eq!(history["sessions"][0]["id"], id.as_str());
    assert_eq!(history["sessions"][0]["ending"], "ended_while_down");
    // Finished at its planned end, not when the server came back.
    let finished = utc_seconds(history["sessions"][0]["finished"].as_str().unwrap());
    assert!(
        (finished - end).abs() < 0.01,
        "finished {finished}, planned {end}"
    );
    // The debrief comes out of `gongan history`, from the same journal, while it serves.
    let history = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_gongan"))
            .arg("history")
            .args(args)
            .arg("--data-dir")
            .arg(data.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let list = history(&[]);
    assert!(
        list.contains(&id) && list.contains("ended while down"),
        "{list}"
    );
    let sheet = history(&[&id]);
    assert!(sheet.starts_with("# Debrief: Quick"), "{sheet}");
    assert!(sheet.contains("| page |"), "{sheet}");
    let csv = history(&[&id, "--format", "csv"]);
    assert!(csv.lines().count() >= 2, "{csv}");
    let over_http = server
        .send(Method::GET, &format!("/v1/history/{id}?format=md"), "")
        .await;
    assert_eq!(over_http.0, 200);

    // Carry forward: run it again from the history, and a plan from its actual timings.
    let again = server
        .call(
            Method::POST,
            "/v1/session",
            Some(&json!({"from_history": id, "by": "page"})),
        )
        .await;
    assert_ne!(again["id"], id.as_str());
    assert_eq!(again["plan"], "Quick");
    assert_eq!(again["speed"], 30.0, "at the speed it ran at");
    let seed = server
        .call(Method::GET, &format!("/v1/history/{id}/plan"), None)
        .await;
    assert_eq!(seed["segments"][0]["title"], "Only");
    let (status, problem) = server
        .send(Method::GET, "/v1/history/20200101-000000-0000", "")
        .await;
    assert_eq!(status, 404, "{problem}");
    let (status, problem) = server.send(Method::GET, "/v1/history/../etc", "").await;
    assert!(status == 404 || status == 400, "{status} {problem}");
    let (status, problem) = server
        .send(Method::GET, &format!("/v1/history/{id}?format=xml"), "")
        .await;
    assert_eq!(status, 422, "{problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_killed_in_overtime_resumes_holding_in_overtime() {
    let data = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(data.path(), &[]).await;
    let mut events = server.events().await;
    // A 2-minute `wait` segment at speed 60: its deadline is 2 s after the buka, then it
    // holds in overtime (a reminder every minute of plan time: every second here).
    let session = server
        .call(
            Method::POST,
            "/v1/session",
            Some(&json!({"plan": {"name": "Hold", "segments": [
                {"title": "Wait for it", "duration": "2m", "form": "lancaran", "end": "wait"},
                {"title": "After", "duration": "2m", "form": "lancaran"}]},
                "speed": 60, "by": "page"})),
        )
        .await;
    let id = session["id"].as_str().unwrap().to_owned();
    events.until("overtime").await;
    server.kill9();

    let server = ServeProcess::start(data.path(), &[]).await;
    let back = server.call(Method::GET, "/v1/session", None).await;
    assert_eq!(back["id"], id.as_str());
    assert_eq!(back["state"], "overtime", "{back}");
    assert!(back["overtime_seconds"].as_f64().unwrap() > 0.0);
    // It still waits for the facilitator, and moves on when told.
    let next = server
        .call(
            Method::POST,
            "/v1/session/next",
            Some(&json!({"by": "page"})),
        )
        .await;
    assert_eq!(next["segment"], 1);
    assert_eq!(next["state"], "running");
}
