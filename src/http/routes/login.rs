//! `POST /v1/login`: trade the token for a cookie, so the page and its `EventSource` can
//! authenticate without custom headers.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use super::super::guard::TOKEN_COOKIE;
use super::super::json::ApiJson;
use super::super::problem::{ApiError, Problem};
use super::super::state::AppState;

/// A login.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// The server's token.
    pub token: String,
}

/// Check the token and set the `gongan_token` cookie (HttpOnly, SameSite=Strict).
#[utoipa::path(post, path = "/v1/login", tag = "auth", request_body = Login,
    responses((status = 204, description = "Logged in (or no token needed)"),
              (status = 401, description = "Wrong token", body = Problem)))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(login): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let Some(token) = &state.guard().token else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    if !token.matches(login.token.as_bytes()) {
        return Err(ApiError::Unauthorized);
    }
    let cookie = format!(
        "{TOKEN_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
        token.expose()
    );
    let mut response = StatusCode::NO_CONTENT.into_response();
    let value = HeaderValue::from_str(&cookie)
        .map_err(|_| ApiError::Internal("the token cannot be a cookie".into()))?;
    response.headers_mut().insert(header::SET_COOKIE, value);
    Ok(response)
}
