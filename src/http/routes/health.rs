//! `GET /healthz` and `GET /v1/status`.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::super::json::ApiJson;
use super::super::openapi::SnapshotDoc;
use super::super::problem::ApiError;
use super::super::state::AppState;
use super::volume::VolumeAnswer;
use crate::session::Snapshot;

/// Liveness and the audio output's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` while the server answers.
    pub status: &'static str,
    /// `device` (a sound card), `pipe` (a FIFO snapserver reads), `null` (no sound: no
    /// card could be opened, or asked for), or `degraded` (a sound card failed after
    /// starting, or nothing reads the pipe).
    pub output: &'static str,
    /// The sound card's name, `pipe:PATH`, or `null`.
    pub device: String,
    /// The output's measured latency in milliseconds: from now until a sound started now
    /// is heard (the sound card's buffering, from its own playback timestamps; for a pipe,
    /// the audio queued in it plus Snapcast's buffer).
    pub latency_ms: f64,
    /// What went wrong with the output, when `degraded`.
    pub fault: Option<String>,
}

/// The engine's clock.
#[derive(Debug, Serialize, ToSchema)]
pub struct EngineStatus {
    /// Frames per second.
    pub sample_rate: u32,
    /// The frame clock: frames rendered since the server started.
    pub frame: u64,
    /// The same in seconds.
    pub seconds: f64,
}

/// Everything at a glance.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    /// The engine's clock.
    pub engine: EngineStatus,
    /// `device`, `pipe`, `null` or `degraded` (as in `/healthz`).
    pub output: &'static str,
    /// The sound card's name, `pipe:PATH`, or `null`.
    pub device: String,
    /// What went wrong with the output, when `degraded`.
    pub fault: Option<String>,
    /// The active pack's id.
    pub pack: String,
    /// The master volume and mute (`PUT /v1/volume`).
    pub volume: VolumeAnswer,
    /// The facilitator's message to the room (`PUT /v1/room/message`; empty text: none).
    pub room_message: crate::session::RoomMessage,
    /// The current (or last) session, or null before the first.
    #[schema(value_type = Option<SnapshotDoc>)]
    pub session: Option<Snapshot>,
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "status",
    responses((status = 200, description = "The server is up", body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> ApiJson<Health> {
    let (output, device, fault) = state.output_state();
    // A server shutting down has no conductor left to ask; it is still alive until then.
    let latency = state.conductor().latency().await.unwrap_or_default();
    ApiJson(Health {
        status: "ok",
        output,
        device,
        latency_ms: latency.as_secs_f64() * 1000.0,
        fault,
    })
}

/// The status document (also sent as the first event of `/v1/events` and on `resync`).
pub async fn status_document(state: &AppState) -> Result<Status, ApiError> {
    let clock = state.conductor().clock();
    let frame = clock.now();
    let rate = clock.sample_rate();
    let session = state.conductor().snapshot().await?;
    let volume = state.conductor().volume().await?.into();
    let room_message = state.conductor().room_message().await?;
    let (output, device, fault) = state.output_state();
    Ok(Status {
        engine: EngineStatus {
            sample_rate: rate,
            frame: frame.0,
            seconds: frame.as_seconds(rate),
        },
        output,
        device,
        fault,
        pack: state.packs().active().0,
        volume,
        room_message,
        session,
    })
}

/// Engine, output, pack and session.
#[utoipa::path(get, path = "/v1/status", tag = "status",
    responses((status = 200, description = "The server's state", body = Status),
              (status = 503, description = "Shutting down", body = super::super::problem::Problem)))]
pub async fn status(State(state): State<AppState>) -> Result<ApiJson<Status>, ApiError> {
    status_document(&state).await.map(ApiJson)
}
