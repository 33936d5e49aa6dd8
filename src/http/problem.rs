//! [`ApiError`]: every way a request can fail, as one type that answers with an
//! `application/problem+json` body (RFC 9457).
//!
//! Handlers return `Result<_, ApiError>`; this is the one place that decides the status
//! code and the wording, so the same mistake reads the same on every route.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use thiserror::Error;
use utoipa::ToSchema;

use crate::session::{ConductorError, PlanError, SteerError};

/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Why a request was refused. Nothing changed on the server.
#[derive(Debug, Error)]
pub enum ApiError {
    /// The body is not JSON at all.
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    /// JSON of the wrong shape: a missing field, a wrong type, an unknown field.
    #[error("the body does not fit: {0}")]
    WrongShape(String),
    /// A value that is well-formed but not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// Not `Content-Type: application/json`.
    #[error("send the body as JSON with the header 'Content-Type: application/json'")]
    UnsupportedMediaType,
    /// The body is over the cap.
    #[error("the body is larger than the {0}-byte limit")]
    TooLarge(usize),
    /// The body took too long to arrive.
    #[error("the body took too long to arrive")]
    Timeout,
    /// No such thing.
    #[error("{0}")]
    NotFound(String),
    /// The route exists but not with this method.
    #[error("this route does not take {0}")]
    MethodNotAllowed(String),
    /// The request does not fit the server's current state.
    #[error("{0}")]
    Conflict(String),
    /// No token, or the wrong one.
    #[error(
        "this server needs its token: send 'Authorization: Bearer TOKEN' (or log in with POST /v1/login)"
    )]
    Unauthorized,
    /// A `Host` or `Origin` that is not ours.
    #[error("{0}")]
    Forbidden(String),
    /// The server cannot take it now (shutting down, engine queue full).
    #[error("{0}")]
    Unavailable(String),
    /// A bound was reached (too many future cues waiting); try again later.
    #[error("{0}")]
    TooMany(String),
    /// The data dir cannot take the write (full, or read-only): nothing changed.
    #[error("{0}")]
    DiskFull(String),
    /// Our fault: a disk write failed, a task died.
    #[error("{0}")]
    Internal(String),
}

/// The body of an error answer (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `urn:gongan:problem:unknown-instrument`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, and what to do about it.
    pub detail: String,
}

impl ApiError {
    /// The status code and the problem type's short name.
    #[must_use]
    pub fn status_and_slug(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed-json"),
            ApiError::WrongShape(_) => (StatusCode::UNPROCESSABLE_ENTITY, "wrong-shape"),
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type")
            }
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too-large"),
            ApiError::Timeout => (StatusCode::REQUEST_TIMEOUT, "timeout"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, "too-many-cues"),
            ApiError::DiskFull(_) => (StatusCode::INSUFFICIENT_STORAGE, "disk-full"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// The problem document for this error.
    #[must_use]
    pub fn problem(&self) -> Problem {
        let (status, slug) = self.status_and_slug();
        Problem {
            kind: format!("urn:gongan:problem:{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        if problem.status >= 500 {
            tracing::error!(status = problem.status, "{}", problem.detail);
        } else {
            tracing::debug!(status = problem.status, "{}", problem.detail);
        }
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (self.status_and_slug().0, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if matches!(self, ApiError::Unauthorized) {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"gongan\""),
            );
        }
        response
    }
}

impl From<ConductorError> for ApiError {
    fn from(error: ConductorError) -> ApiError {
        let detail = error.to_string();
        match error {
            ConductorError::SessionRunning(_)
            | ConductorError::NoSession
            | ConductorError::NoBeat(_)
            | ConductorError::Steer(
                SteerError::Finished
                | SteerError::AlreadyPaused
                | SteerError::NotPaused
                | SteerError::Opening,
            ) => ApiError::Conflict(detail),
            ConductorError::Steer(SteerError::History(
                crate::session::HistoryError::BadExtension(_),
            )) => ApiError::Invalid(detail),
            ConductorError::Steer(SteerError::History(_)) => ApiError::Conflict(detail),
            ConductorError::UnknownInstrument(_)
            | ConductorError::UnknownVariant { .. }
            | ConductorError::BadTime(_) => ApiError::Invalid(detail),
            ConductorError::TooManyCues(_) => ApiError::TooMany(detail),
            ConductorError::NoSuchCue(_) => ApiError::NotFound(detail),
            ConductorError::Engine(_) | ConductorError::Gone => ApiError::Unavailable(detail),
            ConductorError::Journal(crate::session::JournalError::Full(_)) => {
                ApiError::DiskFull(detail)
            }
            ConductorError::Journal(crate::session::JournalError::Failed(_)) => {
                ApiError::Internal(detail)
            }
        }
    }
}

impl From<PlanError> for ApiError {
    fn from(error: PlanError) -> ApiError {
        match error {
            PlanError::Json(e) | PlanError::Toml(e) => ApiError::WrongShape(e),
            PlanError::Invalid(problems) => ApiError::Invalid(
                format!("the plan has problems: {}", problems).replace('\n', "; "),
            ),
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn conductor_errors_are_client_errors_except_when_the_server_is_busy() {
        let cases = [
            (ConductorError::NoSession, 409),
            (ConductorError::SessionRunning("x".into()), 409),
            (ConductorError::Steer(SteerError::NotPaused), 409),
            (ConductorError::UnknownInstrument("x".into()), 422),
            (ConductorError::NoBeat("beat"), 409),
            (ConductorError::BadTime("x".into()), 422),
            (ConductorError::Gone, 503),
            (ConductorError::TooManyCues(256), 429),
            (ConductorError::NoSuchCue(3), 404),
        ];
        for (error, status) in cases {
            assert_eq!(ApiError::from(error).problem().status, status);
        }
    }
}
