//! [`Client`]: the typed client of gongan's HTTP API, on `reqwest` — for `gongan cue`,
//! `gongan session`, the tests and benchmarks. Its bodies are the server's own types
//! ([`crate::api`]), so the two cannot disagree. `http://` and `https://` (a server behind
//! a TLS-terminating proxy) both work.

use std::time::Duration;

use axum::body::Bytes;
use reqwest::{Method, StatusCode, header};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use thiserror::Error;

use crate::api::{ActedBy, CueAnswer, CueRequest, Jump, StartSession, TimeChange};
use crate::session::{Actor, Snapshot, SteerCommand};
use crate::store::PackInfo;

/// Where the client looks for a server unless told otherwise.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:7070";
/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a pack upload may take: tens of megabytes over a slow link.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Why a call failed; each displays as one line.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The `--server` text is not a server URL.
    #[error(
        "--server {0:?} is not a server URL: use http://HOST:PORT or https://HOST, like {DEFAULT_SERVER}"
    )]
    BadServer(String),
    /// No answer.
    #[error("cannot reach the gongan server at {server}: {reason} (is `gongan serve` running?)")]
    Unreachable {
        /// The server.
        server: String,
        /// Why.
        reason: String,
    },
    /// The server refused the request.
    #[error("the server refused ({status}): {detail}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Its problem detail.
        detail: String,
    },
    /// The answer was not what a gongan server sends.
    #[error("the server at {server} answered something unexpected: {reason}")]
    BadAnswer {
        /// The server.
        server: String,
        /// What was wrong.
        reason: String,
    },
}

/// A raw answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The `Content-Type`.
    pub content_type: String,
    /// The body.
    pub body: Bytes,
}

impl Answer {
    /// The body as JSON (`Null` when it is not JSON).
    #[must_use]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// A `reqwest` client builder with TLS ready (rustls with the `ring` provider): the one way
/// gongan builds HTTP clients, for its API client and its notifications.
pub fn http_builder() -> reqwest::ClientBuilder {
    // Installing twice is harmless: the first provider stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .user_agent(concat!("gongan/", env!("CARGO_PKG_VERSION")))
}

/// A client of one server.
#[derive(Clone)]
pub struct Client {
    server: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl Client {
    /// A client of `server` (`http://HOST:PORT` or `https://HOST`), sending `token` when
    /// given.
    ///
    /// # Errors
    /// The URL is not a plain `http(s)://HOST[:PORT]`, or no client can be built.
    pub fn new(server: &str, token: Option<String>) -> Result<Client, ClientError> {
        let trimmed = server.trim().trim_end_matches('/');
        let url =
            reqwest::Url::parse(trimmed).map_err(|_| ClientError::BadServer(server.to_owned()))?;
        let plain = matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some()
            && url.username().is_empty()
            && url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none();
        if !plain {
            return Err(ClientError::BadServer(server.to_owned()));
        }
        let http = http_builder()
            .build()
            .map_err(|e| ClientError::BadServer(format!("{server}: {e}")))?;
        Ok(Client {
            server: trimmed.to_owned(),
            token: token.filter(|t| !t.is_empty()),
            http,
        })
    }

    /// The server's base URL.
    #[must_use]
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Sends `method path` with an optional JSON body (sent as `application/json`; no
    /// body, no content type) and returns the raw answer, whatever its status.
    ///
    /// # Errors
    /// The server cannot be reached or does not answer in time.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, ClientError> {
        self.send_body(method, path, body).await
    }

    async fn send_body<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<Answer, ClientError> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.server))
            .timeout(TIMEOUT)
            .header(header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        self.answer(request, || format!("no answer in {} s", TIMEOUT.as_secs()))
            .await
    }

    /// Sends `request` with the token, and reads the whole answer; `timed_out` says what a
    /// timeout means for this request.
    async fn answer(
        &self,
        mut request: reqwest::RequestBuilder,
        timed_out: impl FnOnce() -> String,
    ) -> Result<Answer, ClientError> {
        let unreachable = |reason: String| ClientError::Unreachable {
            server: self.server.clone(),
            reason,
        };
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                unreachable(timed_out())
            } else {
                unreachable(error_chain(&e))
            }
        })?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = response
            .bytes()
            .await
            .map_err(|e| unreachable(error_chain(&e)))?;
        Ok(Answer {
            status,
            content_type,
            body,
        })
    }

    /// Like [`Client::send`], but a non-2xx answer is an error carrying the problem's
    /// detail, and the answer is JSON (`Null` for an empty one).
    ///
    /// # Errors
    /// Unreachable, refused (with the server's detail), or not JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        let answer = self.send(method, path, body).await?;
        self.read(answer)
    }

    async fn typed<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let answer = self.send_body(method, path, body).await?;
        let value = self.read(answer)?;
        serde_json::from_value(value).map_err(|e| ClientError::BadAnswer {
            server: self.server.clone(),
            reason: format!("not the answer of {path} ({e})"),
        })
    }

    fn read(&self, answer: Answer) -> Result<Value, ClientError> {
        if !answer.status.is_success() {
            let problem = answer.json();
            let detail = problem["detail"].as_str().map_or_else(
                || String::from_utf8_lossy(&answer.body).trim().to_owned(),
                str::to_owned,
            );
            return Err(ClientError::Refused {
                status: answer.status.as_u16(),
                detail,
            });
        }
        if answer.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&answer.body).map_err(|e| ClientError::BadAnswer {
            server: self.server.clone(),
            reason: format!("not JSON ({e})"),
        })
    }

    /// `POST /v1/cues`.
    ///
    /// # Errors
    /// As [`Client::call`].
    pub async fn cue(&self, request: &CueRequest) -> Result<CueAnswer, ClientError> {
        self.typed(Method::POST, "/v1/cues", Some(request)).await
    }

    /// `POST /v1/session`.
    ///
    /// # Errors
    /// As [`Client::call`].
    pub async fn start(&self, request: &StartSession) -> Result<Snapshot, ClientError> {
        self.typed(Method::POST, "/v1/session", Some(request)).await
    }

    /// `POST /v1/session/{command}` with the body the command takes (its seconds, its
    /// segment), acted by `by`.
    ///
    /// # Errors
    /// As [`Client::call`].
    pub async fn steer(
        &self,
        command: SteerCommand,
        by: Option<Actor>,
    ) -> Result<Snapshot, ClientError> {
        let path = format!("/v1/session/{}", command.name());
        match command {
            SteerCommand::Extend(length)
            | SteerCommand::Shorten(length)
            | SteerCommand::SetLeft(length) => {
                let body = TimeChange {
                    seconds: length.as_secs_f64(),
                    by,
                };
                self.typed(Method::POST, &path, Some(&body)).await
            }
            SteerCommand::Jump(segment) => {
                let body = Jump { segment, by };
                self.typed(Method::POST, &path, Some(&body)).await
            }
            // The server rolls the wheel itself: the caller's roll is not sent.
            SteerCommand::Pause
            | SteerCommand::Resume
            | SteerCommand::Next
            | SteerCommand::Previous
            | SteerCommand::Spin(_)
            | SteerCommand::Stop => match by {
                Some(by) => {
                    self.typed(Method::POST, &path, Some(&ActedBy { by: Some(by) }))
                        .await
                }
                None => self.typed::<Value, _>(Method::POST, &path, None).await,
            },
        }
    }

    /// `GET /v1/session`.
    ///
    /// # Errors
    /// As [`Client::call`] (404 when no session was started).
    pub async fn session(&self) -> Result<Snapshot, ClientError> {
        self.typed::<Value, _>(Method::GET, "/v1/session", None)
            .await
    }

    /// `PUT /v1/packs/{name}` with `archive`, a tar, tar.gz or zip of a pack sent as
    /// `media_type`: the pack as installed, and whether it replaced one of that name.
    ///
    /// # Errors
    /// As [`Client::call`]; the server's refusal names the archive entry or pack file.
    pub async fn upload_pack(
        &self,
        name: &str,
        archive: Vec<u8>,
        media_type: &str,
    ) -> Result<(PackInfo, bool), ClientError> {
        let mut url = reqwest::Url::parse(&self.server)
            .map_err(|_| ClientError::BadServer(self.server.clone()))?;
        url.path_segments_mut()
            .map_err(|()| ClientError::BadServer(self.server.clone()))?
            .extend(["v1", "packs", name]);
        let request = self
            .http
            .put(url)
            .timeout(UPLOAD_TIMEOUT)
            .header(header::ACCEPT, "application/json")
            .header(header::CONTENT_TYPE, media_type)
            .body(archive);
        let answer = self
            .answer(request, || {
                format!("the upload took over {} s", UPLOAD_TIMEOUT.as_secs())
            })
            .await?;
        let status = answer.status;
        let value = self.read(answer)?;
        let info = serde_json::from_value(value).map_err(|e| ClientError::BadAnswer {
            server: self.server.clone(),
            reason: format!("not the answer of PUT /v1/packs/{name} ({e})"),
        })?;
        Ok((info, status == StatusCode::OK))
    }
}

/// The error and its sources on one line ("client error (Connect): tcp connect error:
/// Connection refused").
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn only_plain_server_urls() {
        assert!(Client::new("http://127.0.0.1:7070", None).is_ok());
        assert!(Client::new("http://localhost:7070/", None).is_ok());
        assert!(Client::new("https://gong.example.org", None).is_ok());
        for bad in [
            "127.0.0.1:7070",
            "http://x/v1",
            "ftp://x",
            "",
            "http://user:pw@x",
            "http://x?y",
        ] {
            assert!(
                matches!(Client::new(bad, None), Err(ClientError::BadServer(_))),
                "{bad}"
            );
        }
    }
}
