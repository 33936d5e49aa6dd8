//! `POST /hooks/slack` and `POST /hooks/mattermost` (issue 10): a real slash command drives
//! gongan with no glue — Slack's and Mattermost's documented requests (under
//! `tests/fixtures/hooks/`), signed or tokened as the tools do, strike instruments, start
//! and steer sessions journaled as `slack:@ana`, and are answered in the tools' JSON; a
//! request the tool did not send changes nothing.

use std::time::{SystemTime, UNIX_EPOCH};

use gongan::config::Secret;
use hmac::{Hmac, Mac};
use hyper::Method;
use serde_json::Value;
use sha2::Sha256;

use crate::http_support::{Reply, TestServer};

/// The signing secret of Slack's "Verifying requests from Slack" (a placeholder, not a
/// real secret).
const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
/// The token of Mattermost's "Slash commands" example request.
const MATTERMOST_TOKEN: &str = "nezum4kpu3faiec7r7c5zt6tfy";
const FORM: &str = "application/x-www-form-urlencoded";

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/hooks/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A documented request with some fields changed, as the tool would send it had the
/// person typed `/gong {text}`.
fn form(fixture_name: &str, changes: &[(&str, &str)]) -> String {
    let mut fields: Vec<(String, String)> =
        serde_urlencoded::from_str(&fixture(fixture_name)).unwrap();
    for (name, value) in changes {
        let field = fields
            .iter_mut()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("the fixture has a {name} field"));
        field.1 = (*value).to_owned();
    }
    serde_urlencoded::to_string(fields).unwrap()
}

/// Slack's documented slash command, as `@ana` typing `/gong {text}`.
fn slack_form(text: &str) -> String {
    form(
        "slack-slash-command.form",
        &[("command", "/gong"), ("text", text), ("user_name", "ana")],
    )
}

/// Mattermost's documented slash command, as `@tester` typing `/gong {text}`.
fn mattermost_form(text: &str) -> String {
    form(
        "mattermost-slash-command.form",
        &[("command", "/gong"), ("text", text)],
    )
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `v0=` and the HMAC-SHA256 of `v0:{timestamp}:{body}` with `secret`, as Slack signs.
fn slack_signature(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// Sends `body` to `path` with these headers.
async fn post(server: &TestServer, path: &str, headers: &[(&str, String)], body: &str) -> Reply {
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    server
        .send(Method::POST, path, &headers, body.to_owned())
        .await
}

/// Sends `body` to `/hooks/slack` signed now, as Slack does.
async fn signed(server: &TestServer, body: &str) -> Reply {
    let timestamp = unix_now().to_string();
    let headers = [
        ("content-type", FORM.to_owned()),
        (
            "x-slack-signature",
            slack_signature(SLACK_SECRET, &timestamp, body),
        ),
        ("x-slack-request-timestamp", timestamp),
    ];
    post(server, "/hooks/slack", &headers, body).await
}

/// `/gong {text}` from `@ana` in Slack.
async fn slack(server: &TestServer, text: &str) -> Reply {
    signed(server, &slack_form(text)).await
}

/// `/gong {text}` from `@tester` in Mattermost, with the token in the header and the form.
async fn mattermost(server: &TestServer, text: &str) -> Reply {
    let headers = [
        ("content-type", FORM.to_owned()),
        ("authorization", format!("Token {MATTERMOST_TOKEN}")),
    ];
    post(
        server,
        "/hooks/mattermost",
        &headers,
        &mattermost_form(text),
    )
    .await
}

/// Asserts a slash command answer (200, JSON) of `response_type` and returns its text.
#[track_caller]
fn answer(reply: &Reply, response_type: &str) -> String {
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.headers["content-type"], "application/json");
    assert_eq!(reply.json["response_type"], response_type, "{}", reply.text);
    let text = reply.json["text"].as_str().expect("a text").to_owned();
    assert!(!text.is_empty());
    text
}

async fn slack_server() -> TestServer {
    TestServer::start_with(|c| c.hooks.slack_signing_secret = Secret::new(SLACK_SECRET)).await
}

/// Proves that nothing was accepted between two checks: each check is a probe cue (see
/// [`TestServer::next_cue_id`]), of its own gain so that no two coalesce, whose id must be
/// the one after the last.
struct Unchanged {
    probes: u32,
    last_cue: u64,
}

impl Unchanged {
    async fn from(server: &TestServer) -> Unchanged {
        Unchanged {
            probes: 1,
            last_cue: server.next_cue_id(0).await,
        }
    }

    /// Asserts that `accepted` cues were accepted since the last check, and no others.
    async fn check(&mut self, server: &TestServer, accepted: u64) {
        let next = server.next_cue_id(self.probes).await;
        assert_eq!(
            next,
            self.last_cue + accepted + 1,
            "cues accepted in between"
        );
        self.probes += 1;
        self.last_cue = next;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slacks_documented_request_strikes_the_gong_and_kenong_3_strikes_the_kenong() {
    let server = slack_server().await;
    let mut events = server.events().await;

    // The request of Slack's "Verifying requests from Slack", byte for byte, signed now:
    // `/webhook-collect` with no text from @roadrunner strikes the gong.
    let reply = signed(&server, &fixture("slack-slash-command.form")).await;
    let text = answer(&reply, "in_channel");
    assert!(text.starts_with("@roadrunner: gong in "), "{text}");
    let played = events.until("cue_played").await;
    assert_eq!(played["instrument"], "gong");
    // Who struck it travels with it, for the page's log.
    assert_eq!(played["by"], "slack:@roadrunner", "{played}");

    let reply = slack(&server, "kenong 3").await;
    let text = answer(&reply, "in_channel");
    assert!(text.starts_with("@ana: kenong 3 in "), "{text}");
    let played = events.until("cue_played").await;
    assert_eq!(
        (&played["instrument"], &played["variant"]),
        (&Value::from("kenong"), &Value::from(3))
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_starts_and_steers_a_session_journaled_as_the_person_who_typed() {
    let server = slack_server().await;
    let mut events = server.events().await;

    let started = slack(&server, "start wheel-of-misfortune").await;
    let text = answer(&started, "in_channel");
    assert!(
        text.starts_with("@ana: started: \"Wheel of Misfortune\""),
        "{text}"
    );
    let session = events.until("session_started").await;
    assert_eq!(session["by"], "slack:@ana");
    let id = session["id"].as_str().unwrap().to_owned();
    assert_eq!(server.get("/v1/session").await.json["id"], id.as_str());

    // Steer once the buka is over and the first segment runs.
    events.until("segment_started").await;
    let next = slack(&server, "next").await;
    let text = answer(&next, "in_channel");
    assert!(text.starts_with("@ana: next: "), "{text}");
    assert!(text.contains("segment 2/"), "{text}");
    let skipped = events.until("skipped").await;
    assert_eq!(
        (&skipped["by"], &skipped["to"]),
        (&"slack:@ana".into(), &"next".into())
    );
    assert_eq!(server.get("/v1/session").await.json["segment"], 1);

    let extended = slack(&server, "+2m").await;
    assert!(answer(&extended, "in_channel").starts_with("@ana: extend: "));
    let extension = events.until("extended").await;
    assert_eq!(extension["by"], "slack:@ana");
    assert_eq!(extension["by_seconds"], 120.0);

    // "The page" spins its wheel of past incidents; time comes off from chat.
    let spun = slack(&server, "spin").await;
    let text = answer(&spun, "in_channel");
    assert!(text.starts_with("@ana: the wheel lands on \""), "{text}");
    let spin = events.until("spin").await;
    assert_eq!(spin["by"], "slack:@ana");
    let entry = spin["entry"].as_str().unwrap();
    assert!(text.contains(entry), "{text} names {entry}");
    let shortened = slack(&server, "-1m").await;
    assert!(
        answer(&shortened, "in_channel").starts_with("@ana: shorten: "),
        "{}",
        shortened.text
    );
    assert_eq!(events.until("time_left_set").await["by"], "slack:@ana");

    // Status is for the person who asked.
    let status = answer(&slack(&server, "status").await, "ephemeral");
    assert!(status.contains("segment 2/"), "{status}");

    let stopped = slack(&server, "stop").await;
    assert!(answer(&stopped, "in_channel").starts_with("@ana: stop: "));
    assert_eq!(events.until("stopped").await["by"], "slack:@ana");
    events.until("finished").await;

    let debrief = server.get(&format!("/v1/history/{id}")).await;
    assert_eq!(debrief.status, 200, "{}", debrief.text);
    let log: Vec<(String, String)> = debrief.json["log"]
        .as_array()
        .expect("a log")
        .iter()
        .filter(|line| line["actor"] == "slack:@ana")
        .map(|line| {
            (
                line["action"].as_str().unwrap().to_owned(),
                line["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let actions: Vec<&str> = log.iter().map(|(action, _)| action.as_str()).collect();
    assert_eq!(
        actions,
        ["started", "next", "extend", "spin", "time-left", "stop"],
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|(_, detail)| detail.starts_with("spin → \"")),
        "the pick is journaled: {log:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_help_and_refused_commands_answer_the_typist_alone_and_change_nothing() {
    let server = slack_server().await;
    let mut unchanged = Unchanged::from(&server).await;

    let status = answer(&slack(&server, "status").await, "ephemeral");
    assert!(status.starts_with("no session yet"), "{status}");
    let help = answer(&slack(&server, "help").await, "ephemeral");
    assert!(
        help.starts_with("`/gong` on its own strikes the gong"),
        "{help}"
    );
    assert!(
        help.contains("`kenong 3`") && help.contains("`+2m`"),
        "{help}"
    );

    // Refused by the grammar, or by the session: a 200 (Slack shows anything else as a bare
    // failure) for the typist alone, with the reason on one line.
    for (text, says) in [
        ("next", "`next`: "),
        ("pause", "`pause`: "),
        ("+2m", "`extend 2m`: "),
        ("flute", "`flute`: "),
        ("kenong 99", "`kenong 99`: "),
        ("start no-such-plan", "`start no-such-plan`: "),
        ("kenong 0", "\"0\" is not a variant"),
        ("extend soon", "\"soon\" is not a length of time"),
        ("start", "start needs a plan's id"),
        ("next please", "`next` takes nothing after it"),
    ] {
        let reply = slack(&server, text).await;
        let said = answer(&reply, "ephemeral");
        assert!(said.contains(says), "{text:?} → {said}");
        assert!(!said.contains('\n'), "{text:?} → {said}");
        unchanged.check(&server, 0).await;
    }
    server.get("/v1/session").await.problem(404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_slack_did_not_sign_now_are_refused_and_change_nothing() {
    let server = slack_server().await;
    let mut unchanged = Unchanged::from(&server).await;
    let body = slack_form("start wheel-of-misfortune");
    let now = unix_now().to_string();
    let good = slack_signature(SLACK_SECRET, &now, &body);
    let form = || ("content-type", FORM.to_owned());
    let signature = |s: &str| ("x-slack-signature", s.to_owned());
    let timestamp = |t: &str| ("x-slack-request-timestamp", t.to_owned());
    let six_minutes_ago = (unix_now() - 360).to_string();
    let old = slack_signature(SLACK_SECRET, &six_minutes_ago, &body);
    let other_secret = slack_signature("another-signing-secret", &now, &body);

    // (headers, body, the problem type, what its detail says)
    type Case<'a> = (Vec<(&'a str, String)>, String, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        // No signature, no timestamp.
        (
            vec![form()],
            body.clone(),
            "bad-signature",
            "no X-Slack-Signature",
        ),
        (
            vec![form(), signature(&good)],
            body.clone(),
            "bad-signature",
            "no X-Slack-Request-Timestamp",
        ),
        // Signed with another secret, for another body, for another time.
        (
            vec![form(), signature(&other_secret), timestamp(&now)],
            body.clone(),
            "bad-signature",
            "does not match",
        ),
        (
            vec![form(), signature(&good), timestamp(&now)],
            slack_form("stop"),
            "bad-signature",
            "does not match",
        ),
        (
            vec![form(), signature(&good), timestamp(&six_minutes_ago)],
            body.clone(),
            "bad-signature",
            "does not match",
        ),
        (
            vec![form(), signature("v0=not-hex"), timestamp(&now)],
            body.clone(),
            "bad-signature",
            "not a v0 signature",
        ),
        // Signed by Slack, six minutes ago: a replay.
        (
            vec![form(), signature(&old), timestamp(&six_minutes_ago)],
            body.clone(),
            "stale-delivery",
            "replay window",
        ),
    ];
    for (headers, sent, kind, says) in cases {
        let reply = post(&server, "/hooks/slack", &headers, &sent).await;
        let detail = reply.problem(401);
        assert_eq!(
            reply.json["type"],
            format!("urn:gongan:problem:{kind}"),
            "{detail}"
        );
        assert!(detail.contains(says), "{detail}");
        unchanged.check(&server, 0).await;
    }

    // Slack's own published example, with its own signature: genuine, but from 2018.
    let documented = fixture("slack-slash-command.form");
    let headers = [
        form(),
        signature("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"),
        timestamp("1531420618"),
    ];
    let reply = post(&server, "/hooks/slack", &headers, &documented).await;
    reply.problem(401);
    assert_eq!(reply.json["type"], "urn:gongan:problem:stale-delivery");
    unchanged.check(&server, 0).await;

    // Signed, but not a slash command form: sent as JSON, or a form without a command.
    for (content_type, sent, says) in [
        (
            "application/json",
            r#"{"command": "/gong", "text": "start wheel-of-misfortune"}"#.to_owned(),
            "application/x-www-form-urlencoded",
        ),
        (
            FORM,
            "text=start+wheel-of-misfortune&user_name=ana".to_owned(),
            "not a slash command",
        ),
        (
            FORM,
            "command=%2Fgong&text=start+wheel-of-misfortune".to_owned(),
            "names no user",
        ),
    ] {
        let headers = [
            ("content-type", content_type.to_owned()),
            signature(&slack_signature(SLACK_SECRET, &now, &sent)),
            timestamp(&now),
        ];
        let reply = post(&server, "/hooks/slack", &headers, &sent).await;
        let detail = reply.problem(400);
        assert_eq!(reply.json["type"], "urn:gongan:problem:unknown-delivery");
        assert!(detail.contains(says), "{detail}");
        unchanged.check(&server, 0).await;
    }
    // A signed request with no content type at all.
    let headers = [signature(&good), timestamp(&now)];
    let reply = post(&server, "/hooks/slack", &headers, &body).await;
    assert_eq!(reply.json["type"], "urn:gongan:problem:unknown-delivery");
    reply.problem(400);

    server.get("/v1/session").await.problem(404);
    unchanged.check(&server, 0).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_without_its_secret_is_not_there() {
    // Neither configured.
    let server = TestServer::start().await;
    let mut unchanged = Unchanged::from(&server).await;
    let slack_reply = slack(&server, "gong").await;
    assert!(
        slack_reply
            .problem(404)
            .contains("GONGAN_SLACK_SIGNING_SECRET")
    );
    let mattermost_reply = mattermost(&server, "gong").await;
    assert!(
        mattermost_reply
            .problem(404)
            .contains("GONGAN_MATTERMOST_TOKEN")
    );
    unchanged.check(&server, 0).await;
    server.stop().await;

    // Slack's secret does not open Mattermost's receiver.
    let server = slack_server().await;
    mattermost(&server, "gong").await.problem(404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_token_is_not_asked_of_slack_which_cannot_send_it() {
    let server = TestServer::start_with(|c| {
        c.token = Some(gongan::config::Token::parse("0123456789abcdef-api").unwrap());
        c.hooks.slack_signing_secret = Secret::new(SLACK_SECRET);
    })
    .await;
    let mut events = server
        .events_at("/v1/events?token=0123456789abcdef-api", &[])
        .await;
    let reply = slack(&server, "kempul").await;
    assert!(answer(&reply, "in_channel").starts_with("@ana: kempul"));
    assert_eq!(events.until("cue_played").await["instrument"], "kempul");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mattermosts_documented_request_with_its_token_drives_gongan() {
    let server = TestServer::start_with(|c| {
        c.hooks.mattermost_token = Secret::new(MATTERMOST_TOKEN);
    })
    .await;
    let mut events = server.events().await;

    // As Mattermost sends it: the token in the header and in the form.
    let reply = mattermost(&server, "kenong 2").await;
    let text = answer(&reply, "in_channel");
    assert!(text.starts_with("@tester: kenong 2 in "), "{text}");
    let played = events.until("cue_played").await;
    assert_eq!(
        (&played["instrument"], &played["variant"]),
        (&Value::from("kenong"), &Value::from(2))
    );

    let started = mattermost(&server, "start wheel-of-misfortune").await;
    assert!(answer(&started, "in_channel").starts_with("@tester: started: "));
    assert_eq!(
        events.until("session_started").await["by"],
        "mattermost:@tester"
    );
    let status = answer(&mattermost(&server, "status").await, "ephemeral");
    assert!(status.contains("Wheel of Misfortune"), "{status}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mattermost_requests_without_the_token_are_refused_and_change_nothing() {
    let server = TestServer::start_with(|c| {
        c.hooks.mattermost_token = Secret::new(MATTERMOST_TOKEN);
    })
    .await;
    let mut unchanged = Unchanged::from(&server).await;
    let form = || ("content-type", FORM.to_owned());
    let good = mattermost_form("stop");
    let without_token: String = serde_urlencoded::to_string(
        serde_urlencoded::from_str::<Vec<(String, String)>>(&good)
            .unwrap()
            .into_iter()
            .filter(|(name, _)| name != "token")
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let wrong_token = good.replace(MATTERMOST_TOKEN, "okwexkjpe7ygb8eq1ww58t483w");

    // Only the form's token (a proxy dropped the header): accepted.
    let reply = post(
        &server,
        "/hooks/mattermost",
        &[form()],
        &mattermost_form("gong"),
    )
    .await;
    assert!(answer(&reply, "in_channel").starts_with("@tester: gong"));
    unchanged.check(&server, 1).await;

    let bearer = || ("authorization", format!("Bearer {MATTERMOST_TOKEN}"));
    let right = || ("authorization", format!("Token {MATTERMOST_TOKEN}"));
    let wrong = || {
        (
            "authorization",
            "Token okwexkjpe7ygb8eq1ww58t483w".to_owned(),
        )
    };
    for (headers, body, says) in [
        (vec![form()], without_token.clone(), "no Mattermost token"),
        (
            vec![form(), bearer()],
            without_token.clone(),
            "no Mattermost token",
        ),
        (vec![form()], wrong_token.clone(), "does not match"),
        (vec![form(), wrong()], good.clone(), "does not match"),
        (vec![form(), right()], wrong_token.clone(), "does not match"),
        (
            vec![form(), wrong()],
            without_token.clone(),
            "does not match",
        ),
    ] {
        let reply = post(&server, "/hooks/mattermost", &headers, &body).await;
        let detail = reply.problem(401);
        assert_eq!(reply.json["type"], "urn:gongan:problem:bad-signature");
        assert!(detail.contains(says), "{detail}");
        unchanged.check(&server, 0).await;
    }

    // The token is right but the body is no slash command.
    let reply = post(
        &server,
        "/hooks/mattermost",
        &[("content-type", "application/json".to_owned()), right()],
        r#"{"command": "/gong", "text": "gong"}"#,
    )
    .await;
    reply.problem(400);
    assert_eq!(reply.json["type"], "urn:gongan:problem:unknown-delivery");
    unchanged.check(&server, 0).await;
    server.stop().await;
}
