//! [`ServeProcess`]: a real `gongan serve` process on `--output null`, for the tests that
//! must stop, kill or restart it (SIGSTOP, `kill -9`, resume from the journal).

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::SystemTime;

use gongan::client::Client;
use serde_json::Value;

use crate::http_support::Events;

/// A running `gongan serve`; killed (SIGKILL) when dropped.
pub struct ServeProcess {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A client for it.
    pub client: Client,
    /// Its log lines up to the one saying where it listens.
    pub said: Vec<String>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl ServeProcess {
    /// Starts `gongan serve --output null` on `data_dir` (plus `args`) and returns once it
    /// says where it listens.
    pub async fn start(data_dir: &Path, args: &[&str]) -> ServeProcess {
        ServeProcess::start_with(
            |command| {
                command.arg("--data-dir").arg(data_dir);
            },
            args,
        )
        .await
    }

    /// Starts `gongan serve --output null --bind 127.0.0.1:PORT`, with what `configure` adds
    /// (its folder, environment, flags), then `args`.
    pub async fn start_with(configure: impl FnOnce(&mut Command), args: &[&str]) -> ServeProcess {
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_gongan"));
        command
            .args(["serve", "--output", "null", "--bind"])
            .arg(format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "gongan=info");
        configure(&mut command);
        let mut child = command.args(args).stderr(Stdio::piped()).spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let ready = tokio::task::spawn_blocking(move || {
            let mut lines = std::io::BufReader::new(stderr).lines();
            let mut seen = Vec::new();
            let found = lines.by_ref().map_while(Result::ok).find(|l| {
                seen.push(l.clone());
                l.contains("listening on")
            });
            // Keep draining so the server never blocks on a full pipe.
            std::thread::spawn(move || lines.for_each(drop));
            if found.is_some() { Ok(seen) } else { Err(seen) }
        });
        let said = match ready.await.unwrap() {
            Ok(said) => said,
            Err(said) => {
                let _ = child.kill();
                panic!("the server did not start; it said:\n{}", said.join("\n"));
            }
        };
        let base = format!("http://127.0.0.1:{port}");
        let client = Client::new(&base, None).unwrap();
        ServeProcess {
            child,
            port,
            base,
            client,
            said,
        }
    }

    /// Sends `signal` (`-STOP`, `-CONT`, `-TERM`…) to it.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} failed");
    }

    /// `kill -9`, and waits until it is gone: nothing gets the chance to be written.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// `GET`/`POST` through the client, as JSON.
    pub async fn call(&self, method: hyper::Method, path: &str, body: Option<&Value>) -> Value {
        self.client
            .call(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The raw answer (status and body) of a request, for errors.
    pub async fn send(&self, method: hyper::Method, path: &str, body: &str) -> (u16, Value) {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .unwrap();
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(connection);
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("host", format!("127.0.0.1:{}", self.port));
        if !body.is_empty() {
            request = request.header("content-type", "application/json");
        }
        let response = sender
            .send_request(
                request
                    .body(http_body_util::Full::new(hyper::body::Bytes::from(
                        body.to_owned(),
                    )))
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status().as_u16();
        let bytes = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// The event stream, from its `status` event on.
    pub async fn events(&self) -> Events {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .unwrap();
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(connection);
        let request = hyper::Request::get(format!("{}/v1/events", self.base))
            .header("host", format!("127.0.0.1:{}", self.port))
            .body(http_body_util::Empty::<hyper::body::Bytes>::new())
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let mut events = Events::new(response.into_body());
        events.until("status").await;
        events
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Seconds since the Unix epoch of an RFC 3339 UTC instant as gongan writes them
/// (`2026-11-22T09:30:00.125Z`).
pub fn utc_seconds(text: &str) -> f64 {
    let (date, time) = text.trim_end_matches('Z').split_once('T').unwrap();
    let mut d = date.split('-').map(|p| p.parse::<i64>().unwrap());
    let (y, m, day) = (d.next().unwrap(), d.next().unwrap(), d.next().unwrap());
    // Days from civil (Howard Hinnant).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut t = time.split(':');
    let h: f64 = t.next().unwrap().parse().unwrap();
    let min: f64 = t.next().unwrap().parse().unwrap();
    let s: f64 = t.next().unwrap().parse().unwrap();
    days as f64 * 86_400.0 + h * 3600.0 + min * 60.0 + s
}

/// Now, as seconds since the Unix epoch.
pub fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}
