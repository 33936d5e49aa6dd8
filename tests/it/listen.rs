//! Listener links (issue 13): `/listen/{secret}` and what its page reads, as a browser
//! does — the public view, the clock, the strokes ahead and the pack's sounds — and what a
//! listener may not do. (The page itself, playing in Chromium, is in `browser.rs`.)

use std::io::Cursor;

use hyper::Method;
use hyper::body::Bytes;
use serde_json::{Value, json};

use crate::http_support::{TestServer, problem};

const TOKEN: &str = "a-long-enough-test-token";

fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

/// A server with a token, as one shared beyond loopback is.
async fn guarded_server() -> TestServer {
    TestServer::start_with(|c| {
        c.token = Some(gongan::config::Token::parse(TOKEN).unwrap());
    })
    .await
}

/// `method path` with the token and a JSON body.
async fn with_token(server: &TestServer, method: Method, path: &str, body: &Value) -> Value {
    let bearer = bearer();
    let reply = server
        .send(
            method,
            path,
            &[
                ("content-type", "application/json"),
                ("authorization", &bearer),
            ],
            body.to_string(),
        )
        .await;
    assert!(reply.status.is_success(), "{path}: {}", reply.text);
    reply.json
}

/// Makes a link with the token and returns its secret.
async fn make_link(server: &TestServer, name: &str, allow: &str) -> Value {
    with_token(
        server,
        Method::POST,
        "/v1/links",
        &json!({"name": name, "allow": allow}),
    )
    .await
}

async fn start_session(server: &TestServer) {
    let plan = json!({"name": "Drill", "segments": [
        {"title": "Investigate", "duration": "1m", "notes": "The disk filled at 09:12"},
        {"title": "Debrief", "duration": "1m"},
    ]});
    with_token(server, Method::POST, "/v1/session", &json!({"plan": plan})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_link_opens_the_page_and_the_public_view_without_the_token() {
    let server = guarded_server().await;
    let made = make_link(&server, "listeners", "listen").await;
    let secret = made["secret"].as_str().unwrap();
    assert_eq!(made["listen_path"], format!("/listen/{secret}"));
    start_session(&server).await;

    let page = server.get(&format!("/listen/{secret}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
    assert!(page.text.contains("/app.js"), "the page's script");

    let status = server.get(&format!("/listen/{secret}/status")).await;
    assert_eq!(status.status, 200, "{}", status.text);
    let session = &status.json["session"];
    assert_eq!(session["title"], "Investigate");
    assert_eq!(session["plan"], "Drill");
    assert!(
        !status.text.contains("The disk filled"),
        "notes are the facilitator's"
    );
    for private in ["device", "fault", "volume"] {
        assert!(
            status.json.get(private).is_none(),
            "{private}: {}",
            status.text
        );
    }

    // The event stream opens with the same public view and goes on with ticks.
    let mut events = server
        .events_at(&format!("/listen/{secret}/events"), &[])
        .await;
    let (kind, first) = events.next().await.unwrap();
    assert_eq!(kind, "status");
    assert_eq!(first["status"]["session"]["title"], "Investigate");
    assert!(!first.to_string().contains("The disk filled"));
    assert!(first["status"].get("volume").is_none());
    events.until("tick").await;

    // A link that shares the notes shows them.
    let shared = make_link(&server, "with-notes", "listen,notes").await;
    let shared = shared["secret"].as_str().unwrap();
    let status = server.get(&format!("/listen/{shared}/status")).await;
    assert_eq!(status.json["session"]["notes"], "The disk filled at 09:12");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strokes_ahead_are_the_strokes_the_session_then_plays_on_the_servers_clock() {
    let server = TestServer::start().await;
    let made = server
        .post("/v1/links", &json!({"name": "room-b", "allow": "listen"}))
        .await;
    let secret = made.json["secret"].as_str().unwrap().to_owned();
    let base = format!("/listen/{secret}");

    let idle = server.get(&format!("{base}/ahead")).await;
    assert_eq!(idle.status, 200, "{}", idle.text);
    assert_eq!(
        idle.json["strokes"],
        json!([]),
        "no session, nothing to play"
    );

    let before = server.get(&format!("{base}/time")).await;
    assert_eq!(before.headers["cache-control"], "no-store");
    let clock_before = before.json["clock"].as_f64().unwrap();
    assert!(before.json["utc"].as_str().unwrap().ends_with('Z'));

    let mut events = server.events().await;
    let plan = json!({"name": "Drill", "segments": [{"title": "Go", "duration": "1m"}]});
    let started = server.post("/v1/session", &json!({"plan": plan})).await;
    assert_eq!(started.status, 201, "{}", started.text);
    let ahead = server.get(&format!("{base}/ahead?seconds=12")).await;
    assert_eq!(ahead.status, 200, "{}", ahead.text);
    let now = ahead.json["now"].as_f64().unwrap();
    let until = ahead.json["until"].as_f64().unwrap();
    assert!(now >= clock_before, "one clock: {now} after {clock_before}");
    assert!((until - now - 12.0).abs() < 1e-6);
    let strokes = ahead.json["strokes"].as_array().unwrap().clone();
    assert!(
        strokes.len() >= 3,
        "the opening phrase and the first beats: {}",
        ahead.text
    );

    // The same strokes then play, with the same spacing: the session's own `stroke`
    // events carry when each is heard.
    let mut heard = Vec::new();
    while heard.len() < strokes.len() {
        let (kind, event) = events.next().await.expect("the stream goes on");
        if kind == "stroke" {
            heard.push(event);
        }
    }
    for (ahead, played) in strokes.iter().zip(&heard) {
        assert_eq!(
            ahead["instrument"], played["instrument"],
            "{ahead} vs {played}"
        );
        let at = ahead["at"].as_f64().unwrap();
        assert!((now..=until).contains(&at), "{at} in the window");
    }
    let first_ahead = strokes[0]["at"].as_f64().unwrap();
    let first_heard = heard[0]["seconds"].as_f64().unwrap();
    for (ahead, played) in strokes.iter().zip(&heard).skip(1) {
        let ahead_gap = ahead["at"].as_f64().unwrap() - first_ahead;
        let heard_gap = played["seconds"].as_f64().unwrap() - first_heard;
        assert!(
            (ahead_gap - heard_gap).abs() < 0.001,
            "{ahead_gap} s ahead vs {heard_gap} s heard"
        );
    }

    // Every stroke's sound is there, as a WAV file of the pack's sound.
    let pack = server.get(&format!("{base}/pack")).await;
    assert_eq!(pack.status, 200, "{}", pack.text);
    let listed: Vec<&str> = pack.json["sounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sound"].as_str().unwrap())
        .collect();
    for stroke in &strokes {
        let path = stroke["sound"].as_str().unwrap();
        assert!(listed.contains(&path), "{path} is in the pack's list");
        let wav = server.get(&format!("{base}/{path}")).await;
        assert_eq!(wav.status, 200, "{path}");
        assert_eq!(wav.headers["content-type"], "audio/wav");
        let bytes = server_bytes(&server, &format!("{base}/{path}")).await;
        let reader = hound::WavReader::new(Cursor::new(bytes)).expect("a WAV file");
        assert_eq!(reader.spec().bits_per_sample, 16);
        assert!(reader.duration() > 1000, "{path}: a real sound");
    }
    let missing = server
        .get(&format!("{base}/sounds/default/no-such-instrument/1"))
        .await;
    problem(&missing, 404, "not-found");
    let other_pack = server
        .get(&format!("{base}/sounds/another-pack/gong/1"))
        .await;
    problem(&other_pack, 404, "not-found");

    for bad in ["0", "31", "-1", "nan", "soon"] {
        let reply = server.get(&format!("{base}/ahead?seconds={bad}")).await;
        assert_eq!(reply.status, 422, "seconds={bad}: {}", reply.text);
    }
    let reply = server.get(&format!("{base}/ahead?when=now")).await;
    assert_eq!(reply.status, 422, "{}", reply.text);

    // Paused, nothing is to come.
    let paused = server.post("/v1/session/pause", &json!({})).await;
    assert_eq!(paused.status, 200, "{}", paused.text);
    events.until("paused").await;
    let ahead = server.get(&format!("{base}/ahead?seconds=10")).await;
    assert_eq!(ahead.json["strokes"], json!([]), "{}", ahead.text);
    server.stop().await;
}

/// The raw body of `GET path`.
async fn server_bytes(server: &TestServer, path: &str) -> Vec<u8> {
    use http_body_util::BodyExt;
    let response = server.raw(Method::GET, path, &[], Bytes::new()).await;
    response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_cannot_steer_and_a_revoked_link_is_cut_off() {
    let server = guarded_server().await;
    let made = make_link(&server, "listeners", "listen").await;
    let secret = made["secret"].as_str().unwrap().to_owned();
    start_session(&server).await;

    // Its secret is no token: every write of the API refuses it.
    let document = with_token(&server, Method::GET, "/v1/openapi.json", &json!(null)).await;
    let as_token = format!("Bearer {secret}");
    let mut writes = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/") {
            continue;
        }
        for method in ["post", "put", "delete"] {
            if item.get(method).is_none() || path == "/v1/login" {
                continue;
            }
            let concrete = path
                .split('/')
                .map(|part| if part.starts_with('{') { "x" } else { part })
                .collect::<Vec<_>>()
                .join("/");
            let reply = server
                .send(
                    method.to_uppercase().parse().unwrap(),
                    &concrete,
                    &[
                        ("content-type", "application/json"),
                        ("authorization", &as_token),
                    ],
                    "{}",
                )
                .await;
            assert_eq!(reply.status, 401, "{method} {concrete}: {}", reply.text);
            writes += 1;
        }
    }
    assert!(writes >= 20, "every write route was tried: {writes}");
    // Nor does it press anything as a link, nor write through its own routes.
    for action in ["next", "gong", "pause", "%2B2m", "spin"] {
        let reply = server
            .send(
                Method::POST,
                &format!("/l/{secret}/{action}"),
                &[],
                Bytes::new(),
            )
            .await;
        problem(&reply, 403, "not-allowed");
    }
    let reply = server
        .send(Method::POST, &format!("/listen/{secret}/status"), &[], "{}")
        .await;
    assert_eq!(reply.status, 405, "{}", reply.text);
    let session = with_token(&server, Method::GET, "/v1/session", &json!(null)).await;
    assert_eq!(session["segment"], 0, "nothing moved");
    let state = session["state"].as_str().unwrap();
    assert!(
        ["buka", "running"].contains(&state),
        "not paused nor stopped: {state}"
    );

    // A link that may not listen opens no page; an unknown secret opens nothing.
    let deck = make_link(&server, "deck", "next").await;
    let deck = deck["secret"].as_str().unwrap();
    problem(
        &server.get(&format!("/listen/{deck}")).await,
        403,
        "not-allowed",
    );
    problem(
        &server.get("/listen/not-a-secret/status").await,
        404,
        "not-found",
    );

    // Revoked: the open stream ends, and the link opens nothing more.
    let mut events = server
        .events_at(&format!("/listen/{secret}/events"), &[])
        .await;
    events.until("tick").await;
    with_token(&server, Method::DELETE, "/v1/links/listeners", &json!(null)).await;
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while events.next().await.is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the stream of a revoked link ends");
    for path in ["", "/status", "/time", "/ahead", "/pack"] {
        let reply = server.get(&format!("/listen/{secret}{path}")).await;
        problem(&reply, 404, "not-found");
    }
    server.stop().await;
}
