//! `gongan cue`, `gongan session` and `gongan serve` as a user runs them (issue 4).

use std::process::Command;

use crate::cli_support::{error_line, gongan, stdout};
use crate::http_support::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cue_and_session_commands_drive_a_running_server() {
    let server = TestServer::start().await;
    let url = server.base.as_str();

    let cue = stdout(&gongan(&["cue", "gong", "--server", url]).await);
    assert!(cue.starts_with("cue 1: gong at frame "), "{cue}");
    let again = stdout(&gongan(&["cue", "gong", "--server", url]).await);
    assert!(again.contains("joined an identical cue"), "{again}");
    let json = stdout(
        &gongan(&[
            "cue",
            "kenong",
            "--variant",
            "2",
            "--gain-db",
            "-6",
            "--server",
            url,
            "--json",
        ])
        .await,
    );
    let answer: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(answer["coalesced"], false);

    let line = error_line(&gongan(&["cue", "airhorn", "--server", url]).await);
    assert!(line.contains("422") && line.contains("airhorn"), "{line}");
    let line = error_line(&gongan(&["cue", "gong", "--quantize", "gong", "--server", url]).await);
    assert!(line.contains("no session"), "{line}");

    let mut events = server.events().await;
    let start = stdout(
        &gongan(&[
            "session",
            "start",
            "chaos-game-day",
            "--speed",
            "2",
            "--server",
            url,
        ])
        .await,
    );
    assert!(
        start.starts_with("Chaos game day: buka, segment 1/7"),
        "{start}"
    );
    let status = stdout(&gongan(&["session", "status", "--server", url]).await);
    assert!(status.contains("segment 1/"), "{status}");
    let line = error_line(&gongan(&["session", "start", "chaos-game-day", "--server", url]).await);
    assert!(
        line.contains("409") && line.contains("already running"),
        "{line}"
    );
    // Steering during the opening phrase is taken: it lands with the phrase.
    stdout(&gongan(&["session", "extend", "5m", "--server", url]).await);
    let next = stdout(&gongan(&["session", "next", "--server", url]).await);
    assert!(next.starts_with("Chaos game day: "), "{next}");
    // The second segment starts as the phrase lands (the first may be announced, with
    // no time of its own, just before it).
    while events.until("segment_started").await["segment"] != 1 {}
    // Time left and less of it, in plan time (the snapshot counts at the session's speed).
    let remaining = |json: String| -> f64 {
        let snapshot: serde_json::Value = serde_json::from_str(&json).unwrap();
        snapshot["remaining_seconds"].as_f64().unwrap()
    };
    let set = remaining(stdout(
        &gongan(&["session", "time-left", "2m", "--server", url, "--json"]).await,
    ));
    assert!(
        (50.0..=120.5).contains(&set),
        "time left after `time-left 2m`: {set}"
    );
    let shortened = remaining(stdout(
        &gongan(&["session", "shorten", "60", "--server", url, "--json"]).await,
    ));
    assert!(
        shortened > 0.0 && shortened < set - 20.0,
        "time left after `shorten 60`: {shortened} (was {set})"
    );
    let line = error_line(&gongan(&["session", "jump", "0", "--server", url]).await);
    assert!(line.contains("from 1"), "{line}");
    let line = error_line(&gongan(&["session", "jump", "99", "--server", url]).await);
    assert!(line.contains("422"), "{line}");
    let jumped = stdout(&gongan(&["session", "jump", "1", "--server", url]).await);
    assert!(jumped.contains("segment 1/7"), "{jumped}");
    stdout(&gongan(&["session", "stop", "--server", url]).await);
    events.until("finished").await;
    let line = error_line(&gongan(&["session", "extend", "soon", "--server", url]).await);
    assert!(line.contains("soon"), "{line}");

    // A plan file.
    let file = server.data.path().join("drill.toml");
    std::fs::write(
        &file,
        "name = \"Drill\"\n[[segments]]\ntitle = \"Go\"\nduration = \"1m\"\n",
    )
    .unwrap();
    let drill =
        stdout(&gongan(&["session", "start", file.to_str().unwrap(), "--server", url]).await);
    assert!(drill.starts_with("Drill: "), "{drill}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_are_one_clear_line() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = format!("http://127.0.0.1:{port}");
    let line = error_line(&gongan(&["cue", "gong", "--server", &server]).await);
    assert!(line.contains("cannot reach the gongan server"), "{line}");
    let line = error_line(&gongan(&["session", "status", "--server", "gong-box:7070"]).await);
    assert!(line.contains("not a server URL"), "{line}");

    let token_server = TestServer::start_with(|c| {
        c.token = Some(gongan::config::Token::parse("0123456789abcdef-cli").unwrap());
    })
    .await;
    let url = token_server.base.as_str();
    let line = error_line(&gongan(&["cue", "gong", "--server", url]).await);
    assert!(line.contains("401"), "{line}");
    stdout(
        &gongan(&[
            "cue",
            "gong",
            "--server",
            url,
            "--token",
            "0123456789abcdef-cli",
        ])
        .await,
    );
    token_server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_a_public_bind_without_a_token() {
    let line = error_line(&gongan(&["serve", "--bind", "0.0.0.0:0", "--output", "null"]).await);
    assert!(
        line.contains("refusing to listen on 0.0.0.0:0 without a token"),
        "{line}"
    );
    let line = error_line(&gongan(&["serve", "--output", "wav:x.wav"]).await);
    assert!(line.contains("real time"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_a_pipe_it_cannot_use_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = format!("pipe:{}?buffer=soon", dir.path().join("fifo").display());
    let line = error_line(&gongan(&["serve", "--bind", "127.0.0.1:0", "--output", &bad]).await);
    assert!(line.contains("bad buffer"), "{line}");
    assert!(!dir.path().join("fifo").exists(), "nothing made");
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "keep me").unwrap();
    let taken = format!("pipe:{}", notes.display());
    let data = dir.path().join("data");
    let line = error_line(
        &gongan(&[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--output",
            &taken,
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .await,
    );
    assert!(line.contains("is not a FIFO"), "{line}");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "keep me");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_shows_an_example() {
    for command in [
        &["serve", "--help"][..],
        &["cue", "--help"],
        &["session", "--help"],
        &["session", "start", "--help"],
        &["session", "extend", "--help"],
        &["session", "shorten", "--help"],
        &["session", "time-left", "--help"],
        &["session", "jump", "--help"],
        &["session", "status", "--help"],
    ] {
        let help = stdout(&gongan(command).await);
        assert!(help.contains("Example"), "{command:?}: {help}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stops_cleanly_on_sigterm_closing_event_streams() {
    use std::io::BufRead;
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
        .env("RUST_LOG", "gongan=info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Ready when it says where it listens.
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(stderr).lines();
    let ready = tokio::task::spawn_blocking(move || {
        let line = lines
            .by_ref()
            .map_while(Result::ok)
            .find(|l| l.contains("listening on"));
        (line, lines)
    });
    let (line, _rest) = ready.await.unwrap();
    assert!(line.unwrap().contains(&format!("http://127.0.0.1:{port}/")));

    let client = gongan::client::Client::new(&format!("http://127.0.0.1:{port}"), None).unwrap();
    let health = client
        .call(hyper::Method::GET, "/healthz", None)
        .await
        .unwrap();
    assert_eq!(health["output"], "null");
    let mut request = hyper::Request::get(format!("http://127.0.0.1:{port}/v1/events"));
    request = request.header("host", format!("127.0.0.1:{port}"));
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let response = sender
        .send_request(
            request
                .body(http_body_util::Empty::<hyper::body::Bytes>::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    // The event stream ends (the body completes) and the server exits 0.
    let body = tokio::time::timeout(
        crate::http_support::PATIENCE,
        http_body_util::BodyExt::collect(response.into_body()),
    )
    .await
    .expect("the stream ends on shutdown");
    assert!(body.is_ok());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status}");
}
