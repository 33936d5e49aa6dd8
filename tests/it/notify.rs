//! Notifications (issue 10): session events reach configured webhooks through the outbox,
//! in order, signed, once — through a target that fails at first, and across a server
//! killed with -9. And `gongan hooks`, `gongan hooks test NAME` as a user runs them.
//!
//! The receiver is a real HTTP server on 127.0.0.1 inside the test, recording every
//! request it gets (and how it answered) into a channel the test awaits.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use gongan::config::{NotifyFormat, NotifyTarget, Secret};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc;

use crate::cli_support::{error_line, gongan_with as gongan, stdout};
use crate::http_support::{PATIENCE, TestServer};
use crate::serve_process::ServeProcess;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    /// The path's last part: which target it was for.
    target: String,
    headers: HeaderMap,
    body: String,
    /// The status it was answered with.
    answered: u16,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn event(&self) -> String {
        self.header("x-gongan-event").to_owned()
    }

    fn delivery(&self) -> u64 {
        self.header("x-gongan-delivery")
            .parse()
            .unwrap_or_else(|_| panic!("a numeric delivery id: {:?}", self.headers))
    }
}

#[derive(Clone)]
struct Script {
    /// Statuses to answer first, in order; then `then`.
    next: Arc<Mutex<VecDeque<u16>>>,
    then: Arc<Mutex<u16>>,
    seen: mpsc::UnboundedSender<Received>,
}

/// A webhook receiver on 127.0.0.1: `{url}/NAME` records requests for target NAME.
struct Receiver {
    base: String,
    script: Script,
    requests: mpsc::UnboundedReceiver<Received>,
}

impl Receiver {
    async fn start() -> Receiver {
        let (seen, requests) = mpsc::unbounded_channel();
        let script = Script {
            next: Arc::default(),
            then: Arc::new(Mutex::new(200)),
            seen,
        };
        let app = Router::new()
            .route("/{target}", post(record))
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            base,
            script,
            requests,
        }
    }

    /// Answers `statuses` to the next requests, then `then` to every one after.
    fn answer(&self, statuses: &[u16], then: u16) {
        *self.script.next.lock().unwrap() = statuses.iter().copied().collect();
        *self.script.then.lock().unwrap() = then;
    }

    fn url(&self, target: &str) -> String {
        format!("{}/{target}", self.base)
    }

    async fn next(&mut self) -> Received {
        tokio::time::timeout(PATIENCE, self.requests.recv())
            .await
            .expect("a request in time")
            .expect("the receiver runs")
    }

    /// The requests until `target` has been answered 200 for a `finished` event.
    async fn until_finished(&mut self, target: &str) -> Vec<Received> {
        let mut all = Vec::new();
        loop {
            let request = self.next().await;
            let done = request.target == target
                && request.answered == 200
                && request.event() == "finished";
            all.push(request);
            if done {
                return all;
            }
        }
    }
}

async fn record(
    State(script): State<Script>,
    Path(target): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let answered = script
        .next
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(*script.then.lock().unwrap());
    let _ = script.seen.send(Received {
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        answered,
    });
    StatusCode::from_u16(answered).unwrap()
}

fn target(name: &str, url: String, format: NotifyFormat, events: &[&str]) -> NotifyTarget {
    NotifyTarget {
        name: name.into(),
        url,
        format,
        secret: None,
        events: events.iter().map(|e| (*e).to_owned()).collect(),
    }
}

const ALL: [&str; 7] = [
    "started", "segment", "warning", "deadline", "overtime", "finished", "resumed",
];

fn verifies(secret: &str, body: &str, signature: &str) -> bool {
    let Some(hex) = signature.strip_prefix("sha256=") else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    mac.verify_slice(&hex::decode(hex).unwrap_or_default())
        .is_ok()
}

/// The requests for `target`, answered 200.
fn delivered<'a>(requests: &'a [Received], target: &str) -> Vec<&'a Received> {
    requests
        .iter()
        .filter(|r| r.target == target && r.answered == 200)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_reaches_chat_and_a_signed_webhook_in_order() {
    let mut receiver = Receiver::start().await;
    let chat = target("chat", receiver.url("chat"), NotifyFormat::Slack, &ALL[..6]);
    let mut ops = target("ops", receiver.url("ops"), NotifyFormat::Json, &ALL);
    ops.secret = Secret::new("s3cr3t-for-ops");
    let server = TestServer::start_with(|config| config.hooks.notify = vec![chat, ops]).await;

    let started = server
        .post(
            "/v1/session",
            &json!({
                "plan": {"name": "Game day <!channel>", "segments": [
                    {"title": "Gather", "duration": "1m", "warnings": ["30s"]},
                    {"title": "Investigate", "duration": "1m"}
                ]},
                "speed": 60,
                "by": "page"
            }),
        )
        .await;
    assert_eq!(started.status, 201, "{}", started.text);
    let session = started.json["id"].as_str().unwrap().to_owned();

    let mut requests = receiver.until_finished("chat").await;
    if !requests
        .iter()
        .any(|r| r.target == "ops" && r.event() == "finished")
    {
        requests.extend(receiver.until_finished("ops").await);
    }
    assert!(requests.iter().all(|r| r.answered == 200));
    let expected = [
        "started", "segment", "warning", "deadline", "segment", "deadline", "finished",
    ];
    for name in ["chat", "ops"] {
        let got = delivered(&requests, name);
        let events: Vec<String> = got.iter().map(|r| r.event()).collect();
        assert_eq!(events, expected, "{name}");
        let ids: Vec<u64> = got.iter().map(|r| r.delivery()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{name}: {ids:?}");
        for request in &got {
            assert_eq!(request.header("content-type"), "application/json");
            assert!(request.header("user-agent").starts_with("gongan/"));
        }
    }

    let chat = delivered(&requests, "chat");
    assert_eq!(
        chat[0].body,
        r#"{"text":"▶ \"Game day &lt;!channel&gt;\" started (by page)"}"#
    );
    assert_eq!(chat[1].body, r#"{"text":"Segment 1/2 \"Gather\" — 1s"}"#);
    assert_eq!(chat[2].body, r#"{"text":"⚠ 1 second left in \"Gather\""}"#);
    assert_eq!(chat[3].body, r#"{"text":"Deadline: \"Gather\""}"#);
    assert_eq!(
        chat[4].body,
        r#"{"text":"Segment 2/2 \"Investigate\" — 1s"}"#
    );
    let finished = chat[6].json()["text"].as_str().unwrap().to_owned();
    assert!(
        finished.starts_with("■ \"Game day &lt;!channel&gt;\" finished — 6s"),
        "{finished}"
    );
    assert!(
        chat.iter()
            .all(|r| r.header("x-gongan-signature").is_empty())
    );

    let ops = delivered(&requests, "ops");
    for request in &ops {
        assert!(
            verifies(
                "s3cr3t-for-ops",
                &request.body,
                request.header("x-gongan-signature")
            ),
            "{:?}",
            request.headers
        );
        assert!(!verifies(
            "another-secret",
            &request.body,
            request.header("x-gongan-signature")
        ));
        let body = request.json();
        assert_eq!(body["event"], request.event());
        assert_eq!(body["session"], session.as_str());
        assert_eq!(body["plan"], "Game day <!channel>");
        assert!(body["at"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(ops[0].json()["by"], "page");
    assert_eq!(ops[0].json()["segments"], 2);
    assert_eq!(ops[4].json()["title"], "Investigate");
    assert_eq!(ops[4].json()["segment"], 2);
    assert_eq!(ops[6].json()["ending"], "completed");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_fails_at_first_gets_every_message_in_order_once() {
    let mut receiver = Receiver::start().await;
    // Down (503), busy (429), then fine.
    receiver.answer(&[503, 429, 503], 200);
    let ops = target(
        "ops",
        receiver.url("ops"),
        NotifyFormat::Json,
        &["started", "segment", "finished"],
    );
    let server = TestServer::start_with(|config| config.hooks.notify = vec![ops]).await;
    let started = server
        .post(
            "/v1/session",
            &json!({"plan": {"name": "Drill", "segments": [
                {"title": "Go", "duration": "30s"}
            ]}, "speed": 60}),
        )
        .await;
    assert_eq!(started.status, 201, "{}", started.text);

    let requests = receiver.until_finished("ops").await;
    let answered: Vec<u16> = requests.iter().map(|r| r.answered).collect();
    assert_eq!(&answered[..3], [503, 429, 503]);
    // The first message was retried until taken; nothing overtook it.
    let first = requests[0].delivery();
    assert!(
        requests[..4].iter().all(|r| r.delivery() == first),
        "{answered:?}"
    );
    assert!(requests[..4].iter().all(|r| r.body == requests[0].body));
    let got = delivered(&requests, "ops");
    let events: Vec<String> = got.iter().map(|r| r.event()).collect();
    assert_eq!(events, ["started", "segment", "finished"]);
    let mut ids: Vec<u64> = got.iter().map(|r| r.delivery()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order: {ids:?}");
    ids.dedup();
    assert_eq!(ids.len(), 3, "each delivered once");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_waiting_for_a_target_survive_a_kill_9() {
    let mut receiver = Receiver::start().await;
    receiver.answer(&[], 503);
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("gongan.toml");
    std::fs::write(
        &config,
        format!(
            "[[notify]]\nname = \"ops\"\nurl = \"{}\"\nformat = \"json\"\nsecret = \"kept\"\n\
             events = {:?}\n",
            receiver.url("ops"),
            ALL
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let first = ServeProcess::start(&data.path().join("data"), &["--config", config]).await;
    first
        .call(
            hyper::Method::POST,
            "/v1/session",
            Some(&json!({"plan": {"name": "Drill", "segments": [
                {"title": "Hold", "duration": "8m"}
            ]}, "speed": 60, "by": "page"})),
        )
        .await;
    // The target is down: the `started` message is in the outbox, being retried.
    let refused = receiver.next().await;
    assert_eq!(
        (refused.event().as_str(), refused.answered),
        ("started", 503)
    );
    first.kill9();

    receiver.answer(&[], 200);
    let second = ServeProcess::start(&data.path().join("data"), &["--config", config]).await;
    let requests = receiver.until_finished("ops").await;
    let got = delivered(&requests, "ops");
    assert_eq!(got[0].event(), "started");
    assert_eq!(got[0].delivery(), refused.delivery(), "the same message");
    assert_eq!(got[0].body, refused.body);
    assert!(verifies(
        "kept",
        &got[0].body,
        got[0].header("x-gongan-signature")
    ));
    let events: Vec<String> = got.iter().map(|r| r.event()).collect();
    let resumed = events.iter().position(|e| e == "resumed").expect("resumed");
    assert_eq!(got[resumed].json()["by"], "server");
    assert_eq!(events.last().unwrap(), "finished");
    let mut ids: Vec<u64> = got.iter().map(|r| r.delivery()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order: {ids:?}");
    ids.dedup();
    assert_eq!(ids.len(), got.len(), "each delivered once");
    second.kill9();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gongan_hooks_prints_the_setup_and_tests_a_target() {
    let mut receiver = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gongan.toml");
    std::fs::write(
        &config,
        format!(
            "[hooks]\ngithub_secret = \"gh-secret-value\"\n\n\
             [[notify]]\nname = \"chat\"\nurl = \"{}\"\nformat = \"mattermost\"\n\n\
             [[notify]]\nname = \"ops\"\nurl = \"{}\"\nformat = \"json\"\nsecret = \"ops-secret\"\n",
            receiver.url("chat"),
            receiver.url("ops"),
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();

    let listing = stdout(
        &gongan(
            &[
                "hooks",
                "--config",
                config,
                "--server",
                "https://gong.example.org/",
            ],
            &[("GONGAN_HOOK_TOKEN", "bearer-token-value")],
        )
        .await,
    );
    for source in [
        "slack",
        "mattermost",
        "alertmanager",
        "grafana",
        "pagerduty",
        "github",
    ] {
        assert!(
            listing.contains(&format!("https://gong.example.org/hooks/{source} ")),
            "{source}: {listing}"
        );
    }
    let line = |name: &str| {
        listing
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name}: {listing}"))
            .to_owned()
    };
    assert!(line("alertmanager").ends_with("configured (GONGAN_HOOK_TOKEN)"));
    assert!(line("grafana").ends_with("configured (GONGAN_HOOK_TOKEN)"));
    assert!(line("github").ends_with("configured (config file)"));
    assert!(line("slack").contains("not configured: set GONGAN_SLACK_SIGNING_SECRET"));
    for snippet in [
        "webhook_configs:",
        "credentials: <the value of GONGAN_HOOK_TOKEN>",
        "Content type:  application/json",
        "X-Grafana-Alerting-Signature",
        "incident.triggered",
        "Command Trigger Word",
    ] {
        assert!(listing.contains(snippet), "{snippet}: {listing}");
    }
    assert!(line("chat").contains("mattermost"), "{listing}");
    assert!(line("ops").contains("json, signed"), "{listing}");
    for secret in ["gh-secret-value", "bearer-token-value", "ops-secret"] {
        assert!(!listing.contains(secret), "{secret} printed");
    }

    let sent = stdout(&gongan(&["hooks", "test", "ops", "--config", config], &[]).await);
    assert!(
        sent.starts_with("ops: sample 'started' delivered to http://127.0.0.1:"),
        "{sent}"
    );
    let sample = receiver.next().await;
    assert_eq!(
        (sample.target.as_str(), sample.event().as_str()),
        ("ops", "started")
    );
    assert!(sample.header("x-gongan-delivery").starts_with("test-"));
    assert!(verifies(
        "ops-secret",
        &sample.body,
        sample.header("x-gongan-signature")
    ));
    assert_eq!(sample.json()["event"], "started");

    receiver.answer(&[404], 200);
    let refused = error_line(
        &gongan(
            &[
                "hooks", "test", "chat", "--event", "finished", "--config", config,
            ],
            &[],
        )
        .await,
    );
    assert!(
        refused.contains("refused the sample: HTTP 404"),
        "{refused}"
    );
    let sample = receiver.next().await;
    assert_eq!(sample.json()["username"], "gongan");
    assert!(sample.json()["text"].as_str().unwrap().starts_with("■ "));

    let unknown = error_line(&gongan(&["hooks", "test", "nope", "--config", config], &[]).await);
    assert_eq!(
        unknown,
        "gongan: no notification target 'nope'; the targets are: chat, ops"
    );
    let none = error_line(&gongan(&["hooks", "test", "chat"], &[]).await);
    assert!(
        none.contains("no [[notify]] targets are configured"),
        "{none}"
    );
}
