//! `GET /v1/events`: every conductor event as Server-Sent Events.
//!
//! The stream opens with a `status` event (the `/v1/status` document), then carries each
//! event under its kind (`session_started`, `segment_started`, `stroke`, `cue_played`,
//! `tick`…). A client too slow to keep up loses events from the broadcast buffer; it then
//! gets a `resync` event with a fresh status and how many events it missed, and the stream
//! goes on. Streams end when the server shuts down. A listener link gets the same stream
//! through `/listen/{secret}/events`, limited to the public view ([`Audience`]).

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::listen::public_view;
use super::routes::health::status_document;
use super::state::AppState;
use crate::session::Event;

/// Who a stream is for: what it shows, and how long it lasts.
#[derive(Debug, Clone)]
pub enum Audience {
    /// The facilitator (the token or a login): everything.
    Facilitator,
    /// A listener link: the session's public view, while the link lives.
    Listener {
        /// The link's secret, looked up again each tick: a revoked link's stream ends.
        secret: String,
        /// Whether the link shares the segments' notes.
        notes: bool,
    },
}

impl Audience {
    /// Whether the event goes out at all: listeners get the session, cues, ticks and the
    /// room message, not the sound card's, the volume's or the journal's news.
    fn hears(&self, event: &Event) -> bool {
        match self {
            Audience::Facilitator => true,
            Audience::Listener { .. } => matches!(
                event,
                Event::Session(_)
                    | Event::Cue(_)
                    | Event::CueScheduled(_)
                    | Event::Tick(_)
                    | Event::RoomMessage(_)
            ),
        }
    }

    /// `data` as this audience sees it.
    fn view(&self, mut data: Value) -> Value {
        if let Audience::Listener { notes, .. } = self {
            public_view(&mut data, *notes);
        }
        data
    }

    /// Whether the stream may go on: a listener's link may have been revoked.
    async fn still_welcome(&self, state: &AppState) -> bool {
        match self {
            Audience::Facilitator => true,
            Audience::Listener { secret, .. } => {
                let (links, secret) = (state.links().clone(), secret.clone());
                tokio::task::spawn_blocking(move || links.find(&secret))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .flatten()
                    .is_some()
            }
        }
    }
}

/// Server-Sent Events of the session and cues.
#[utoipa::path(get, path = "/v1/events", tag = "events",
    params(("token" = Option<String>, Query, description = "The token, for clients that cannot send headers (EventSource)")),
    responses((status = 200, description = "text/event-stream: `status` first, then `session_started`, `segment_started`, `stroke`, `time_warning`, `paused`, `resumed`, `extended`, `time_left_set`, `skipped`, `jumped`, `spin`, `turn`, `stopped`, `overtime`, `dropped`, `finished`, `cue_scheduled` (a cue accepted, with when it will be heard), `cue_played`, `volume`, `room_message`, `tick` (each second) and `resync` (after missed events)", content_type = "text/event-stream")))]
pub async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    stream(state, Audience::Facilitator)
}

/// The event stream for `audience`: `status` first, then every event it hears, until the
/// server shuts down (or, for a listener, the link is revoked).
pub fn stream(
    state: AppState,
    audience: Audience,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    // Subscribe before answering, so nothing after the headers is missed.
    let receiver = state.conductor().subscribe();
    let shutdown = state.shutdown();
    let stream = futures_util::stream::unfold(
        (state, audience, receiver, shutdown, true),
        |(state, audience, mut receiver, mut shutdown, first)| async move {
            if first {
                let event = status_event("status", &state, &audience, None).await;
                return Some((Ok(event), (state, audience, receiver, shutdown, false)));
            }
            let event = loop {
                if *shutdown.borrow() {
                    return None;
                }
                tokio::select! {
                    _ = shutdown.changed() => return None,
                    received = receiver.recv() => match received {
                        Ok(event) if !audience.hears(&event) => {}
                        Ok(event) => {
                            if matches!(event, Event::Tick(_))
                                && !audience.still_welcome(&state).await
                            {
                                return None;
                            }
                            break match serde_json::to_value(&event) {
                                Ok(data) => SseEvent::default()
                                    .event(event.kind())
                                    .data(audience.view(data).to_string()),
                                Err(_) => SseEvent::default().comment("unencodable event"),
                            };
                        }
                        Err(RecvError::Lagged(missed)) => {
                            break status_event("resync", &state, &audience, Some(missed)).await;
                        }
                        Err(RecvError::Closed) => return None,
                    },
                }
            };
            Some((Ok(event), (state, audience, receiver, shutdown, false)))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn status_event(
    kind: &str,
    state: &AppState,
    audience: &Audience,
    missed: Option<u64>,
) -> SseEvent {
    let status = status_document(state)
        .await
        .map_err(|error| error.to_string())
        .and_then(|status| serde_json::to_value(status).map_err(|error| error.to_string()));
    let data = match status {
        Ok(status) => {
            let status = audience.view(status);
            match missed {
                Some(missed) => json!({ "type": kind, "missed": missed, "status": status }),
                None => json!({ "type": kind, "status": status }),
            }
        }
        Err(error) => json!({ "type": kind, "error": error }),
    };
    SseEvent::default().event(kind).data(data.to_string())
}
