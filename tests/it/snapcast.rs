//! Rooms through Snapcast (issue 13): `gongan serve --output pipe:PATH` feeds a real
//! snapserver's pipe source, and two snapclients — two rooms — play it to two null sinks
//! of the tests' PulseAudio. Both monitors are recorded on the host's clock: every stroke
//! of the session is heard in both rooms, together, at the instant the session planned it.
//!
//! `GONGAN_SNAPCAST_SECONDS` makes the session longer and `GONGAN_SNAPCAST_SEGMENTS` cuts it
//! into that many segments (one gongan each: more strokes), for the benchmark
//! (scripts/bench-snapcast).

use std::net::TcpListener;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gongan::audio::HostTime;
use gongan::audio::output::OutputSpec;
use gongan::config::PackChoice;
use serde_json::{Value, json};

use crate::http_support::{PATIENCE, TestServer, block_on};
use crate::pulse::{ExtraSink, exclusive_pulse, require_null_sink};
use crate::recorder::{Recording, single_click_pack, spread, stroke_instants};

/// Snapcast's `stream.buffer` in these tests: shorter than its default second, so the
/// test waits less; what it changes is only how late after rendering a stroke is heard.
const BUFFER: Duration = Duration::from_millis(400);

/// The rooms: a snapclient and a null sink each.
const ROOMS: [&str; 2] = ["room1", "room2"];

/// A port nothing listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A process killed (and reaped) when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `program` with `args`, its output in `log`.
fn spawn(program: &str, args: &[String], log: &Path) -> Process {
    let log = std::fs::File::create(log).unwrap();
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{program} must be installed (`make test` installs snapserver and snapclient): {e}"
            )
        });
    Process(child)
}

/// A snapserver of the test's own (its own ports and data folder, none of the system's
/// configuration) with one pipe source reading `fifo`; returns it and its stream port.
fn snapserver(dir: &Path, fifo: &Path) -> (Process, u16) {
    let port = free_port();
    let config = dir.join("snapserver.conf");
    std::fs::write(
        &config,
        format!(
            "[server]\ndatadir = {data}\n\
             [http]\nenabled = false\n\
             [tcp]\nenabled = false\n\
             [stream]\nbind_to_address = 127.0.0.1\nport = {port}\nbuffer = {buffer}\n\
             source = pipe://{fifo}?name=gongan&sampleformat=48000:16:2&mode=read\n\
             [logging]\nsink = stderr\n",
            data = dir.display(),
            buffer = BUFFER.as_millis(),
            fifo = fifo.display(),
        ),
    )
    .unwrap();
    let server = spawn(
        "snapserver",
        &["-c".into(), config.display().to_string()],
        &dir.join("snapserver.log"),
    );
    (server, port)
}

/// A snapclient playing the stream on `port` to the null sink `room`.
fn snapclient(dir: &Path, port: u16, room: &str) -> Process {
    spawn(
        "snapclient",
        &[
            "--host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
            "--hostID".into(),
            room.into(),
            "--player".into(),
            "pulse".into(),
            "--soundcard".into(),
            room.into(),
            "--logsink".into(),
            "stderr".into(),
        ],
        &dir.join(format!("{room}.log")),
    )
}

/// The server's `/healthz` output and fault.
async fn output(server: &TestServer) -> (String, String) {
    let health = server.get("/healthz").await.json;
    (
        health["output"].as_str().unwrap_or_default().to_owned(),
        health["fault"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Polls `what` every 20 ms until it gives a value, for at most [`PATIENCE`].
async fn eventually<T>(what: &str, dir: &Path, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if Instant::now() > deadline {
            panic!("{what} did not happen; logs: {}", logs(dir));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The tails of the Snapcast processes' logs, for a failure's message.
fn logs(dir: &Path) -> String {
    ["snapserver", ROOMS[0], ROOMS[1]]
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(12).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            format!("\n--- {name}.log\n{}", tail.join("\n"))
        })
        .collect()
}

/// Whether PulseAudio plays a stream into the sink called `sink` now.
fn sink_has_input(sink: &str) -> bool {
    let list = |what: &str| {
        let out = Command::new("pactl")
            .args(["list", "short", what])
            .output()
            .expect("pactl runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let Some(index) = list("sinks")
        .lines()
        .find(|line| line.split('\t').nth(1) == Some(sink))
        .and_then(|line| line.split('\t').next().map(str::to_owned))
    else {
        return false;
    };
    list("sink-inputs")
        .lines()
        .any(|line| line.split('\t').nth(1) == Some(index.as_str()))
}

fn seconds_of(instant: Instant) -> f64 {
    HostTime::from_instant(instant).as_seconds()
}

/// Milliseconds from each of `planned` (host seconds) to the nearest of `heard`.
fn offsets(planned: &[f64], heard: &[f64]) -> Vec<f64> {
    planned
        .iter()
        .map(|p| {
            heard
                .iter()
                .map(|h| (h - p) * 1000.0)
                .min_by(|a, b| a.abs().total_cmp(&b.abs()))
                .unwrap_or(f64::INFINITY)
        })
        .collect()
}

#[test]
fn two_rooms_ring_together_at_the_planned_instants() {
    // PulseAudio is shared with the other sound-path tests, one at a time; the lock is
    // held outside the async part.
    let _pulse = exclusive_pulse();
    require_null_sink();
    block_on(two_rooms());
}

async fn two_rooms() {
    let _sinks = ROOMS.map(ExtraSink::load);
    let dir = tempfile::tempdir().unwrap();
    let fifo: PathBuf = dir.path().join("snapfifo");
    let (_snapserver, port) = snapserver(dir.path(), &fifo);
    let pack = single_click_pack();
    let pack_dir = pack.path().to_owned();
    let pipe = fifo.clone();
    let server = TestServer::start_with(move |c| {
        c.output = OutputSpec::Pipe {
            path: pipe,
            buffer: BUFFER,
        };
        c.pack = PackChoice::Dir(pack_dir);
    })
    .await;
    // The output says it plays once snapserver takes the audio.
    eventually("snapserver to read the pipe", dir.path(), async || {
        (output(&server).await.0 == "pipe").then_some(())
    })
    .await;
    let _clients = ROOMS.map(|room| snapclient(dir.path(), port, room));
    eventually("both rooms to play", dir.path(), async || {
        ROOMS.iter().all(|room| sink_has_input(room)).then_some(())
    })
    .await;
    let recordings = ROOMS.map(Recording::start_sink);

    // The strokes planned, with the instants they are to be heard at, through a listener
    // link's view of the next seconds.
    let link = server
        .post(
            "/v1/links",
            &json!({"name": "planned", "allow": ["listen"]}),
        )
        .await;
    assert_eq!(link.status, 201, "{}", link.text);
    let listen = link.json["listen_path"].as_str().unwrap().to_owned();
    let setting = |name: &str, default: u64| -> u64 {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let seconds = setting("GONGAN_SNAPCAST_SECONDS", 20);
    let segments = setting("GONGAN_SNAPCAST_SEGMENTS", 1).clamp(1, seconds / 5);
    let plan = json!({"name": "Two rooms", "segments": (1..=segments)
        .map(|n| json!({"title": format!("Practice {n}"), "duration": format!("{}s", seconds / segments)}))
        .collect::<Vec<_>>()});
    let started = server
        .post("/v1/session", &json!({"plan": plan, "by": "test"}))
        .await;
    assert_eq!(started.status, 201, "{}", started.text);
    let mut planned: Vec<f64> = Vec::new();
    let finished = Instant::now() + Duration::from_secs(seconds + 60);
    loop {
        let ahead = server.get(&format!("{listen}/ahead?seconds=30")).await;
        assert_eq!(ahead.status, 200, "{}", ahead.text);
        for stroke in ahead.json["strokes"].as_array().unwrap() {
            let at = stroke["at"].as_f64().unwrap();
            // Strokes of one beat land together: one onset each.
            if planned.iter().all(|p| (p - at).abs() > 0.05) {
                planned.push(at);
            }
        }
        let state: Value = server.get("/v1/session").await.json;
        if state["state"] == "finished" {
            break;
        }
        assert!(Instant::now() < finished, "the session did not finish");
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    planned.sort_by(f64::total_cmp);
    // The last stroke is heard a buffer after it is rendered.
    tokio::time::sleep(BUFFER + Duration::from_millis(500)).await;
    let [first, second] = recordings.map(|r| stroke_instants(&r.stop()));
    server.stop().await;

    let [first, second]: [Vec<f64>; 2] =
        [first, second].map(|room| room.iter().copied().map(seconds_of).collect());
    assert!(planned.len() >= 8, "{} strokes planned", planned.len());
    let in_first = offsets(&planned, &first);
    let in_second = offsets(&planned, &second);
    let apart = offsets(&first, &second);
    eprintln!(
        "snapcast: {} strokes planned, {} heard in {}, {} in {}; rooms apart: {}; \
         heard vs planned in {}: {}; in {}: {}",
        planned.len(),
        first.len(),
        ROOMS[0],
        second.len(),
        ROOMS[1],
        spread(&apart),
        ROOMS[0],
        spread(&in_first),
        ROOMS[1],
        spread(&in_second),
    );
    for (room, heard) in ROOMS.iter().zip([&first, &second]) {
        assert_eq!(
            heard.len(),
            planned.len(),
            "{room} heard {} strokes, {} were planned; logs: {}",
            heard.len(),
            planned.len(),
            logs(dir.path())
        );
    }
    // Generous bounds for a test on a busy machine; the bars (rooms ≤ 1 ms apart, heard at
    // the planned instant) are measured by scripts/bench-snapcast, in BENCHMARKS.md.
    assert!(
        apart.iter().all(|a| a.abs() < 5.0),
        "the rooms heard a stroke more than 5 ms apart: {apart:?}"
    );
    for (room, offsets) in ROOMS.iter().zip([&in_first, &in_second]) {
        assert!(
            offsets.iter().all(|o| o.abs() < 30.0),
            "{room} heard a stroke more than 30 ms from its planned instant: {offsets:?}"
        );
    }
}

/// Sends `signal` (`STOP`, `CONT`) to `process`.
fn signal(process: &Process, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(process.0.id().to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal}");
}

/// No rooms needed: what the server says while snapserver is missing, stopped, or gone
/// and back, and that the session keeps real time through it.
#[test]
fn a_missing_stopped_or_restarted_snapserver_is_an_outage_that_ends_by_itself() {
    block_on(outages());
}

async fn outages() {
    let dir = tempfile::tempdir().unwrap();
    let fifo: PathBuf = dir.path().join("snapfifo");
    let pipe = fifo.clone();
    let server = TestServer::start_with(move |c| {
        c.output = OutputSpec::Pipe {
            path: pipe,
            buffer: BUFFER,
        };
    })
    .await;
    // Started before snapserver: it waits for one, and says what to do.
    let (state, fault) = output(&server).await;
    assert_eq!(state, "degraded");
    assert!(fault.contains("start snapserver"), "{fault}");
    assert!(
        std::fs::metadata(&fifo).unwrap().file_type().is_fifo(),
        "the FIFO was made"
    );
    let mut events = server.events().await;
    events.until("status").await;
    let (snapserver_process, _) = snapserver(dir.path(), &fifo);
    eventually("snapserver to read the pipe", dir.path(), async || {
        (output(&server).await.0 == "pipe").then_some(())
    })
    .await;
    let up = events.until("output").await;
    assert_eq!(up["output"], "pipe", "{up}");
    let plan = json!({"name": "Outages", "segments": [{"title": "One", "duration": "60s"}]});
    let started = server
        .post("/v1/session", &json!({"plan": plan, "by": "test"}))
        .await;
    assert_eq!(started.status, 201, "{}", started.text);
    let began = Instant::now();

    // Stopped (SIGSTOP): it reads nothing, and the server says so within a second.
    signal(&snapserver_process, "STOP");
    let stopped = Instant::now();
    let (_, fault) = eventually("the stall to be reported", dir.path(), async || {
        let (state, fault) = output(&server).await;
        (state == "degraded").then_some(((), fault))
    })
    .await;
    assert!(
        stopped.elapsed() < Duration::from_secs(2),
        "{:?}",
        stopped.elapsed()
    );
    assert!(fault.contains("nothing has read"), "{fault}");
    let down = events.until("output").await;
    assert_eq!(down["output"], "degraded", "{down}");
    signal(&snapserver_process, "CONT");
    eventually("snapserver to read again", dir.path(), async || {
        (output(&server).await.0 == "pipe").then_some(())
    })
    .await;
    let back = events.until("output").await;
    assert_eq!(back["output"], "pipe", "{back}");
    assert!(
        back["detail"].as_str().unwrap().contains("again after"),
        "{back}"
    );

    // Gone, then a new snapserver: the pipe plays again within two seconds of its start.
    drop(snapserver_process);
    eventually("the loss to be reported", dir.path(), async || {
        (output(&server).await.0 == "degraded").then_some(())
    })
    .await;
    let (_again, _) = snapserver(dir.path(), &fifo);
    let restarted = Instant::now();
    eventually("the new snapserver to read", dir.path(), async || {
        (output(&server).await.0 == "pipe").then_some(())
    })
    .await;
    assert!(
        restarted.elapsed() < Duration::from_secs(2),
        "read again {:?} after snapserver started",
        restarted.elapsed()
    );
    // The session kept real time through it all.
    let wall = began.elapsed().as_secs_f64();
    let now = server.get("/v1/session").await.json;
    let elapsed = now["elapsed_seconds"].as_f64().unwrap();
    assert!(
        (elapsed - wall).abs() < 0.5,
        "{elapsed} s of session in {wall} s"
    );
    server.stop().await;
}
