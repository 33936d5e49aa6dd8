//! `POST /v1/login` and `POST /v1/logout`: the page's server-side login sessions. The
//! token buys a random session id in an HttpOnly, SameSite=Strict cookie (never the token
//! itself), so the page and its `EventSource` authenticate without custom headers, a logout
//! ends it, and it expires.

use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::super::guard::cookie;
use super::super::json::ApiJson;
use super::super::logins::SESSION_COOKIE;
use super::super::problem::{ApiError, Problem, ProblemType};
use super::super::state::AppState;
pub use crate::api::Login;

/// Check the token and start a login session: the `gongan_session` cookie (HttpOnly,
/// SameSite=Strict) carries its random id. Failed logins are rate-limited.
#[utoipa::path(post, path = "/v1/login", tag = "auth", request_body = Login,
    responses((status = 204, description = "Logged in (or no token needed)"),
              (status = 401, description = "Wrong token", body = Problem),
              (status = 429, description = "Too many failed logins: wait (Retry-After)", body = Problem)))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(login): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let Some(token) = &state.guard().token else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let logins = state.logins();
    let now = Instant::now();
    if let Err(throttled) = logins.may_attempt(now) {
        let seconds = throttled.retry_after.as_secs().max(1);
        let mut response = ApiError::specific(
            ProblemType::TooManyLogins,
            format!("too many failed logins: try again in {seconds} s"),
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        return Ok(response);
    }
    if !token.matches(login.token.as_bytes()) {
        logins.failed(now);
        return Err(ApiError::Unauthorized);
    }
    let id = logins
        .begin(now)
        .map_err(|e| ApiError::Internal(format!("no randomness for a login: {e}")))?;
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        id.0,
        logins.lifetime().as_secs()
    );
    let mut response = StatusCode::NO_CONTENT.into_response();
    let value = HeaderValue::from_str(&cookie)
        .map_err(|_| ApiError::Internal("a login id that cannot be a cookie".into()))?;
    response.headers_mut().insert(header::SET_COOKIE, value);
    Ok(response)
}

/// End this browser's login session (its cookie stops working at once).
#[utoipa::path(post, path = "/v1/logout", tag = "auth",
    responses((status = 204, description = "Logged out")))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie(&headers, SESSION_COOKIE) {
        state.logins().end(&id);
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("gongan_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}
