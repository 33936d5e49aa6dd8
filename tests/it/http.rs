//! Every route of the HTTP API (issue 4): the happy path, and bad input answered with a
//! problem+json 4xx that changes nothing.

use std::time::Duration;

use hyper::Method;
use serde_json::{Value, json};

use crate::http_support::TestServer;

/// A bad request: name, headers, body, expected status, a word the detail must contain.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], String, u16, &'a str);

const SHORT_PLAN: &str = r#"{"name": "Drill", "segments": [{"title": "Go", "duration": "8s", "form": "lancaran", "density": "full"}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_status_page_and_openapi() {
    let server = TestServer::start().await;
    let health = server.get("/healthz").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json["status"], "ok");
    assert_eq!(health.json["output"], "null");
    assert_eq!(health.json["device"], "null");
    assert_eq!(health.json["fault"], Value::Null);
    // The null output is heard as it renders: its latency is at most one 5 ms block.
    let latency = health.json["latency_ms"].as_f64().unwrap();
    assert!((0.0..=6.0).contains(&latency), "{latency}");

    let status = server.get("/v1/status").await;
    assert_eq!(status.status, 200);
    assert_eq!(status.json["engine"]["sample_rate"], 48_000);
    assert!(status.json["engine"]["frame"].is_u64());
    assert_eq!(status.json["output"], "null");
    assert_eq!(status.json["pack"], "default");
    assert_eq!(status.json["session"], Value::Null);

    for (path, kind) in [
        ("/", "text/html"),
        ("/app.js", "text/javascript"),
        ("/style.css", "text/css"),
    ] {
        let page = server.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        let content_type = page.headers["content-type"].to_str().unwrap();
        assert!(content_type.starts_with(kind), "{path}: {content_type}");
    }
    assert!(server.get("/").await.text.contains("/app.js"));

    let doc = server.get("/v1/openapi.json").await;
    assert_eq!(doc.status, 200);
    assert!(doc.json["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc.json["paths"]["/v1/cues"]["post"].is_object());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_and_methods_are_problems() {
    let server = TestServer::start().await;
    server.get("/nope").await.problem(404);
    server.get("/v1/session/dance").await.problem(404);
    let wrong = server.send(Method::DELETE, "/healthz", &[], "").await;
    wrong.problem(405);
    server.post("/v1/status", &json!({})).await.problem(405);
    server
        .send(Method::PUT, "/v1/cues", &[], "")
        .await
        .problem(405);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cues_play_coalesce_and_refuse_bad_input() {
    // A window wide enough that two requests in a row fall in it even on a busy machine.
    let server = TestServer::start_with(|c| c.coalesce_window = Duration::from_secs(5)).await;
    let first = server
        .post("/v1/cues", &json!({"instrument": "gong"}))
        .await;
    assert_eq!(first.status, 202, "{}", first.text);
    assert_eq!(first.json["coalesced"], false);
    let id = first.json["id"].as_u64().unwrap();
    let now = server.conductor.clock().now().0;
    assert!(first.json["frame"].as_u64().unwrap() <= now + 48_000);
    assert!(first.json["in_seconds"].as_f64().unwrap() < 0.5);

    let again = server
        .post("/v1/cues", &json!({"instrument": "gong"}))
        .await;
    assert_eq!(again.status, 202);
    assert_eq!(again.json["coalesced"], true);
    assert_eq!(again.json["id"].as_u64().unwrap(), id);

    let pitched = server
        .post(
            "/v1/cues",
            &json!({"instrument": "kenong", "variant": 6, "gain_db": -3.5}),
        )
        .await;
    assert_eq!(pitched.status, 202);
    let at = server.conductor.clock().now().0 + 48_000;
    let later = server
        .post("/v1/cues", &json!({"instrument": "kempul", "at": at}))
        .await;
    assert_eq!(later.status, 202);
    assert_eq!(later.json["frame"].as_u64().unwrap(), at);
    let before_bad = server.next_cue_id(0).await;

    let cases: Vec<Case> = vec![
        (
            "malformed",
            &[("content-type", "application/json")],
            "{\"instrument\":".into(),
            400,
            "not valid JSON",
        ),
        (
            "empty",
            &[("content-type", "application/json")],
            String::new(),
            400,
            "empty",
        ),
        (
            "wrong type",
            &[("content-type", "application/json")],
            r#"{"instrument": "gong", "variant": "two"}"#.into(),
            422,
            "invalid type",
        ),
        (
            "missing field",
            &[("content-type", "application/json")],
            r#"{"variant": 2}"#.into(),
            422,
            "instrument",
        ),
        (
            "unknown field",
            &[("content-type", "application/json")],
            r#"{"instrument": "gong", "volume": 11}"#.into(),
            422,
            "volume",
        ),
        (
            "not an object",
            &[("content-type", "application/json")],
            "[1,2]".into(),
            422,
            "invalid type",
        ),
        (
            "unknown instrument",
            &[("content-type", "application/json")],
            r#"{"instrument": "airhorn"}"#.into(),
            422,
            "airhorn",
        ),
        (
            "unknown variant",
            &[("content-type", "application/json")],
            r#"{"instrument": "kenong", "variant": 7}"#.into(),
            422,
            "1 to 6",
        ),
        (
            "variant zero",
            &[("content-type", "application/json")],
            r#"{"instrument": "kenong", "variant": 0}"#.into(),
            422,
            "not 0",
        ),
        (
            "loud",
            &[("content-type", "application/json")],
            r#"{"instrument": "gong", "gain_db": 40}"#.into(),
            422,
            "gain_db",
        ),
        (
            "past",
            &[("content-type", "application/json")],
            r#"{"instrument": "gong", "at": 1}"#.into(),
            422,
            "already been played",
        ),
        (
            "far future",
            &[("content-type", "application/json")],
            r#"{"instrument": "gong", "at": 999999999999}"#.into(),
            422,
            "ahead",
        ),
        (
            "both times",
            &[("content-type", "application/json")],
            r#"{"instrument": "gong", "at": 1, "quantize": "beat"}"#.into(),
            422,
            "at most one of",
        ),
        (
            // Issue 8: `at` near u64::MAX once wrapped around in frame arithmetic.
            "end of time",
            &[("content-type", "application/json")],
            format!(r#"{{"instrument": "gong", "at": {}}}"#, u64::MAX),
            422,
            "ahead",
        ),
        (
            "in a day",
            &[("content-type", "application/json")],
            r#"{"instrument": "gong", "in_seconds": 86400}"#.into(),
            422,
            "in_seconds",
        ),
        (
            "in the past",
            &[("content-type", "application/json")],
            r#"{"instrument": "gong", "in_seconds": -1}"#.into(),
            422,
            "in_seconds",
        ),
        (
            "bad quantize",
            &[("content-type", "application/json")],
            r#"{"instrument": "gong", "quantize": "bar"}"#.into(),
            422,
            "unknown variant",
        ),
        (
            "no session to quantize to",
            &[("content-type", "application/json")],
            r#"{"instrument": "gong", "quantize": "gong"}"#.into(),
            409,
            "no session",
        ),
        (
            "form post",
            &[("content-type", "application/x-www-form-urlencoded")],
            "instrument=gong".into(),
            415,
            "Content-Type",
        ),
        (
            "no content type",
            &[],
            r#"{"instrument": "gong"}"#.into(),
            415,
            "Content-Type",
        ),
        (
            "text",
            &[("content-type", "text/plain")],
            r#"{"instrument": "gong"}"#.into(),
            415,
            "Content-Type",
        ),
    ];
    for (name, headers, body, status, needle) in cases {
        let reply = server.send(Method::POST, "/v1/cues", headers, body).await;
        let detail = reply.problem(status);
        assert!(detail.contains(needle), "{name}: {detail}");
    }
    // Oversized: refused from its declared length, before the body is read. (Sent as
    // headers alone: a client still writing 70 KiB when the 413 arrives may see the
    // connection close under it, which says nothing about the server.)
    let oversized = oversized_request(&server).await;
    assert!(oversized.starts_with("HTTP/1.1 413"), "{oversized}");
    assert!(oversized.contains("limit"), "{oversized}");
    // Nothing was accepted in between: the next cue takes the very next id.
    assert_eq!(server.next_cue_id(1).await, before_bad + 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instruments_and_packs() {
    let server = TestServer::start().await;
    let instruments = server.get("/v1/instruments").await;
    assert_eq!(instruments.status, 200);
    let list = instruments.json.as_array().unwrap();
    assert!(list.contains(&json!({"name": "gong", "variants": 1, "from_default": false})));
    assert!(list.contains(&json!({"name": "kenong", "variants": 6, "from_default": false})));

    // An installed pack and a broken one.
    let packs_dir = server.data.path().join("packs");
    gongan::pack::scaffold(&packs_dir.join("office")).unwrap();
    std::fs::create_dir_all(packs_dir.join("broken")).unwrap();
    std::fs::write(
        packs_dir.join("broken/pack.toml"),
        "name = \"broken\"\n[instruments.x]\nfile = \"missing.wav\"\n",
    )
    .unwrap();

    let packs = server.get("/v1/packs").await;
    assert_eq!(packs.status, 200);
    let ids: Vec<&str> = packs
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["default", "bali", "broken", "office"]);
    assert_eq!(packs.json[0]["active"], true);
    assert_eq!(packs.json[0]["source"], "default");

    let nope = server.post("/v1/packs/nope/activate", &json!({})).await;
    nope.problem(404);
    assert_eq!(nope.json["type"], "urn:gongan:problem:no-such-pack");
    server
        .post("/v1/packs/..%2F..%2Fetc/activate", &json!({}))
        .await
        .problem(404);
    let broken = server.post("/v1/packs/broken/activate", &json!({})).await;
    let detail = broken.problem(422);
    assert!(detail.contains("missing.wav"), "{detail}");
    assert_eq!(broken.json["type"], "urn:gongan:problem:pack-does-not-load");
    assert_eq!(server.get("/v1/status").await.json["pack"], "default");

    let office = server.post("/v1/packs/office/activate", &json!({})).await;
    assert_eq!(office.status, 200, "{}", office.text);
    assert_eq!(office.json["active"], true);
    assert_eq!(server.get("/v1/status").await.json["pack"], "office");
    // The scaffold's gong is its own; the colotomic instruments it lacks are the default
    // pack's, and still play.
    let office_instruments = server.get("/v1/instruments").await.json;
    let from_default = |name: &str| {
        office_instruments
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {office_instruments}"))["from_default"]
            .clone()
    };
    assert_eq!(from_default("kenong"), true);
    assert_eq!(from_default("gong"), false);
    assert_eq!(
        server
            .post("/v1/cues", &json!({"instrument": "kenong"}))
            .await
            .status,
        202
    );
    server
        .post("/v1/cues", &json!({"instrument": "triangle"}))
        .await
        .problem(422);

    let back = server.post("/v1/packs/default/activate", &json!({})).await;
    assert_eq!(back.status, 200);
    assert_eq!(
        server
            .post("/v1/cues", &json!({"instrument": "kenong"}))
            .await
            .status,
        202
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_list_get_put_delete() {
    let server = TestServer::start().await;
    let list = server.get("/v1/plans").await;
    assert_eq!(list.status, 200);
    let templates = list.json.as_array().unwrap();
    assert_eq!(templates.len(), gongan::session::templates().len());
    let first = &templates[0];
    assert_eq!(first["template"], true);
    for key in ["id", "name", "description", "segments", "total_seconds"] {
        assert!(!first[key].is_null(), "{key}");
    }

    let template = server.get("/v1/plans/wheel-of-misfortune").await;
    assert_eq!(template.status, 200);
    assert_eq!(template.json["name"], "Wheel of Misfortune");
    let missing = server.get("/v1/plans/no-such-plan").await;
    missing.problem(404);
    assert_eq!(missing.json["type"], "urn:gongan:problem:no-such-plan");
    server.get("/v1/plans/Not_An_Id").await.problem(404);

    let plan: Value = serde_json::from_str(SHORT_PLAN).unwrap();
    let created = server.json(Method::PUT, "/v1/plans/drill", &plan).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.json["segments"][0]["density"], "full");
    let saved = std::fs::read_to_string(server.data.path().join("plans/drill.toml")).unwrap();
    assert!(saved.contains("title = \"Go\""), "{saved}");
    let plans_dir: Vec<_> = std::fs::read_dir(server.data.path().join("plans"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(plans_dir, ["drill.toml"], "no temporary file is left");
    let fetched = server.get("/v1/plans/drill").await;
    assert_eq!(fetched.json, created.json);
    let list = server.get("/v1/plans").await;
    let drill = list
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "drill")
        .unwrap()
        .clone();
    assert_eq!(drill["template"], false);
    assert_eq!(drill["total_seconds"], 8.0);
    let replaced = server.json(Method::PUT, "/v1/plans/drill", &plan).await;
    assert_eq!(replaced.status, 200);

    // Bad input changes nothing.
    let template = server
        .json(Method::PUT, "/v1/plans/wheel-of-misfortune", &plan)
        .await;
    template.problem(409);
    assert_eq!(template.json["type"], "urn:gongan:problem:plan-is-template");
    let bad = json!({"name": "Bad", "segments": [{"title": "x", "duration": "forever"}]});
    let invalid = server.json(Method::PUT, "/v1/plans/bad", &bad).await;
    let detail = invalid.problem(422);
    assert!(detail.contains("duration"), "{detail}");
    assert_eq!(invalid.json["type"], "urn:gongan:problem:invalid-plan");
    server
        .json(Method::PUT, "/v1/plans/Bad_Id", &plan)
        .await
        .problem(422);
    server
        .json(
            Method::PUT,
            "/v1/plans/typo",
            &json!({"name": "x", "segmnets": []}),
        )
        .await
        .problem(422);
    server
        .send(
            Method::PUT,
            "/v1/plans/x",
            &[("content-type", "application/json")],
            "{",
        )
        .await
        .problem(400);
    server
        .send(Method::PUT, "/v1/plans/x", &[], SHORT_PLAN)
        .await
        .problem(415);
    let huge = json!({"name": "x".repeat(80_000), "segments": []});
    server
        .json(Method::PUT, "/v1/plans/huge", &huge)
        .await
        .problem(413);
    server.get("/v1/plans/bad").await.problem(404);
    server.get("/v1/plans/huge").await.problem(404);

    server
        .json(Method::DELETE, "/v1/plans/wheel-of-misfortune", &json!({}))
        .await
        .problem(409);
    let deleted = server
        .send(
            Method::DELETE,
            "/v1/plans/drill",
            &[("content-type", "application/json")],
            "",
        )
        .await;
    assert_eq!(deleted.status, 204);
    server
        .send(
            Method::DELETE,
            "/v1/plans/drill",
            &[("content-type", "application/json")],
            "",
        )
        .await
        .problem(404);
    server.get("/v1/plans/drill").await.problem(404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_from_start_to_stop() {
    let server = TestServer::start().await;
    server.get("/v1/session").await.problem(404);
    for action in ["pause", "resume", "next", "previous", "stop"] {
        server
            .post(&format!("/v1/session/{action}"), &json!({}))
            .await
            .problem(409);
    }
    server
        .post("/v1/session/extend", &json!({"seconds": 60}))
        .await
        .problem(409);

    server
        .post("/v1/session", &json!({"plan_id": "no-such-plan"}))
        .await
        .problem(404);
    server
        .post("/v1/session", &json!({"plan_id": "../etc"}))
        .await
        .problem(404);
    server.post("/v1/session", &json!({})).await.problem(422);
    let plan: Value = serde_json::from_str(SHORT_PLAN).unwrap();
    server
        .post(
            "/v1/session",
            &json!({"plan_id": "wheel-of-misfortune", "plan": plan}),
        )
        .await
        .problem(422);
    server
        .post(
            "/v1/session",
            &json!({"plan_id": "wheel-of-misfortune", "speed": 0}),
        )
        .await
        .problem(422);
    server
        .post(
            "/v1/session",
            &json!({"plan_id": "wheel-of-misfortune", "speed": "fast"}),
        )
        .await
        .problem(422);
    let bad_plan = json!({"plan": {"name": "x", "segments": []}});
    server.post("/v1/session", &bad_plan).await.problem(422);
    server.get("/v1/session").await.problem(404);

    let mut events = server.events().await;
    let started = server
        .post(
            "/v1/session",
            &json!({"plan_id": "wheel-of-misfortune", "speed": 2}),
        )
        .await;
    assert_eq!(started.status, 201, "{}", started.text);
    assert_eq!(started.json["plan"], "Wheel of Misfortune");
    assert_eq!(started.json["speed"], 2.0);
    server
        .post("/v1/session", &json!({"plan_id": "practice-of-practice"}))
        .await
        .problem(409);
    assert_eq!(
        server.get("/v1/session").await.json["plan"],
        "Wheel of Misfortune"
    );
    assert_eq!(
        server.get("/v1/status").await.json["session"]["plan"],
        "Wheel of Misfortune"
    );

    let beat = server
        .post(
            "/v1/cues",
            &json!({"instrument": "kenong", "quantize": "beat"}),
        )
        .await;
    assert_eq!(beat.status, 202, "{}", beat.text);
    assert!(beat.json["frame"].as_u64().unwrap() >= server.conductor.clock().now().0);

    // Steer once the buka (a fixed opening phrase) is over and the first segment runs.
    events.until("segment_started").await;
    let paused = server.post("/v1/session/pause", &json!({})).await;
    assert_eq!(paused.status, 200);
    assert_eq!(paused.json["state"], "paused");
    server
        .post("/v1/session/pause", &json!({}))
        .await
        .problem(409);
    let resumed = server.post("/v1/session/resume", &json!({})).await;
    assert_eq!(resumed.status, 200);
    server
        .post("/v1/session/resume", &json!({}))
        .await
        .problem(409);

    for bad in [
        json!({"seconds": -1}),
        json!({"seconds": 0}),
        json!({"seconds": 1e9}),
        json!({"seconds": "60"}),
        json!({}),
    ] {
        server.post("/v1/session/extend", &bad).await.problem(422);
    }
    let before = server.get("/v1/session").await.json["remaining_seconds"]
        .as_f64()
        .unwrap();
    let extended = server
        .post("/v1/session/extend", &json!({"seconds": 60}))
        .await;
    assert_eq!(extended.status, 200);
    assert!(extended.json["remaining_seconds"].as_f64().unwrap() > before + 20.0);

    let next = server.post("/v1/session/next", &json!({})).await;
    assert_eq!(next.status, 200);
    assert_eq!(next.json["segment"], 1);
    let previous = server.post("/v1/session/previous", &json!({})).await;
    assert_eq!(previous.status, 200);
    assert_eq!(previous.json["segment"], 0);

    let stopped = server.post("/v1/session/stop", &json!({})).await;
    assert_eq!(stopped.status, 200, "{}", stopped.text);
    server
        .post("/v1/session/stop", &json!({}))
        .await
        .problem(409);
    // A finished session makes room for the next, which can be inline.
    let inline = server.post("/v1/session", &json!({"plan": plan})).await;
    assert_eq!(inline.status, 201, "{}", inline.text);
    assert_eq!(inline.json["plan"], "Drill");
    server.stop().await;
}

/// Issue 8: about a thousand far-future cues once silenced every later cue and every
/// session stroke for up to a day. Waiting cues are bounded; beyond the bound a future cue
/// is a 429, and "now" cues and the session's strokes still play.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_is_bounded_and_now_cues_and_strokes_always_play() {
    let server = TestServer::start().await;
    let mut events = server.events().await;
    events.until("status").await;
    let (mut accepted, mut refused) = (Vec::new(), 0);
    for i in 0..5000u32 {
        // Distinct instants, so none coalesces: half an hour ahead and later.
        let cue = json!({"instrument": "gong", "in_seconds": 1800.0 + f64::from(i) * 0.25});
        let reply = server.post("/v1/cues", &cue).await;
        match reply.status.as_u16() {
            202 => accepted.push(reply.json["id"].as_u64().unwrap()),
            429 => {
                let detail = reply.problem(429);
                assert!(detail.contains("waiting"), "{detail}");
                assert_eq!(reply.json["type"], "urn:gongan:problem:too-many-cues");
                refused += 1;
            }
            other => panic!("cue {i}: {other} {}", reply.text),
        }
    }
    assert_eq!(accepted.len(), 256, "the documented bound");
    assert_eq!(refused, 5000 - 256);
    let pending = server.get("/v1/cues").await;
    assert_eq!(pending.status, 200);
    let listed = pending.json["cues"].as_array().unwrap();
    assert_eq!(listed.len(), 256);
    assert!(listed[0]["in_seconds"].as_f64().unwrap() > 1700.0);
    assert_eq!(listed[0]["scheduled"], false);

    // Cancel one: gone from the list, and a second cancel is a 404.
    let id = accepted[10];
    let gone = server
        .send(Method::DELETE, &format!("/v1/cues/{id}"), &[], "")
        .await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    let after = server.get("/v1/cues").await;
    assert_eq!(after.json["cues"].as_array().unwrap().len(), 255);
    assert!(
        !after.json["cues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == id)
    );
    server
        .send(Method::DELETE, &format!("/v1/cues/{id}"), &[], "")
        .await
        .problem(404);
    server
        .send(Method::DELETE, "/v1/cues/banana", &[], "")
        .await
        .problem(404);

    // A cue for now still plays, and so does a session's first stroke.
    let now = server
        .post("/v1/cues", &json!({"instrument": "kenong", "variant": 2}))
        .await;
    assert_eq!(now.status, 202, "{}", now.text);
    let now_id = now.json["id"].as_u64().unwrap();
    assert!(now.json["heard_at"].as_str().unwrap().ends_with('Z'));
    let played = events.until("cue_played").await;
    assert_eq!(played["id"].as_u64().unwrap(), now_id);
    let plan: Value = serde_json::from_str(SHORT_PLAN).unwrap();
    let started = server.post("/v1/session", &json!({"plan": plan})).await;
    assert_eq!(started.status, 201, "{}", started.text);
    let stroke = events.until("stroke").await;
    assert_eq!(stroke["kind"]["type"], "buka");
    server.stop().await;
}

/// A CI job's `curl -X POST …/v1/session/next` sends no body and no content type: it
/// steers (here: there is no session, so 409), it is not refused for a missing type.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_with_no_body_needs_no_content_type() {
    let server = TestServer::start().await;
    let detail = server
        .send(Method::POST, "/v1/session/next", &[], "")
        .await
        .problem(409);
    assert!(detail.contains("no session"), "{detail}");
    server.stop().await;
}

/// A `POST /v1/cues` that declares a 70 KiB JSON body and sends none of it; the answer.
async fn oversized_request(server: &TestServer) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    let head = format!(
        "POST /v1/cues HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        server.port,
        70 * 1024
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    // Read until the problem document has arrived (the server may keep the connection).
    while !String::from_utf8_lossy(&answer).contains('}') {
        let n = tokio::time::timeout(crate::http_support::PATIENCE, stream.read(&mut buffer))
            .await
            .expect("an answer in time")
            .unwrap();
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..n]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}
