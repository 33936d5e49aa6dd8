//! The guards of the route groups (PRODUCT.md §5). Every request passes [`host_guard`]
//! (the `Host` allow-list against DNS rebinding); then each group has its own policy:
//!
//! - public (the page, `/healthz`, `POST /v1/login`): nothing more, except that the login
//!   is a browser's state change ([`browser_guard`]: `Origin`, JSON);
//! - `/v1`: [`api_guard`] — the token or a login session, then `Origin` and JSON on
//!   state changes;
//! - the pack upload (`PUT /v1/packs/{name}`): [`upload_guard`] — the same, except that
//!   the body is an archive, not JSON (its handler checks the media type);
//! - `/hooks/*`: each receiver checks its tool's own signature or token; the guard only
//!   caps the body ([`BodyCap`]);
//! - `/l/*`: the link's secret is the authority.
//!
//! A refused request never reaches a handler.

use std::time::Duration;

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;

use super::json::is_json;
use super::logins::SESSION_COOKIE;
use super::problem::ApiError;
use super::state::AppState;
use crate::config::Token;

/// Host names always accepted (with the server's port).
const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// What the guards check against.
#[derive(Debug, Clone)]
pub struct GuardConfig {
    /// The port the server listens on (loopback names must carry it).
    pub port: u16,
    /// Extra accepted hosts: `name` (any port) or `name:port`.
    pub allowed_hosts: Vec<String>,
    /// The token, when the API needs one.
    pub token: Option<Token>,
    /// The body cap of `/v1` and the page, checked against `Content-Length` up front.
    pub body_limit: usize,
}

/// The body cap of a route group, as a request extension: the guard checks
/// `Content-Length` against it and [`read_body`](super::json::read_body) reads no more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyCap(pub usize);

impl GuardConfig {
    /// Whether `host` (a `Host` header, or an origin's authority) is ours. `default_port`
    /// is the port a missing one means (80 for `http`). Strict: a name of host
    /// characters, and a port of digits only (`+7070` is not a port).
    #[must_use]
    pub fn host_allowed(&self, host: &str, default_port: u16) -> bool {
        let host = host.to_ascii_lowercase();
        let Some((name, port)) = split_host(&host) else {
            return false;
        };
        let port = match port {
            Some(p) if (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) => {
                match p.parse::<u16>() {
                    Ok(p) => p,
                    Err(_) => return false,
                }
            }
            Some(_) => return false,
            None => default_port,
        };
        if LOOPBACK_NAMES.contains(&name) && port == self.port {
            return true;
        }
        self.allowed_hosts.iter().any(|allowed| {
            let Some((a_name, a_port)) = split_host(allowed) else {
                return false;
            };
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
        self.host_allowed(authority, default_port)
    }
}

/// Splits `name:port` (and `[v6]:port`); `None` when the name has characters a host name
/// cannot have (spaces, `/`, `@`, a second colon…).
fn split_host(host: &str) -> Option<(&str, Option<&str>)> {
    let (name, port) = if host.starts_with('[') {
        let end = host.find(']')?;
        let (name, rest) = host.split_at(end + 1);
        let port = match rest {
            "" => None,
            rest => Some(rest.strip_prefix(':')?),
        };
        let inside = &name[1..name.len() - 1];
        if inside.is_empty()
            || !inside
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return None;
        }
        (name, port)
    } else {
        let (name, port) = match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        };
        let valid = !name.is_empty()
            && name.len() <= 253
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !valid {
            return None;
        }
        (name, port)
    };
    Some((name, port))
}

/// Whether a method changes state (and so needs JSON and an allowed origin).
fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// How a request authenticates to `/v1`.
fn authenticated(state: &AppState, token: &Token, request: &Request) -> bool {
    let headers = request.headers();
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return token.matches(bearer.trim().as_bytes());
    }
    if let Some(id) = cookie(headers, SESSION_COOKIE) {
        return state.logins().is_live(&id, std::time::Instant::now());
    }
    // A browser's `EventSource` cannot send headers: scripts may put the token in the
    // query of the event stream (the page uses its login cookie instead).
    if request.method() == Method::GET && request.uri().path() == "/v1/events" {
        let query: Option<Query<std::collections::HashMap<String, String>>> =
            Query::try_from_uri(request.uri()).ok();
        return query
            .and_then(|q| q.0.get("token").cloned())
            .is_some_and(|t| token.matches(t.as_bytes()));
    }
    false
}

/// The value of cookie `name`, if the request carries it.
#[must_use]
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// In front of every request (unknown routes too): exactly one `Host`, and ours.
pub async fn host_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match check_host(state.guard(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

/// Caps a route group's body: the declared `Content-Length` is checked at once, and the
/// cap travels with the request for the body reader.
pub async fn body_cap(State(cap): State<BodyCap>, mut request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap.0 as u64) {
        return ApiError::TooLarge(cap.0).into_response();
    }
    request.extensions_mut().insert(cap);
    next.run(request).await
}

/// The `/v1` group, once a route matched (so a wrong method is a 405, not a 401): the
/// token or a login session, then [`browser_guard`]'s checks.
pub async fn api_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(token) = &state.guard().token
        && !authenticated(&state, token, &request)
    {
        return ApiError::Unauthorized.into_response();
    }
    match check_browser(state.guard(), &request) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

/// The pack upload: [`api_guard`]'s token and `Origin` checks, without its JSON rule (the
/// body is an archive). A browser on another site cannot send it anyway: a `PUT` always
/// needs a CORS preflight, which this server never grants.
pub async fn upload_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(token) = &state.guard().token
        && !authenticated(&state, token, &request)
    {
        return refuse_upload(request, ApiError::Unauthorized).await;
    }
    match check_origin(state.guard(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(error) => refuse_upload(request, error).await,
    }
}

/// How long a refused upload may go on arriving before the refusal is sent anyway.
const LINGER: Duration = Duration::from_secs(10);

/// Refuses an upload once its body has arrived (up to its cap, for at most [`LINGER`]),
/// read and thrown away. A server that answers and closes while an archive is still
/// arriving resets the connection, and the client's user reads "connection reset" instead
/// of the reason (nginx and Apache linger the same way before closing).
async fn refuse_upload(request: Request, error: ApiError) -> Response {
    let cap = request.extensions().get::<BodyCap>().map_or(0, |cap| cap.0);
    let mut body = request.into_body();
    let _ = tokio::time::timeout(LINGER, async {
        let mut read = 0;
        while read <= cap {
            match body.frame().await {
                Some(Ok(frame)) => read += frame.data_ref().map_or(0, |data| data.len()),
                _ => break,
            }
        }
    })
    .await;
    error.into_response()
}

/// State changes a browser could make: only from our own page's `Origin`, and a body must
/// say it is JSON (a form post from another site cannot).
pub async fn browser_guard(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match check_browser(state.guard(), &request) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

fn check_host(guard: &GuardConfig, headers: &HeaderMap) -> Result<(), ApiError> {
    let mut hosts = headers.get_all(header::HOST).iter();
    // HTTP/1.1 requires one Host; none, or two that may disagree, is as suspicious as a
    // foreign one.
    let host = match (hosts.next(), hosts.next()) {
        (Some(host), None) => host.to_str().unwrap_or(""),
        (None, _) => "",
        (Some(_), Some(_)) => {
            return Err(ApiError::Forbidden(
                "a request must carry exactly one Host header".into(),
            ));
        }
    };
    if !guard.host_allowed(host, 80) {
        let shown: String = host.chars().filter(|c| !c.is_control()).take(100).collect();
        return Err(ApiError::Forbidden(format!(
            "Host '{shown}' is not served here: use http://127.0.0.1:{}/ or add the name with --allow-host",
            guard.port
        )));
    }
    Ok(())
}

fn check_browser(guard: &GuardConfig, request: &Request) -> Result<(), ApiError> {
    let headers = request.headers();
    if changes_state(request.method()) {
        check_origin(guard, headers)?;
        // A body must say it is JSON; a request with no body (a CI job's `curl -X POST
        // …/next`, a DELETE) has nothing to declare.
        if has_body(headers) && !is_json(headers) {
            return Err(ApiError::UnsupportedMediaType);
        }
    }
    Ok(())
}

/// A state change's `Origin`, when it has one, must be ours.
fn check_origin(guard: &GuardConfig, headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        if !guard.origin_allowed(origin) {
            let shown: String = origin.chars().take(100).collect();
            return Err(ApiError::Forbidden(format!(
                "requests from origin '{shown}' are refused: only this server's own page may change things"
            )));
        }
    }
    Ok(())
}

/// Whether a request declares a body: a non-zero `Content-Length`, or any
/// `Transfer-Encoding` (a chunked body of unknown length).
fn has_body(headers: &HeaderMap) -> bool {
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
            "127.0.0.1:+7070",
            "127.0.0.1:07070x",
            "127.0.0.1:7070 ",
            "user@127.0.0.1:7070",
            "127.0.0.1:7070:7070",
            "[::1]x:7070",
            "[]:7070",
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
        assert!(!g.origin_allowed("http://127.0.0.1:+7070"));
    }
}
