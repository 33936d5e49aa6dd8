//! Capability links (issue 10, "Links for stream decks and scripts"): made over
//! `/v1/links` or with `gongan link`, pressed at `POST /l/{secret}/{action}` as a stream
//! deck or a script does (no token, no body), acting as `link:NAME` and only as allowed.

use std::path::Path;
use std::process::{Command, Output};

use hyper::Method;
use hyper::body::Bytes;
use serde_json::{Value, json};

use crate::cli_support::{error_line, gongan_with, stdout};
use crate::http_support::{Reply, TestServer};

/// A POST as a stream deck sends it: no body, no content type.
async fn press(server: &TestServer, path: &str) -> Reply {
    server.send(Method::POST, path, &[], Bytes::new()).await
}

/// Makes a link over the API and returns its secret.
async fn make(server: &TestServer, name: &str, allow: Value) -> String {
    let reply = server
        .post("/v1/links", &json!({"name": name, "allow": allow}))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.json["secret"].as_str().unwrap().to_owned()
}

/// A two-segment plan run fast, with its first segment started (steering during the
/// opening phrase would wait for it to land). Returns the session's id.
async fn running_session(server: &TestServer) -> String {
    let mut events = server.events().await;
    let plan = json!({"name": "Drill", "segments": [
        {"title": "Look", "duration": "10m"},
        {"title": "Act", "duration": "10m"},
    ]});
    let started = server
        .post("/v1/session", &json!({"plan": plan, "speed": 10}))
        .await;
    assert_eq!(started.status, 201, "{}", started.text);
    events.until("segment_started").await;
    started.json["id"].as_str().unwrap().to_owned()
}

/// Whether any file in the data dir (the database, its write-ahead log…) holds `secret`
/// byte for byte. Searched by a child process: opening and closing the database's files
/// in this process, where the test server holds them open, would drop SQLite's POSIX
/// locks and let another process delete the live write-ahead log.
fn holds_in_clear(dir: &Path, secret: &str) -> bool {
    let status = Command::new("grep")
        .args(["-r", "-q", "-a", "-F", secret])
        .arg(dir)
        .status()
        .expect("grep runs");
    assert!(
        status.code().is_some_and(|c| c < 2),
        "grep failed: {status}"
    );
    status.success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_steers_the_session_as_link_name_and_only_as_it_allows() {
    let server = TestServer::start().await;

    let made = server
        .post(
            "/v1/links",
            &json!({"name": "deck", "allow": "pause,next,cue:gong", "by": "page"}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let secret = made.json["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 64);
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()), "{secret}");
    assert_eq!(made.json["url_path"], format!("/l/{secret}"));
    assert_eq!(made.json["name"], "deck");
    assert_eq!(made.json["allow"], json!(["cue:gong", "next", "pause"]));
    assert_eq!(made.json["created_by"], "page");

    let listed = server.get("/v1/links").await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.json[0]["name"], "deck");
    assert_eq!(
        listed.json[0]["allow"],
        json!(["cue:gong", "next", "pause"])
    );
    assert!(!listed.text.contains(&secret), "the list shows no secret");
    assert!(
        !holds_in_clear(server.data.path(), &secret),
        "the secret is in the data dir in clear text"
    );

    let id = running_session(&server).await;
    let mut events = server.events().await;

    // Pressed as a stream deck does: no body, no content type, no token.
    let next = press(&server, &format!("/l/{secret}/next")).await;
    assert_eq!(next.status, 200, "{}", next.text);
    assert_eq!(next.json["link"], "deck");
    assert_eq!(next.json["command"], "next");
    assert_eq!(next.json["session"]["segment"], 1);
    assert!(next.json["done"].as_str().unwrap().starts_with("next: "));
    let skipped = events.until("skipped").await;
    assert_eq!(skipped["by"], "link:deck");

    // Not allowed: 403, and nothing happens.
    let probe = server.next_cue_id(1).await;
    for action in [
        "stop",
        "previous",
        "kenong%203",
        "+2m",
        "status",
        "start%20drill",
    ] {
        let refused = press(&server, &format!("/l/{secret}/{action}")).await;
        let detail = refused.problem(403);
        assert_eq!(
            refused.json["type"], "urn:gongan:problem:not-allowed",
            "{action}"
        );
        assert!(detail.contains("deck"), "{detail}");
    }
    assert_eq!(server.next_cue_id(2).await, probe + 1, "no cue was played");
    let session = server.get("/v1/session").await;
    assert_eq!(session.json["segment"], 1);
    assert_eq!(session.json["state"], "running");

    // Not a command: 422.
    for action in ["jump%20around", "next%20please", "kenong%20zero"] {
        press(&server, &format!("/l/{secret}/{action}"))
            .await
            .problem(422);
    }

    // A cue, and a pause with a body the link ignores (some decks send one).
    let gong = press(&server, &format!("/l/{secret}/GONG")).await;
    assert_eq!(gong.status, 200, "{}", gong.text);
    assert_eq!(gong.json["command"], "gong");
    assert!(gong.json["cue"]["heard_at"].is_string(), "{}", gong.text);
    let paused = server
        .send(
            Method::POST,
            &format!("/l/{secret}/pause"),
            &[("content-type", "text/plain")],
            "pressed",
        )
        .await;
    assert_eq!(paused.status, 200, "{}", paused.text);
    assert_eq!(paused.json["session"]["state"], "paused");
    assert_eq!(events.until("paused").await["by"], "link:deck");

    // The debrief says who did it.
    let debrief = server.get(&format!("/v1/history/{id}")).await;
    let by_link: Vec<&str> = debrief.json["log"]
        .as_array()
        .expect("a log")
        .iter()
        .filter(|line| line["actor"] == "link:deck")
        .map(|line| line["action"].as_str().unwrap())
        .collect();
    assert!(by_link.len() >= 2, "{}", debrief.text);

    // Only POST: a link is never pressed by a prefetcher or a chat's link preview.
    let get = server.get(&format!("/l/{secret}/next")).await;
    assert_eq!(get.status, 405, "{}", get.text);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_and_revoked_secrets_get_the_same_404() {
    let server = TestServer::start().await;
    let secret = make(&server, "deck", json!(["next", "cue:gong"])).await;
    let mut wrong = secret.clone();
    let flipped = if wrong.starts_with('0') { "1" } else { "0" };
    wrong.replace_range(..1, flipped);

    let unknown = press(&server, &format!("/l/{wrong}/gong")).await;
    let detail = unknown.problem(404);
    let malformed = press(&server, "/l/not-a-secret/gong").await;
    assert_eq!(malformed.problem(404), detail);

    assert_eq!(
        press(&server, &format!("/l/{secret}/gong")).await.status,
        200
    );
    let revoked = server
        .send(Method::DELETE, "/v1/links/deck", &[], Bytes::new())
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    let gone = press(&server, &format!("/l/{secret}/gong")).await;
    assert_eq!(gone.problem(404), detail, "revoked reads as unknown");
    assert_eq!(gone.json, unknown.json);

    server
        .send(Method::DELETE, "/v1/links/deck", &[], Bytes::new())
        .await
        .problem(404);
    server
        .send(
            Method::DELETE,
            "/v1/links/Not%20A%20Name",
            &[],
            Bytes::new(),
        )
        .await
        .problem(404);
    assert_eq!(server.get("/v1/links").await.json, json!([]));

    // The name is free again, with a new secret; the old one stays dead.
    let again = make(&server, "deck", json!("next")).await;
    assert_ne!(again, secret);
    press(&server, &format!("/l/{secret}/next"))
        .await
        .problem(404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listen_only_link_cannot_act() {
    let server = TestServer::start().await;
    let secret = make(&server, "room", json!("listen")).await;
    let probe = server.next_cue_id(1).await;
    for action in ["gong", "next", "status", "help", "start%20drill"] {
        let refused = press(&server, &format!("/l/{secret}/{action}")).await;
        refused.problem(403);
        assert_eq!(refused.json["type"], "urn:gongan:problem:not-allowed");
    }
    assert_eq!(server.next_cue_id(2).await, probe + 1, "no cue was played");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn making_a_link_checks_its_name_and_actions() {
    let server = TestServer::start().await;
    make(&server, "deck", json!("next")).await;
    let taken = server
        .post("/v1/links", &json!({"name": "deck", "allow": "pause"}))
        .await;
    taken.problem(409);
    assert_eq!(taken.json["type"], "urn:gongan:problem:link-exists");

    let bad_allow = server
        .post("/v1/links", &json!({"name": "other", "allow": "next,leap"}))
        .await;
    let detail = bad_allow.problem(422);
    assert!(
        detail.contains("\"leap\" is not something a link may do"),
        "{detail}"
    );
    for body in [
        json!({"name": "other", "allow": ["next", "cue:"]}),
        json!({"name": "other", "allow": []}),
        json!({"name": "other", "allow": ""}),
        json!({"name": "Other", "allow": "next"}),
        json!({"name": "a/b", "allow": "next"}),
        json!({"name": "x".repeat(65), "allow": "next"}),
        json!({"name": "other", "allow": 3}),
        json!({"name": "other"}),
        json!({"name": "other", "allow": "next", "secret": "mine"}),
        json!({"name": "other", "allow": "next", "by": ""}),
    ] {
        server.post("/v1/links", &body).await.problem(422);
    }
    let shape = server
        .post("/v1/links", &json!({"name": "other", "allow": 3}))
        .await
        .problem(422);
    assert!(shape.contains("comma-separated"), "{shape}");
    let names: Vec<Value> = server
        .get("/v1/links")
        .await
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].clone())
        .collect();
    assert_eq!(names, [json!("deck")], "nothing else was made");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_need_no_token_but_managing_them_does() {
    const TOKEN: &str = "a-long-enough-test-token";
    let server = TestServer::start_with(|c| {
        c.token = Some(gongan::config::Token::parse(TOKEN).unwrap());
    })
    .await;
    let bearer = format!("Bearer {TOKEN}");
    let headers = [
        ("content-type", "application/json"),
        ("authorization", bearer.as_str()),
    ];
    server
        .post("/v1/links", &json!({"name": "deck", "allow": "cue:gong"}))
        .await
        .problem(401);
    server.get("/v1/links").await.problem(401);
    let made = server
        .send(
            Method::POST,
            "/v1/links",
            &headers,
            json!({"name": "deck", "allow": "cue:gong"}).to_string(),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let secret = made.json["secret"].as_str().unwrap();
    let gong = press(&server, &format!("/l/{secret}/gong")).await;
    assert_eq!(gong.status, 200, "{}", gong.text);
    server.stop().await;
}

// The command line.

async fn gongan(args: &[&str]) -> Output {
    gongan_with(args, &[("USER", "ana")]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_commands_write_the_data_dir_a_running_server_reads() {
    let server = TestServer::start().await;
    let dir = server.data.path().to_str().unwrap().to_owned();
    let url = server.base.as_str();

    let created = stdout(
        &gongan(&[
            "link",
            "create",
            "deck",
            "--allow",
            "cue:gong,status",
            "--data-dir",
            &dir,
            "--server",
            url,
        ])
        .await,
    );
    let prefix = format!("{url}/l/");
    let at = created.find(&prefix).expect("the URL") + prefix.len();
    let secret = &created[at..at + 64];
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()), "{created}");
    assert!(
        created.contains(&format!("curl -X POST {url}/l/{secret}/")),
        "{created}"
    );
    assert!(!holds_in_clear(server.data.path(), secret));

    // The running server sees the new link at once.
    let gong = press(&server, &format!("/l/{secret}/gong")).await;
    assert_eq!(gong.status, 200, "{}", gong.text);
    assert_eq!(gong.json["link"], "deck");
    let status = press(&server, &format!("/l/{secret}/status")).await;
    assert_eq!(status.status, 200, "{}", status.text);
    assert!(status.json["done"].as_str().unwrap().contains("no session"));
    assert_eq!(
        server.get("/v1/links").await.json[0]["created_by"],
        "cli:ana"
    );

    let list = stdout(&gongan(&["link", "list", "--data-dir", &dir]).await);
    let lines: Vec<&str> = list.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{list}");
    assert!(
        lines[1].starts_with("deck") && lines[1].contains("cue:gong,status"),
        "{list}"
    );
    assert!(lines[1].ends_with("cli:ana"), "{list}");
    assert!(!list.contains(secret), "{list}");

    let line = error_line(
        &gongan(&[
            "link",
            "create",
            "deck",
            "--allow",
            "next",
            "--data-dir",
            &dir,
        ])
        .await,
    );
    assert!(line.contains("already exists"), "{line}");
    let line = error_line(
        &gongan(&[
            "link",
            "create",
            "other",
            "--allow",
            "next,fly",
            "--data-dir",
            &dir,
        ])
        .await,
    );
    assert!(
        line.contains("\"fly\" is not something a link may do"),
        "{line}"
    );
    let line = error_line(
        &gongan(&[
            "link",
            "create",
            "Other!",
            "--allow",
            "next",
            "--data-dir",
            &dir,
        ])
        .await,
    );
    assert!(line.contains("not a link name"), "{line}");

    let revoked = stdout(&gongan(&["link", "revoke", "deck", "--data-dir", &dir]).await);
    assert!(revoked.contains("revoked"), "{revoked}");
    press(&server, &format!("/l/{secret}/gong"))
        .await
        .problem(404);
    let line = error_line(&gongan(&["link", "revoke", "deck", "--data-dir", &dir]).await);
    assert!(line.contains("no link named \"deck\""), "{line}");
    let list = stdout(&gongan(&["link", "list", "--data-dir", &dir]).await);
    assert!(list.starts_with("no links yet"), "{list}");

    // A link made over HTTP is listed by the CLI too.
    make(&server, "script", json!("next")).await;
    let list = stdout(&gongan(&["link", "list", "--data-dir", &dir]).await);
    assert!(list.contains("script") && list.contains(" api"), "{list}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_commands_explain_themselves_and_leave_an_empty_dir_alone() {
    let empty = tempfile::tempdir().unwrap();
    let dir = empty.path().to_str().unwrap();
    let list = stdout(&gongan(&["link", "list", "--data-dir", dir]).await);
    assert!(list.starts_with("no links yet"), "{list}");
    let line = error_line(&gongan(&["link", "revoke", "deck", "--data-dir", dir]).await);
    assert!(line.contains("no link named"), "{line}");
    assert_eq!(
        std::fs::read_dir(empty.path()).unwrap().count(),
        0,
        "listing and revoking make no database"
    );
    for args in [
        &["link", "--help"][..],
        &["link", "create", "--help"],
        &["link", "list", "--help"],
        &["link", "revoke", "--help"],
    ] {
        let help = stdout(&gongan(args).await);
        assert!(help.contains("gongan link "), "{args:?}: {help}");
    }
    let created = stdout(
        &gongan(&[
            "link",
            "create",
            "deck",
            "--allow",
            "next",
            "--data-dir",
            dir,
        ])
        .await,
    );
    assert!(
        created.contains("http://127.0.0.1:7070/l/"),
        "the default server: {created}"
    );
}
