//! `GET /v1/room/message` and `PUT /v1/room/message`: the facilitator's message to the
//! room, which the presentation view (`/present`) shows under the clock.
//!
//! Like the volume it belongs to the room, not to the session: it goes through the
//! conductor (one owner, one `room_message` event to every open page), is logged with who
//! set it, and is not journaled.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::super::json::ApiJson;
use super::super::problem::{ApiError, Problem};
use super::super::state::AppState;
use crate::session::{Actor, RoomMessage};

/// The longest message, in characters: one line, readable from the back of a room.
pub const MAX_MESSAGE_CHARS: usize = 140;

/// A new message to the room.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomMessageRequest {
    /// The message, at most 140 characters, no control characters; empty clears it.
    #[schema(example = "Back at 10:40")]
    pub text: String,
    /// Who is saying it (`page`, `cli:ana`…); logged and shown in the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub by: Option<Actor>,
}

/// The message to the room (empty text when there is none).
#[utoipa::path(get, path = "/v1/room/message", tag = "session",
    responses((status = 200, description = "The message now", body = RoomMessage),
              (status = 503, description = "Shutting down", body = Problem)))]
pub async fn get(State(state): State<AppState>) -> Result<ApiJson<RoomMessage>, ApiError> {
    Ok(ApiJson(state.conductor().room_message().await?))
}

/// Set the message to the room; published as a `room_message` event.
#[utoipa::path(put, path = "/v1/room/message", tag = "session", request_body = RoomMessageRequest,
    responses(
        (status = 200, description = "The message now", body = RoomMessage),
        (status = 422, description = "Too long, or control characters", body = Problem),
        (status = 503, description = "Shutting down", body = Problem)))]
pub async fn put(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RoomMessageRequest>,
) -> Result<ApiJson<RoomMessage>, ApiError> {
    let text = checked(&request.text)?;
    let by = super::session::actor(request.by);
    Ok(ApiJson(state.conductor().set_room_message(text, by).await?))
}

/// The message as the room will read it: trimmed, one line of at most
/// [`MAX_MESSAGE_CHARS`], no control characters (a projected page must not be driven by
/// them, nor a terminal that prints the event).
fn checked(text: &str) -> Result<String, ApiError> {
    let text = text.trim();
    if text.chars().any(char::is_control) {
        return Err(ApiError::Invalid(
            "text must be one line without control characters".to_owned(),
        ));
    }
    let count = text.chars().count();
    if count > MAX_MESSAGE_CHARS {
        return Err(ApiError::Invalid(format!(
            "text is {count} characters; at most {MAX_MESSAGE_CHARS} fit on the screen"
        )));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn a_message_is_one_short_line() {
        assert_eq!(checked("  Back at 10:40 ").unwrap(), "Back at 10:40");
        assert_eq!(checked("").unwrap(), "");
        assert!(checked("a\nb").is_err());
        assert!(checked("\u{1b}]0;x\u{7}").is_err());
        assert!(checked(&"x".repeat(141)).is_err());
        assert!(checked(&"é".repeat(140)).is_ok());
    }
}
