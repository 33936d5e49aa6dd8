//! `GET /v1/events`: every conductor event as Server-Sent Events.
//!
//! The stream opens with a `status` event (the `/v1/status` document), then carries each
//! event under its kind (`session_started`, `segment_started`, `stroke`, `cue_played`,
//! `tick`…). A client too slow to keep up loses events from the broadcast buffer; it then
//! gets a `resync` event with a fresh status and how many events it missed, and the stream
//! goes on. Streams end when the server shuts down.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::routes::health::status_document;
use super::state::AppState;

/// Server-Sent Events of the session and cues.
#[utoipa::path(get, path = "/v1/events", tag = "events",
    params(("token" = Option<String>, Query, description = "The token, for clients that cannot send headers (EventSource)")),
    responses((status = 200, description = "text/event-stream: `status` first, then `session_started`, `segment_started`, `stroke`, `time_warning`, `paused`, `resumed`, `extended`, `time_left_set`, `skipped`, `jumped`, `spin`, `turn`, `stopped`, `overtime`, `dropped`, `finished`, `cue_played`, `volume`, `room_message`, `tick` (each second) and `resync` (after missed events)", content_type = "text/event-stream")))]
pub async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    // Subscribe before answering, so nothing after the headers is missed.
    let receiver = state.conductor().subscribe();
    let shutdown = state.shutdown();
    let stream = futures_util::stream::unfold(
        (state, receiver, shutdown, true),
        |(state, mut receiver, mut shutdown, first)| async move {
            if first {
                let event = status_event("status", &state, None).await;
                return Some((Ok(event), (state, receiver, shutdown, false)));
            }
            if *shutdown.borrow() {
                return None;
            }
            let event = tokio::select! {
                _ = shutdown.changed() => return None,
                received = receiver.recv() => match received {
                    Ok(event) => match serde_json::to_string(&event) {
                        Ok(data) => SseEvent::default().event(event.kind()).data(data),
                        Err(_) => SseEvent::default().comment("unencodable event"),
                    },
                    Err(RecvError::Lagged(missed)) => {
                        status_event("resync", &state, Some(missed)).await
                    }
                    Err(RecvError::Closed) => return None,
                },
            };
            Some((Ok(event), (state, receiver, shutdown, false)))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn status_event(kind: &str, state: &AppState, missed: Option<u64>) -> SseEvent {
    let data = match status_document(state).await {
        Ok(status) => match missed {
            Some(missed) => json!({ "type": kind, "missed": missed, "status": status }),
            None => json!({ "type": kind, "status": status }),
        },
        Err(error) => json!({ "type": kind, "error": error.to_string() }),
    };
    SseEvent::default().event(kind).data(data.to_string())
}
