//! The guard in front of every route: `Host` allow-list (DNS rebinding), body caps,
//! token, `Origin` and content type on state-changing requests (cross-site requests).
//!
//! One middleware, checked in that order, so every route gets the same protection and
//! a refused request never reaches a handler.

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::json::is_json;
use super::problem::ApiError;
use super::state::AppState;
use crate::config::Token;

/// The name of the cookie `POST /v1/login` sets.
pub const TOKEN_COOKIE: &str = "gongan_token";

/// Host names always accepted (with the server's port).
const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// What the guard checks against.
#[derive(Debug, Clone)]
pub struct GuardConfig {
    /// The port the server listens on (loopback names must carry it).
    pub port: u16,
    /// Extra accepted hosts: `name` (any port) or `name:port`.
    pub allowed_hosts: Vec<String>,
    /// The token, when the API needs one.
    pub token: Option<Token>,
    /// The body cap, checked against `Content-Length` up front.
    pub body_limit: usize,
}

impl GuardConfig {
    /// Whether `host` (a `Host` header, or an origin's authority, lowercase) is ours.
    /// `default_port` is the port a missing one means (80 for `http`).
    #[must_use]
    pub fn host_allowed(&self, host: &str, default_port: u16) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let (name, port) = split_host(&host);
        let port = match port {
            Some(p) => match p.parse::<u16>() {
                Ok(p) => p,
                Err(_) => return false,
            },
            None => default_port,
        };
        if LOOPBACK_NAMES.contains(&name) && port == self.port {
            return true;
        }
        self.allowed_hosts.iter().any(|allowed| {
            let (a_name, a_port) = split_host(allowed);
            a_name == name && a_port.is_none_or(|p| p.parse() == Ok(port))
        })
    }

    /// Whether an `Origin` header value is ours: `http(s)://` + an allowed host.
    #[must_use]
    pub fn origin_allowed(&self, origin: &str) -> bool {
        let (authority, default_port) = if let Some(rest) = origin.strip_prefix("http://") {
            (rest, 80)
        } else if let Some(rest) = origin.strip_prefix("https://") {
            (rest, 443)
        } else {
            return false;
        };
        !authority.contains('/') && self.host_allowed(authority, default_port)
    }
}

/// Splits `name:port` (and `[v6]:port`).
fn split_host(host: &str) -> (&str, Option<&str>) {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(end) => {
                let (name, rest) = host.split_at(end + 1);
                (name, rest.strip_prefix(':'))
            }
            None => (host, None),
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    }
}

/// Whether a method changes state (and so needs JSON and an allowed origin).
fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Routes anyone may reach without the token: liveness, the page, the login.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/" | "/index.html" | "/app.js" | "/style.css" | "/v1/login"
    )
}

/// The token a request carries: bearer header, login cookie, or (for the event stream,
/// which a browser's `EventSource` opens without custom headers) `?token=`.
fn presented_token(request: &Request) -> Option<String> {
    let headers = request.headers();
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim().to_owned());
    }
    if let Some(cookie) = cookie(headers, TOKEN_COOKIE) {
        return Some(cookie);
    }
    if request.method() == Method::GET && request.uri().path() == "/v1/events" {
        let query: Query<std::collections::HashMap<String, String>> =
            Query::try_from_uri(request.uri()).ok()?;
        return query.0.get("token").cloned();
    }
    None
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The outer middleware, in front of every request (unknown routes too): the `Host`
/// allow-list and the body cap.
pub async fn host_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match check_host(state.guard(), &request) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

/// The inner middleware, on every route once its path and method matched (so a wrong
/// method is a 405, not a 415): token, then `Origin` and content type for state changes.
pub async fn request_guard(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match check_request(state.guard(), &request) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

fn check_host(guard: &GuardConfig, request: &Request) -> Result<(), ApiError> {
    let headers = request.headers();
    // HTTP/1.1 requires Host; its absence is as suspicious as a foreign one.
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !guard.host_allowed(host, 80) {
        return Err(ApiError::Forbidden(format!(
            "Host '{host}' is not served here: use http://127.0.0.1:{}/ or add the name with --allow-host",
            guard.port
        )));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > guard.body_limit as u64) {
        return Err(ApiError::TooLarge(guard.body_limit));
    }
    Ok(())
}

fn check_request(guard: &GuardConfig, request: &Request) -> Result<(), ApiError> {
    let headers = request.headers();
    if let Some(token) = &guard.token
        && !is_public(request.uri().path())
    {
        let ok = presented_token(request).is_some_and(|t| token.matches(t.as_bytes()));
        if !ok {
            return Err(ApiError::Unauthorized);
        }
    }
    if changes_state(request.method()) {
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            if !guard.origin_allowed(origin) {
                return Err(ApiError::Forbidden(format!(
                    "requests from origin '{origin}' are refused: only this server's own page may change things"
                )));
            }
        }
        // A body must say it is JSON; a request with no body (a CI job's `curl -X POST
        // …/next`, a DELETE) has nothing to declare.
        if has_body(headers) && !is_json(headers) {
            return Err(ApiError::UnsupportedMediaType);
        }
    }
    Ok(())
}

/// Whether a request declares a body: a non-zero `Content-Length`, or any
/// `Transfer-Encoding` (a chunked body of unknown length).
fn has_body(headers: &axum::http::HeaderMap) -> bool {
    let declared = headers.get(header::CONTENT_LENGTH);
    headers.contains_key(header::TRANSFER_ENCODING)
        || declared.is_some_and(|v| v.to_str().map_or(true, |n| n.trim() != "0"))
}

#[cfg(test)]
mod test {
    use super::*;

    fn guard() -> GuardConfig {
        GuardConfig {
            port: 7070,
            allowed_hosts: vec!["gong.example.org".into(), "box:8080".into()],
            token: None,
            body_limit: 1024,
        }
    }

    #[test]
    fn hosts() {
        let g = guard();
        for ok in [
            "127.0.0.1:7070",
            "localhost:7070",
            "LOCALHOST:7070",
            "[::1]:7070",
            "gong.example.org",
            "gong.example.org:443",
            "box:8080",
        ] {
            assert!(g.host_allowed(ok, 80), "{ok}");
        }
        for bad in [
            "",
            "127.0.0.1",
            "127.0.0.1:7071",
            "evil.com:7070",
            "localhost.evil.com:7070",
            "box:8081",
            "box",
            "[::1]",
            "127.0.0.1:x",
        ] {
            assert!(!g.host_allowed(bad, 80), "{bad}");
        }
    }

    #[test]
    fn origins() {
        let g = guard();
        assert!(g.origin_allowed("http://127.0.0.1:7070"));
        assert!(g.origin_allowed("https://gong.example.org"));
        assert!(!g.origin_allowed("null"));
        assert!(!g.origin_allowed("http://evil.com"));
        assert!(!g.origin_allowed("http://127.0.0.1:7070/x"));
        assert!(!g.origin_allowed("ftp://127.0.0.1:7070"));
    }
}
