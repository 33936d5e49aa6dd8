//! A real server on `127.0.0.1:0` with the null output, and the raw HTTP and SSE clients
//! the HTTP tests drive it with.

use std::time::Duration;

use gongan::config::Config;
use gongan::http::{Application, ShutdownHandle};
use gongan::session::ConductorHandle;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// How long any awaited event may take before a test fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A running server.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its port.
    pub port: u16,
    /// Its conductor (for its clock).
    pub conductor: ConductorHandle,
    /// Its data folder.
    pub data: tempfile::TempDir,
    shutdown: ShutdownHandle,
    task: tokio::task::JoinHandle<()>,
    http: Client<HttpConnector, Full<Bytes>>,
}

/// An answer.
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: hyper::HeaderMap,
    /// The body, as JSON (Null if not JSON).
    pub json: Value,
    /// The body as text.
    pub text: String,
}

impl Reply {
    /// Asserts a problem+json answer with `status` and returns its detail.
    #[track_caller]
    pub fn problem(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(
            self.headers["content-type"], "application/problem+json",
            "{}",
            self.text
        );
        assert_eq!(self.json["status"], status);
        assert!(
            self.json["type"]
                .as_str()
                .unwrap()
                .starts_with("urn:gongan:problem:")
        );
        assert!(self.json["title"].is_string());
        let detail = self.json["detail"].as_str().unwrap().to_owned();
        assert!(!detail.is_empty());
        detail
    }
}

impl TestServer {
    /// Sends only the head of a request that declares a `Content-Length` of `declared`
    /// bytes, and returns the answer's first bytes: a body over a cap must be refused
    /// before it is read (a client that went on writing what the server will never read
    /// could be reset before it reads the refusal).
    pub async fn answer_to_declared(
        &self,
        method: &str,
        path: &str,
        media_type: &str,
        declared: usize,
    ) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: {media_type}\r\nContent-Length: {declared}\r\n\r\n",
            self.port
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut answer = vec![0u8; 4096];
        let read = tokio::time::timeout(PATIENCE, stream.read(&mut answer))
            .await
            .expect("an answer without the body")
            .unwrap();
        String::from_utf8_lossy(&answer[..read]).into_owned()
    }

    /// Starts a server with the test defaults.
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// Starts a server with the test defaults changed by `change`.
    pub async fn start_with(change: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::start_in(tempfile::tempdir().unwrap(), change).await
    }

    /// Starts a server on the data folder `data` (one a stopped server left: see
    /// [`TestServer::stop_keeping_data`]) with the test defaults changed by `change`.
    pub async fn start_in(data: tempfile::TempDir, change: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = Config::for_tests(data.path());
        change(&mut config);
        let app = Application::build(config).await.expect("server starts");
        let port = app.local_addr().port();
        let conductor = app.conductor();
        let shutdown = app.shutdown_handle();
        let task = tokio::spawn(app.run_until_stopped());
        TestServer {
            base: format!("http://127.0.0.1:{port}"),
            port,
            conductor,
            data,
            shutdown,
            task,
            http: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Sends a request with these headers (a JSON content type is not added).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Reply {
        let response = self.raw(method, path, headers, body).await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = tokio::time::timeout(PATIENCE, response.into_body().collect())
            .await
            .expect("body in time")
            .unwrap()
            .to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Reply {
            status,
            headers,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    /// Sends a request and returns the response with its body unread.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Response<Incoming> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(body.into())).unwrap();
        tokio::time::timeout(PATIENCE, self.http.request(request))
            .await
            .expect("answer in time")
            .expect("request")
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, &[], Bytes::new()).await
    }

    /// `method path` with a JSON body, as a well-behaved client sends it.
    pub async fn json(&self, method: Method, path: &str, body: &Value) -> Reply {
        self.send(
            method,
            path,
            &[("content-type", "application/json")],
            body.to_string(),
        )
        .await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.json(Method::POST, path, body).await
    }

    /// Opens the event stream (headers received: subscribed from here on).
    pub async fn events(&self) -> Events {
        self.events_at("/v1/events", &[]).await
    }

    /// Opens an event stream at `path` with `headers`.
    pub async fn events_at(&self, path: &str, headers: &[(&str, &str)]) -> Events {
        let response = self.raw(Method::GET, path, headers, Bytes::new()).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Events {
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    /// The id the next accepted cue will get: a probe that proves no cue was accepted
    /// since the last one (each probe is itself a cue, of a distinct gain).
    pub async fn next_cue_id(&self, probe: u32) -> u64 {
        let reply = self
            .post(
                "/v1/cues",
                &serde_json::json!({"instrument": "ketuk", "gain_db": -40.0 - probe as f64 / 10.0}),
            )
            .await;
        assert_eq!(reply.status, 202, "{}", reply.text);
        reply.json["id"].as_u64().unwrap()
    }

    /// A handle that stops the server.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Stops the server and waits until it has.
    pub async fn stop(self) {
        self.stop_keeping_data().await;
    }

    /// Stops the server, waits until it has, and hands back its data folder for the next.
    pub async fn stop_keeping_data(self) -> tempfile::TempDir {
        self.shutdown.shutdown();
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("server stops in time")
            .unwrap();
        self.data
    }
}

/// A Server-Sent Events reader.
pub struct Events {
    body: Incoming,
    buffer: String,
}

impl Events {
    /// Reads the events of an answer from `GET /v1/events` (of any server, a child
    /// process's too).
    pub fn new(body: Incoming) -> Events {
        Events {
            body,
            buffer: String::new(),
        }
    }

    /// The next event `(kind, data)`, or `None` when the stream ends.
    pub async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut kind = String::from("message");
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(k) = line.strip_prefix("event:") {
                        kind = k.trim().to_owned();
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data.push_str(d.trim_start());
                    }
                }
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                return Some((kind, serde_json::from_str(&data).unwrap()));
            }
            let frame = tokio::time::timeout(PATIENCE, self.body.frame())
                .await
                .expect("an event in time")?
                .ok()?;
            if let Ok(data) = frame.into_data() {
                self.buffer.push_str(&String::from_utf8_lossy(&data));
            }
        }
    }

    /// Skips events until one of `kind`, and returns its data.
    pub async fn until(&mut self, kind: &str) -> Value {
        loop {
            let (k, data) = self.next().await.expect("stream still open");
            if k == kind {
                return data;
            }
        }
    }
}

/// Asserts a problem of `status` and type `slug`; returns its detail.
#[track_caller]
pub fn problem(reply: &Reply, status: u16, slug: &str) -> String {
    let detail = reply.problem(status);
    assert_eq!(
        reply.json["type"],
        format!("urn:gongan:problem:{slug}"),
        "{detail}"
    );
    detail
}

/// Runs a test's async part on a runtime of its own with two workers, as the machine the
/// bars are for has two cores (what `#[tokio::test]` would give is one): for the tests
/// that hold a lock, or run an OS thread, outside the async part.
pub fn block_on(test: impl Future<Output = ()>) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(test);
}
