//! [`Client`]: a small client of gongan's HTTP API, for `gongan cue` and `gongan session`
//! (and the tests).
//!
//! Plain HTTP only: the server listens on loopback by default; a remote server belongs
//! behind a TLS-terminating proxy, reached from its own host.

use std::time::Duration;

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode, Uri, header};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use thiserror::Error;

/// Where the client looks for a server unless told otherwise.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:7070";
/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why a call failed; each displays as one line.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The `--server` text is not a plain `http://` URL.
    #[error("--server {0:?} is not a server URL: use http://HOST:PORT, like {DEFAULT_SERVER}")]
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

/// A client of one server.
#[derive(Clone)]
pub struct Client {
    server: String,
    token: Option<String>,
    http: HyperClient<HttpConnector, Full<Bytes>>,
}

impl Client {
    /// A client of `server` (`http://HOST:PORT`), sending `token` when given.
    ///
    /// # Errors
    /// The URL is not plain `http://HOST[:PORT]`.
    pub fn new(server: &str, token: Option<String>) -> Result<Client, ClientError> {
        let trimmed = server.trim().trim_end_matches('/');
        let uri: Uri = trimmed
            .parse()
            .map_err(|_| ClientError::BadServer(server.to_owned()))?;
        let plain = uri.scheme_str() == Some("http")
            && uri.authority().is_some()
            && uri
                .path_and_query()
                .is_none_or(|p| p.as_str() == "/" || p.as_str().is_empty());
        if !plain {
            return Err(ClientError::BadServer(server.to_owned()));
        }
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(3)));
        connector.set_nodelay(true);
        Ok(Client {
            server: trimmed.to_owned(),
            token: token.filter(|t| !t.is_empty()),
            http: HyperClient::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// The server's base URL.
    #[must_use]
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Sends `method path` with an optional JSON body (state-changing requests always go
    /// as JSON, as the server requires) and returns the raw answer, whatever its status.
    ///
    /// # Errors
    /// The server cannot be reached or does not answer in time.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, ClientError> {
        let unreachable = |reason: String| ClientError::Unreachable {
            server: self.server.clone(),
            reason,
        };
        let mut request = Request::builder()
            .method(method.clone())
            .uri(format!("{}{path}", self.server))
            .header(header::ACCEPT, "application/json");
        if method != Method::GET {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        if let Some(token) = &self.token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = body.map(Value::to_string).unwrap_or_default();
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| ClientError::BadServer(e.to_string()))?;
        let call = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| unreachable(error_chain(&e)))?;
            let status = response.status();
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| unreachable(e.to_string()))?
                .to_bytes();
            Ok(Answer {
                status,
                content_type,
                body,
            })
        };
        tokio::time::timeout(TIMEOUT, call)
            .await
            .map_err(|_| unreachable(format!("no answer in {} s", TIMEOUT.as_secs())))?
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
    fn only_plain_http_urls() {
        assert!(Client::new("http://127.0.0.1:7070", None).is_ok());
        assert!(Client::new("http://localhost:7070/", None).is_ok());
        for bad in ["127.0.0.1:7070", "https://x", "http://x/v1", "ftp://x", ""] {
            assert!(
                matches!(Client::new(bad, None), Err(ClientError::BadServer(_))),
                "{bad}"
            );
        }
    }
}
