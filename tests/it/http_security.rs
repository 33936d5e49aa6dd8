//! PRODUCT.md §5 on the wire (issue 4): Host allow-list, Origin, token, body caps and the
//! header timeout. Every refusal is a problem+json 4xx that changes nothing.

use std::time::Duration;

use hyper::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::http_support::{PATIENCE, TestServer};

const TOKEN: &str = "0123456789abcdef-test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_host_is_refused_on_every_route() {
    let server =
        TestServer::start_with(|c| c.allowed_hosts = vec!["gong.example.org".into()]).await;
    let before = server.next_cue_id(0).await;
    let evil = [("host", "evil.example.com:80")];
    let json_evil = [
        ("host", "evil.example.com"),
        ("content-type", "application/json"),
    ];
    for path in [
        "/healthz",
        "/",
        "/v1/status",
        "/v1/events",
        "/v1/plans",
        "/nope",
    ] {
        server.send(Method::GET, path, &evil, "").await.problem(403);
    }
    let rebound = format!("localhost:{}", server.port + 1);
    server
        .send(Method::GET, "/v1/status", &[("host", &rebound)], "")
        .await
        .problem(403);
    let cue = r#"{"instrument": "gong"}"#;
    server
        .send(Method::POST, "/v1/cues", &json_evil, cue)
        .await
        .problem(403);
    server
        .send(Method::PUT, "/v1/plans/x", &json_evil, "{}")
        .await
        .problem(403);
    assert_eq!(server.next_cue_id(1).await, before + 1, "no cue was played");

    let localhost = format!("localhost:{}", server.port);
    let ok = server
        .send(Method::GET, "/healthz", &[("host", &localhost)], "")
        .await;
    assert_eq!(ok.status, 200);
    let named = server
        .send(Method::GET, "/healthz", &[("host", "gong.example.org")], "")
        .await;
    assert_eq!(named.status, 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_origin_cannot_change_anything() {
    let server = TestServer::start().await;
    let before = server.next_cue_id(0).await;
    let cue = r#"{"instrument": "gong"}"#;
    for origin in ["http://evil.example.com", "null", "http://127.0.0.1:1"] {
        let headers = [("origin", origin), ("content-type", "application/json")];
        let detail = server
            .send(Method::POST, "/v1/cues", &headers, cue)
            .await
            .problem(403);
        assert!(detail.contains("origin"), "{detail}");
        server
            .send(
                Method::POST,
                "/v1/session",
                &headers,
                r#"{"plan_id": "morning-vistas"}"#,
            )
            .await
            .problem(403);
    }
    server.get("/v1/session").await.problem(404);
    assert_eq!(server.next_cue_id(1).await, before + 1, "no cue was played");

    let own = format!("http://127.0.0.1:{}", server.port);
    let headers = [
        ("origin", own.as_str()),
        ("content-type", "application/json"),
    ];
    let reply = server.send(Method::POST, "/v1/cues", &headers, cue).await;
    assert_eq!(reply.status, 202);
    assert!(reply.headers.get("access-control-allow-origin").is_none());
    // Reading is not state-changing: a foreign Origin on a GET is answered (without CORS
    // headers, so a browser will not hand it to the foreign page).
    let read = server
        .send(
            Method::GET,
            "/v1/status",
            &[("origin", "http://evil.example.com")],
            "",
        )
        .await;
    assert_eq!(read.status, 200);
    assert!(read.headers.get("access-control-allow-origin").is_none());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_required_by_header_cookie_or_event_query() {
    let server = TestServer::start_with(|c| {
        c.token = Some(gongan::config::Token::parse(TOKEN).unwrap());
    })
    .await;
    let bearer = format!("Bearer {TOKEN}");
    let json_auth = [
        ("content-type", "application/json"),
        ("authorization", bearer.as_str()),
    ];

    // Public: liveness and the page.
    assert_eq!(server.get("/healthz").await.status, 200);
    assert_eq!(server.get("/").await.status, 200);

    let missing = server.get("/v1/status").await;
    missing.problem(401);
    assert!(missing.headers.contains_key("www-authenticate"));
    server
        .send(
            Method::GET,
            "/v1/status",
            &[("authorization", "Bearer wrong-token-000000")],
            "",
        )
        .await
        .problem(401);
    server
        .send(Method::GET, "/v1/status", &[("authorization", TOKEN)], "")
        .await
        .problem(401);
    server
        .post("/v1/cues", &json!({"instrument": "gong"}))
        .await
        .problem(401);
    server.get("/v1/events").await.problem(401);
    server.get("/v1/events?token=nope").await.problem(401);
    server
        .get(&format!("/v1/status?token={TOKEN}"))
        .await
        .problem(401);

    let ok = server
        .send(Method::GET, "/v1/status", &[("authorization", &bearer)], "")
        .await;
    assert_eq!(ok.status, 200);
    let cue = server
        .send(
            Method::POST,
            "/v1/cues",
            &json_auth,
            r#"{"instrument": "gong"}"#,
        )
        .await;
    assert_eq!(cue.status, 202);
    assert_eq!(cue.json["id"], 1, "the refused cue was not played");

    // The page logs in once; the cookie then carries the token, EventSource included.
    server
        .post("/v1/login", &json!({"token": "wrong-token-000000"}))
        .await
        .problem(401);
    server
        .post("/v1/login", &json!({"token": 5}))
        .await
        .problem(422);
    let login = server.post("/v1/login", &json!({"token": TOKEN})).await;
    assert_eq!(login.status, 204);
    let cookie = login.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();
    assert!(pair.starts_with("gongan_session="), "{pair}");
    assert!(
        !cookie.contains(TOKEN),
        "the cookie is a session id, never the token"
    );
    let by_cookie = server
        .send(Method::GET, "/v1/status", &[("cookie", &pair)], "")
        .await;
    assert_eq!(by_cookie.status, 200);
    for forged in [
        "gongan_session=wrong".to_owned(),
        format!("gongan_session={TOKEN}"),
        format!("gongan_token={TOKEN}"),
    ] {
        server
            .send(Method::GET, "/v1/status", &[("cookie", &forged)], "")
            .await
            .problem(401);
    }
    // A logout ends the session: the same cookie no longer works.
    let logout = server
        .send(Method::POST, "/v1/logout", &[("cookie", &pair)], "")
        .await;
    assert_eq!(logout.status, 204);
    assert!(
        logout.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    server
        .send(Method::GET, "/v1/status", &[("cookie", &pair)], "")
        .await
        .problem(401);
    let mut events = server
        .events_at(&format!("/v1/events?token={TOKEN}"), &[])
        .await;
    assert_eq!(events.next().await.unwrap().0, "status");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_rate_limited_for_everyone() {
    let server = TestServer::start_with(|c| {
        c.token = Some(gongan::config::Token::parse(TOKEN).unwrap());
    })
    .await;
    let mut refused = 0;
    let mut throttled = None;
    for _ in 0..50 {
        let answer = server
            .post("/v1/login", &json!({"token": "wrong-token-000000"}))
            .await;
        match answer.status.as_u16() {
            401 => refused += 1,
            429 => {
                throttled = Some(answer);
                break;
            }
            other => panic!("unexpected {other}: {}", answer.text),
        }
    }
    assert_eq!(refused, 10, "a burst of ten wrong tokens, then the limit");
    let throttled = throttled.expect("the limit applies");
    throttled.problem(429);
    assert_eq!(throttled.json["type"], "urn:gongan:problem:too-many-logins");
    let retry: u64 = throttled.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry), "{retry}");
    // While limited, even the right token is refused: the limit must not tell a guesser
    // which token is right.
    server
        .post("/v1/login", &json!({"token": TOKEN}))
        .await
        .problem(429);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_are_parsed_strictly_and_every_answer_says_nosniff() {
    let server = TestServer::start().await;
    let port = server.port;
    for host in [
        format!("127.0.0.1:+{port}"),
        format!("127.0.0.1:{port}x"),
        format!("evil.example.com@127.0.0.1:{port}"),
        format!("127.0.0.1:{port}:{port}"),
    ] {
        server
            .send(Method::GET, "/healthz", &[("host", &host)], "")
            .await
            .problem(403);
    }
    // Two Host headers (hyper's client would send its own as well).
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil.example.com\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 403") || answer.starts_with("HTTP/1.1 400"),
        "{answer}"
    );
    for path in [
        "/",
        "/healthz",
        "/v1/status",
        "/no/such/route",
        "/hooks/slack",
    ] {
        let answer = server.get(path).await;
        assert_eq!(
            answer.headers["x-content-type-options"], "nosniff",
            "{path}"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_capped_even_when_chunked_and_slow_headers_are_cut_off() {
    let server = TestServer::start_with(|c| {
        c.header_read_timeout = Duration::from_millis(300);
    })
    .await;
    // Declared too large: refused before it is read, on any route.
    let declared = 65 * 1024;
    for (method, path, kind) in [
        ("POST", "/v1/cues", "application/json"),
        ("POST", "/v1/session/pause", "application/json"),
        ("POST", "/v1/login", "application/json"),
        ("GET", "/healthz", "text/plain"),
    ] {
        let answer = server
            .answer_to_declared(method, path, kind, declared)
            .await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(
            answer.contains("application/problem+json"),
            "{path}: {answer}"
        );
    }

    // Chunked, with no length: cut off at the cap while reading. The chunk promises more
    // than the cap, and the client sends one byte past the cap and then waits: the server
    // has read everything it was sent when it refuses, so its close cannot reset the
    // connection before the client reads the 413.
    let cap = gongan::config::DEFAULT_BODY_LIMIT;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    let head = format!(
        "POST /v1/cues HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n",
        server.port,
        2 * cap
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&vec![b'a'; cap + 1]).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("the 413 comes once the cap is passed")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");

    // A client that never finishes its headers is disconnected.
    let mut slow = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(PATIENCE, slow.read_to_end(&mut rest)).await;
    assert!(
        closed.is_ok(),
        "the server kept a slow client's connection open"
    );
    assert_eq!(server.get("/healthz").await.status, 200);
    server.stop().await;
}
