//! [`ApiJson`]: the JSON body extractor and responder whose every failure is a problem
//! answer (axum's own `Json` answers in plain text).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::problem::ApiError;
use super::state::AppState;

/// A JSON request body of type `T`, or a JSON answer.
///
/// As an extractor it insists on `Content-Type: application/json` (415), reads at most the
/// configured body cap (413) within the body timeout (408), and tells malformed JSON (400)
/// from JSON of the wrong shape (422), naming the field.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

/// Whether the request says its body is JSON (`application/json`, parameters allowed).
#[must_use]
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// Reads a request's body within its route group's cap (see
/// [`BodyCap`](super::guard::BodyCap); the API's cap otherwise) and the timeout.
pub async fn read_body(request: Request, state: &AppState) -> Result<Bytes, ApiError> {
    let limit = request
        .extensions()
        .get::<super::guard::BodyCap>()
        .map_or(state.body_limit(), |cap| cap.0);
    let read =
        http_body_util::BodyExt::collect(http_body_util::Limited::new(request.into_body(), limit));
    match tokio::time::timeout(state.body_read_timeout(), read).await {
        Err(_) => Err(ApiError::Timeout),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => {
            Err(ApiError::TooLarge(limit))
        }
        Ok(Err(error)) => Err(ApiError::MalformedJson(format!(
            "the body could not be read: {error}"
        ))),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// Parses JSON, telling syntax errors from shape errors.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::MalformedJson("the body is empty".into()));
    }
    serde_json::from_slice(bytes).map_err(|error| {
        use serde_json::error::Category;
        match error.classify() {
            Category::Data => ApiError::WrongShape(error.to_string()),
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::MalformedJson(error.to_string())
            }
        }
    })
}

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = read_body(request, state).await?;
        parse(&bytes).map(ApiJson)
    }
}

/// A JSON request body that may be left out: a POST with no body (a CI job's bare `curl -X
/// POST`) reads as `T::default()`; a body, if there is one, is checked like [`ApiJson`].
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default> FromRequest<AppState> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let json = is_json(request.headers());
        let bytes = read_body(request, state).await?;
        if bytes.is_empty() {
            return Ok(OptionalJson(T::default()));
        }
        if !json {
            return Err(ApiError::UnsupportedMediaType);
        }
        parse(&bytes).map(OptionalJson)
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        json_response(StatusCode::OK, &self.0)
    }
}

/// A JSON answer with `status`.
pub fn json_response<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => {
            let mut response = (status, body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(error) => {
            ApiError::Internal(format!("cannot encode the answer: {error}")).into_response()
        }
    }
}
