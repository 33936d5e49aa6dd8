//! `POST /hooks/alertmanager`, `/hooks/grafana`, `/hooks/pagerduty`, `/hooks/github`
//! (issue 10): each tool's own webhook drives gongan with no glue. The payloads are the
//! tools' documented ones, under `tests/fixtures/hooks/`:
//!
//! - `alertmanager-firing.json`: a captured Alertmanager v4 notification (published with
//!   the `alertmanager-webhook-types` crate), the fields of Prometheus' `webhook_config`
//!   documentation; `-resolved` is the same group resolved.
//! - `grafana-firing.json`: the example body of Grafana's "Configure the webhook notifier"
//!   page; `-resolved` is the same group resolved.
//! - `pagerduty-incident-priority-updated.json`: the example of PagerDuty's "Webhooks v3
//!   overview"; `-triggered`, `-acknowledged` and `-resolved` are the same incident with
//!   those event types.
//! - `github-*.json`: GitHub's example payloads (octokit/webhooks `payload-examples`):
//!   `workflow_run` completed and requested, `ping`; `-failure` is the completed run with
//!   the conclusion `failure`.
//!
//! Each is signed (or carries the token) as its tool does; what a tool did not send
//! changes nothing, a retried delivery plays once, and the config file's rules come before
//! the defaults.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use gongan::config::hooks::RawRule;
use gongan::config::{Config, Hooks, RawHooks, Secret};
use hmac::{Hmac, Mac};
use hyper::Method;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::http_support::{Events, Reply, TestServer};

/// A request's headers: names and values.
type Headers = Vec<(&'static str, String)>;

const HOOK_TOKEN: &str = "alerts-bearer-token";
const GRAFANA_SECRET: &str = "grafana-hmac-secret";
const PAGERDUTY_SECRET: &str = "pagerduty-subscription-secret";
const GITHUB_SECRET: &str = "github-hook-secret";

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

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn bearer() -> (&'static str, String) {
    ("authorization", format!("Bearer {HOOK_TOKEN}"))
}

fn basic(user: &str, password: &str) -> (&'static str, String) {
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    ("authorization", format!("Basic {credentials}"))
}

/// Grafana's HMAC headers for `body`, signed at `timestamp`.
fn grafana_signed(body: &str, timestamp: u64) -> Headers {
    let timestamp = timestamp.to_string();
    vec![
        (
            "x-grafana-alerting-signature",
            hmac_hex(
                GRAFANA_SECRET,
                &[timestamp.as_bytes(), b":", body.as_bytes()],
            ),
        ),
        ("x-grafana-alerting-signature-timestamp", timestamp),
    ]
}

/// PagerDuty's headers for `body`: an old secret's signature first, as during a rotation.
fn pagerduty_signed(body: &str, webhook_id: &str) -> Headers {
    vec![
        (
            "x-pagerduty-signature",
            format!(
                "v1={},v1={}",
                hmac_hex("a-rotated-out-secret", &[body.as_bytes()]),
                hmac_hex(PAGERDUTY_SECRET, &[body.as_bytes()])
            ),
        ),
        ("x-webhook-id", webhook_id.to_owned()),
    ]
}

/// GitHub's headers for `body` of `event`.
fn github_signed(body: &str, event: &str, delivery: &str) -> Headers {
    vec![
        (
            "x-hub-signature-256",
            format!("sha256={}", hmac_hex(GITHUB_SECRET, &[body.as_bytes()])),
        ),
        ("x-github-event", event.to_owned()),
        ("x-github-delivery", delivery.to_owned()),
        ("content-type", "application/json".to_owned()),
    ]
}

fn configure(config: &mut Config, rules: Vec<RawRule>) {
    let raw = RawHooks {
        token: Some(HOOK_TOKEN.into()),
        grafana_hmac_secret: Some(GRAFANA_SECRET.into()),
        pagerduty_secret: Some(PAGERDUTY_SECRET.into()),
        github_secret: Some(GITHUB_SECRET.into()),
        rules,
        ..RawHooks::default()
    };
    config.hooks = Hooks::validate(raw, Vec::new()).unwrap();
}

/// A server with every alert receiver configured, whose identical cues coalesce only when
/// planned for the same instant: a cue asked for once the last one sounded is a stroke of
/// its own.
async fn server_with_hooks(rules: Vec<RawRule>) -> TestServer {
    server_with_hooks_in(tempfile::tempdir().unwrap(), rules).await
}

/// [`server_with_hooks`] on the data folder `data`.
async fn server_with_hooks_in(data: tempfile::TempDir, rules: Vec<RawRule>) -> TestServer {
    TestServer::start_in(data, |config| {
        configure(config, rules);
        config.coalesce_window = Duration::ZERO;
    })
    .await
}

fn rule(source: &str, matches: &[(&str, &str)], action: &str) -> RawRule {
    RawRule {
        source: source.into(),
        matches: matches
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        action: action.into(),
    }
}

async fn post(server: &TestServer, path: &str, headers: &[(&str, String)], body: &str) -> Reply {
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    server
        .send(Method::POST, path, &headers, body.to_owned())
        .await
}

/// Asserts a 200 that carried out `command` as `actor`, and returns the cue's id.
#[track_caller]
fn cued(reply: &Reply, command: &str, actor: &str) -> u64 {
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["command"], command, "{}", reply.text);
    assert_eq!(reply.json["actor"], actor, "{}", reply.text);
    assert!(reply.json["done"].is_string(), "{}", reply.text);
    assert_eq!(reply.json["cue"]["coalesced"], false, "{}", reply.text);
    reply.json["cue"]["id"].as_u64().unwrap()
}

/// Waits for the cue `id` to sound, and returns its event.
async fn sounded(events: &mut Events, id: u64) -> Value {
    loop {
        let played = events.until("cue_played").await;
        if played["id"] == id {
            return played;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_tools_documented_payload_strikes_its_default_cue_as_its_actor() {
    let server = server_with_hooks(Vec::new()).await;
    let mut events = server.events().await;
    // A running session journals every cue with its actor.
    let session = server
        .post(
            "/v1/session",
            &json!({"plan": {"name": "Game day", "segments": [
                {"title": "Detect", "duration": "10m", "form": "lancaran", "density": "sparse"}]},
                "by": "facilitator"}),
        )
        .await;
    assert_eq!(session.status, 201, "{}", session.text);
    let am = "alertmanager:ProbeFailure";
    let grafana = "grafana:[FIRING:2] (blue)";
    let pd = "pagerduty:A little bump in the road";
    let gh = "github:octo-org/octo-repo";
    let firing = fixture("alertmanager-firing.json");
    let resolved = fixture("alertmanager-resolved.json");
    let grafana_firing = fixture("grafana-firing.json");
    let grafana_resolved = fixture("grafana-resolved.json");
    let success = fixture("github-workflow-run-success.json");
    let failure = fixture("github-workflow-run-failure.json");
    let deliveries: Vec<(&str, Headers, String, &str, &str)> = vec![
        ("/hooks/alertmanager", vec![bearer()], firing, "gong", am),
        (
            "/hooks/alertmanager",
            vec![basic("alertmanager", HOOK_TOKEN)],
            resolved,
            "kenong",
            am,
        ),
        (
            "/hooks/grafana",
            grafana_signed(&grafana_firing, unix_now()),
            grafana_firing.clone(),
            "gong",
            grafana,
        ),
        (
            "/hooks/grafana",
            vec![bearer()],
            grafana_resolved,
            "kenong",
            "grafana:[RESOLVED] (blue)",
        ),
        (
            "/hooks/github",
            github_signed(&success, "workflow_run", "delivery-success"),
            success,
            "kenong",
            gh,
        ),
        (
            "/hooks/github",
            github_signed(&failure, "workflow_run", "delivery-failure"),
            failure,
            "gong",
            gh,
        ),
    ];
    let mut expected = Vec::new();
    for (path, headers, body, command, actor) in deliveries {
        let reply = post(&server, path, &headers, &body).await;
        let id = cued(&reply, command, actor);
        assert_eq!(reply.json["rule"], "default");
        assert_eq!(sounded(&mut events, id).await["instrument"], command);
        expected.push((actor.to_owned(), format!("cue {command}")));
    }
    for (event, command) in [
        ("triggered", "gong"),
        ("acknowledged", "kenong"),
        ("resolved", "suwukan"),
    ] {
        let body = fixture(&format!("pagerduty-incident-{event}.json"));
        let headers = pagerduty_signed(&body, &format!("webhook-{event}"));
        let reply = post(&server, "/hooks/pagerduty", &headers, &body).await;
        assert_eq!(reply.json["event"], format!("incident.{event}"));
        let id = cued(&reply, command, pd);
        assert_eq!(sounded(&mut events, id).await["instrument"], command);
        expected.push((pd.to_owned(), format!("cue {command}")));
    }

    // The journal has each cue with its actor, in order.
    let id = session.json["id"].as_str().unwrap();
    let debrief = server.get(&format!("/v1/history/{id}")).await;
    let cues: Vec<(String, String)> = debrief.json["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|line| line["action"] == "cue")
        .map(|line| {
            let detail = line["detail"].as_str().unwrap();
            // `cue gong` (and `in 0.1 s` when it was scheduled ahead).
            let what = detail.split(" in ").next().unwrap().to_owned();
            (line["actor"].as_str().unwrap().to_owned(), what)
        })
        .collect();
    assert_eq!(cues, expected, "{}", debrief.text);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_maps_to_nothing_is_answered_and_plays_nothing() {
    let server = server_with_hooks(Vec::new()).await;
    let before = server.next_cue_id(1).await;
    let priority = fixture("pagerduty-incident-priority-updated.json");
    let reply = post(
        &server,
        "/hooks/pagerduty",
        &pagerduty_signed(&priority, "webhook-priority"),
        &priority,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["ignored"], true);
    assert_eq!(reply.json["event"], "incident.priority_updated");
    let why = reply.json["why"].as_str().unwrap();
    assert!(why.contains("incident.priority_updated"), "{why}");
    assert!(why.contains("no rule matches"), "{why}");

    let requested = fixture("github-workflow-run-requested.json");
    let reply = post(
        &server,
        "/hooks/github",
        &github_signed(&requested, "workflow_run", "delivery-requested"),
        &requested,
    )
    .await;
    assert_eq!(reply.json["ignored"], true, "{}", reply.text);
    assert!(
        reply.json["why"]
            .as_str()
            .unwrap()
            .contains("workflow_run requested")
    );

    // GitHub's ping, sent when the hook is created: answered, nothing played.
    let ping = fixture("github-ping.json");
    let reply = post(
        &server,
        "/hooks/github",
        &github_signed(&ping, "ping", "delivery-ping"),
        &ping,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["pong"], true);
    assert_eq!(reply.json["hook_id"], 109_948_940);
    assert_eq!(server.next_cue_id(2).await, before + 1, "nothing was cued");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_github_form_encoded_delivery_works_like_json() {
    let server = server_with_hooks(Vec::new()).await;
    let failure = fixture("github-workflow-run-failure.json");
    let form = serde_urlencoded::to_string([("payload", failure.as_str())]).unwrap();
    let mut headers = github_signed(&form, "workflow_run", "delivery-form");
    headers.retain(|(name, _)| *name != "content-type");
    headers.push((
        "content-type",
        "application/x-www-form-urlencoded".to_owned(),
    ));
    let reply = post(&server, "/hooks/github", &headers, &form).await;
    cued(&reply, "gong", "github:octo-org/octo-repo");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_the_tool_did_not_send_is_refused_and_plays_nothing() {
    let server = server_with_hooks(Vec::new()).await;
    let before = server.next_cue_id(1).await;
    let firing = fixture("alertmanager-firing.json");
    let grafana = fixture("grafana-firing.json");
    let incident = fixture("pagerduty-incident-triggered.json");
    let run = fixture("github-workflow-run-failure.json");
    let now = unix_now();
    let stale = grafana_signed(&grafana, now - 301);
    let future = grafana_signed(&grafana, now + 600);
    let wrong_github = vec![
        (
            "x-hub-signature-256",
            format!("sha256={}", hmac_hex("not-the-secret", &[run.as_bytes()])),
        ),
        ("x-github-event", "workflow_run".to_owned()),
    ];
    let unsigned_grafana = grafana_signed(&grafana, now)
        .into_iter()
        .map(|(name, value)| {
            if name == "x-grafana-alerting-signature" {
                (name, hmac_hex(GRAFANA_SECRET, &[grafana.as_bytes()]))
            } else {
                (name, value)
            }
        })
        .collect::<Vec<_>>();
    let tampered = incident.replace("A little bump", "A large bump");
    let cases: Vec<(&str, Headers, String, u16, &str)> = vec![
        (
            "/hooks/alertmanager",
            vec![],
            firing.clone(),
            401,
            "bad-signature",
        ),
        (
            "/hooks/alertmanager",
            vec![("authorization", "Bearer guess".into())],
            firing.clone(),
            401,
            "bad-signature",
        ),
        (
            "/hooks/alertmanager",
            vec![basic(HOOK_TOKEN, "guess")],
            firing.clone(),
            401,
            "bad-signature",
        ),
        (
            "/hooks/grafana",
            vec![],
            grafana.clone(),
            401,
            "bad-signature",
        ),
        (
            "/hooks/grafana",
            unsigned_grafana,
            grafana.clone(),
            401,
            "bad-signature",
        ),
        (
            "/hooks/grafana",
            stale,
            grafana.clone(),
            401,
            "stale-delivery",
        ),
        (
            "/hooks/grafana",
            future,
            grafana.clone(),
            401,
            "stale-delivery",
        ),
        (
            "/hooks/pagerduty",
            vec![],
            incident.clone(),
            401,
            "bad-signature",
        ),
        (
            "/hooks/pagerduty",
            pagerduty_signed(&incident, "w1"),
            tampered,
            401,
            "bad-signature",
        ),
        (
            "/hooks/github",
            wrong_github,
            run.clone(),
            401,
            "bad-signature",
        ),
        (
            "/hooks/github",
            vec![("x-github-event", "workflow_run".into())],
            run.clone(),
            401,
            "bad-signature",
        ),
    ];
    for (path, headers, body, status, slug) in cases {
        let reply = post(&server, path, &headers, &body).await;
        let detail = reply.problem(status);
        assert_eq!(
            reply.json["type"],
            format!("urn:gongan:problem:{slug}"),
            "{path}: {detail}"
        );
    }

    // Authentic, but not the tool's format.
    let v3 = firing.replace("\"version\": \"4\"", "\"version\": \"3\"");
    let not_json = "{\"version\": \"4\", ";
    let mut no_event = github_signed(&run, "workflow_run", "d");
    no_event.retain(|(name, _)| *name != "x-github-event");
    let cases: Vec<(&str, Headers, &str, &str)> = vec![
        ("/hooks/alertmanager", vec![bearer()], &v3, "version \"3\""),
        (
            "/hooks/alertmanager",
            vec![bearer()],
            not_json,
            "Alertmanager",
        ),
        (
            "/hooks/alertmanager",
            vec![bearer()],
            &grafana,
            "version \"1\"",
        ),
        ("/hooks/grafana", vec![bearer()], "{}", "Grafana"),
        (
            "/hooks/pagerduty",
            pagerduty_signed("{\"messages\": []}", "w2"),
            "{\"messages\": []}",
            "PagerDuty",
        ),
        ("/hooks/github", no_event, &run, "X-GitHub-Event"),
    ];
    for (path, headers, body, says) in cases {
        let reply = post(&server, path, &headers, body).await;
        let detail = reply.problem(400);
        assert_eq!(reply.json["type"], "urn:gongan:problem:unknown-delivery");
        assert!(detail.contains(says), "{path}: {detail}");
    }
    assert_eq!(server.next_cue_id(2).await, before + 1, "nothing was cued");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_without_its_secret_is_not_there() {
    let server = TestServer::start_with(|config| {
        // Only PagerDuty: the others have nothing to check a delivery with.
        config.hooks.pagerduty_secret = Secret::new(PAGERDUTY_SECRET);
    })
    .await;
    let firing = fixture("alertmanager-firing.json");
    for path in ["/hooks/alertmanager", "/hooks/grafana", "/hooks/github"] {
        let reply = post(&server, path, &[bearer()], &firing).await;
        let detail = reply.problem(404);
        assert!(detail.contains("not configured"), "{detail}");
    }
    let incident = fixture("pagerduty-incident-triggered.json");
    let reply = post(
        &server,
        "/hooks/pagerduty",
        &pagerduty_signed(&incident, "w"),
        &incident,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_delivery_plays_once_but_news_in_the_same_group_plays() {
    let server = server_with_hooks(Vec::new()).await;
    let mut events = server.events().await;
    let before = server.next_cue_id(1).await;
    let success = fixture("github-workflow-run-success.json");
    let headers = github_signed(&success, "workflow_run", "72d3162e-cc78-11e3-81ab");
    cued(
        &post(&server, "/hooks/github", &headers, &success).await,
        "kenong",
        "github:octo-org/octo-repo",
    );
    let again = post(&server, "/hooks/github", &headers, &success).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json["duplicate"], true);
    assert!(again.json.get("cue").is_none());

    let incident = fixture("pagerduty-incident-triggered.json");
    let headers = pagerduty_signed(&incident, "webhook-1");
    let gong = cued(
        &post(&server, "/hooks/pagerduty", &headers, &incident).await,
        "gong",
        "pagerduty:A little bump in the road",
    );
    sounded(&mut events, gong).await;
    let again = post(&server, "/hooks/pagerduty", &headers, &incident).await;
    assert_eq!(again.json["duplicate"], true, "{}", again.text);

    // Alertmanager: the same notification again (a retry, an HA peer) is a duplicate, even
    // with its alerts in another order and more whitespace.
    let firing = fixture("alertmanager-firing.json");
    let gong = cued(
        &post(&server, "/hooks/alertmanager", &[bearer()], &firing).await,
        "gong",
        "alertmanager:ProbeFailure",
    );
    sounded(&mut events, gong).await;
    let mut copy: Value = serde_json::from_str(&firing).unwrap();
    let reply = post(
        &server,
        "/hooks/alertmanager",
        &[bearer()],
        &serde_json::to_string_pretty(&copy).unwrap(),
    )
    .await;
    assert_eq!(reply.json["duplicate"], true, "{}", reply.text);
    assert_eq!(
        server.next_cue_id(2).await,
        before + 4,
        "three cues and the probe: no duplicate played"
    );
    // A second alert joins the group: same groupKey, same status, but news.
    let mut second = copy["alerts"][0].clone();
    second["fingerprint"] = "2b41cb82ddb3a32f".into();
    second["labels"]["instance"] = "https://other.example.org".into();
    copy["alerts"].as_array_mut().unwrap().push(second);
    let reply = post(
        &server,
        "/hooks/alertmanager",
        &[bearer()],
        &copy.to_string(),
    )
    .await;
    assert_eq!(
        cued(&reply, "gong", "alertmanager:ProbeFailure"),
        before + 5
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_retried_after_a_restart_plays_nothing_again() {
    let server = server_with_hooks(Vec::new()).await;
    let success = fixture("github-workflow-run-success.json");
    let taken = github_signed(&success, "workflow_run", "9a1c7e52-cc78-11e3-8d2e");
    cued(
        &post(&server, "/hooks/github", &taken, &success).await,
        "kenong",
        "github:octo-org/octo-repo",
    );
    let data = server.stop_keeping_data().await;

    // The same data dir: what the last run took is still known, what it did not is news.
    let server = server_with_hooks_in(data, Vec::new()).await;
    let before = server.next_cue_id(1).await;
    let again = post(&server, "/hooks/github", &taken, &success).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json["duplicate"], true, "{}", again.text);
    assert!(again.json.get("cue").is_none(), "{}", again.text);
    assert_eq!(
        server.next_cue_id(2).await,
        before + 1,
        "the retry cued nothing"
    );
    let other = github_signed(&success, "workflow_run", "9a1c7e52-cc78-11e3-ffff");
    let news = post(&server, "/hooks/github", &other, &success).await;
    assert_eq!(
        cued(&news, "kenong", "github:octo-org/octo-repo"),
        before + 2
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_in_the_config_file_come_before_the_defaults() {
    let server = server_with_hooks(vec![
        rule(
            "alertmanager",
            &[("commonLabels.severity", "critical"), ("$event", "firing")],
            "kenong 2",
        ),
        rule(
            "github",
            &[("workflow_run.conclusion", "failure")],
            "ignore",
        ),
        rule(
            "pagerduty",
            &[
                ("$event", "incident.triggered"),
                ("event.data.urgency", "high"),
            ],
            "next",
        ),
    ])
    .await;
    let mut events = server.events().await;

    // severity=critical firing: the rule's `kenong 2`, not the default gong.
    let firing = fixture("alertmanager-firing.json");
    let reply = post(&server, "/hooks/alertmanager", &[bearer()], &firing).await;
    let id = cued(&reply, "kenong 2", "alertmanager:ProbeFailure");
    assert_eq!(reply.json["rule"], "rule 1");
    let played = sounded(&mut events, id).await;
    assert_eq!(
        (&played["instrument"], &played["variant"]),
        (&json!("kenong"), &json!(2))
    );
    // Resolved matches no rule: the default.
    let resolved = fixture("alertmanager-resolved.json");
    let reply = post(&server, "/hooks/alertmanager", &[bearer()], &resolved).await;
    cued(&reply, "kenong", "alertmanager:ProbeFailure");
    assert_eq!(reply.json["rule"], "default");

    // An `ignore` rule silences the default gong of a failed run.
    let failure = fixture("github-workflow-run-failure.json");
    let reply = post(
        &server,
        "/hooks/github",
        &github_signed(&failure, "workflow_run", "delivery-failed-run"),
        &failure,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["ignored"], true);
    assert!(reply.json["why"].as_str().unwrap().contains("rule 2"));

    // A command the session refuses is still a 200 (the tool would retry anything else),
    // saying why.
    let incident = fixture("pagerduty-incident-triggered.json");
    let reply = post(
        &server,
        "/hooks/pagerduty",
        &pagerduty_signed(&incident, "webhook-no-session"),
        &incident,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["command"], "next");
    assert_eq!(reply.json["rule"], "rule 3");
    assert_eq!(
        reply.json["refused"]["type"],
        "urn:gongan:problem:no-session"
    );
    assert!(reply.json["refused"]["detail"].is_string());

    // With a session running, the incident steers it, as its actor.
    let session = server
        .post(
            "/v1/session",
            &json!({"plan": {"name": "Drill", "segments": [
                {"title": "One", "duration": "5m", "form": "lancaran", "density": "sparse"},
                {"title": "Two", "duration": "5m", "form": "lancaran", "density": "sparse"}]},
                "by": "facilitator"}),
        )
        .await;
    assert_eq!(session.status, 201, "{}", session.text);
    events.until("segment_started").await;
    let reply = post(
        &server,
        "/hooks/pagerduty",
        &pagerduty_signed(&incident, "webhook-in-session"),
        &incident,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.json.get("refused").is_none(), "{}", reply.text);
    let skipped = events.until("skipped").await;
    assert_eq!(skipped["by"], "pagerduty:A little bump in the road");
    server.stop().await;
}
