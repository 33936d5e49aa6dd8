//! `GET /v1/volume` and `PUT /v1/volume`: the master volume and mute.
//!
//! The volume belongs to the engine, whose one owner is the conductor: a change goes
//! through it, is published as a `volume` event (so every open page moves its slider) and
//! is logged with who made it. It is not journaled: it is the room's loudness, not the
//! session's course. Mute is not pause: a muted session keeps time and its strokes happen,
//! silently.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::super::json::ApiJson;
use super::super::problem::{ApiError, Problem};
use super::super::state::AppState;
use crate::audio::{Volume, VolumeChange, VolumeDb};
use crate::session::Actor;

/// The master volume.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VolumeAnswer {
    /// The level in dB over the packs' normalised loudness, −60 to +6 (kept while muted).
    #[schema(example = -6.0)]
    pub volume_db: f32,
    /// Whether everything plays silent.
    pub muted: bool,
}

impl From<Volume> for VolumeAnswer {
    fn from(volume: Volume) -> VolumeAnswer {
        VolumeAnswer {
            volume_db: volume.level.db(),
            muted: volume.muted,
        }
    }
}

/// A change of the master volume: the level, the mute, or both; what is left out stays.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeRequest {
    /// The level in dB, −60 to +6.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = -6.0)]
    pub volume_db: Option<f32>,
    /// Mute (true) or unmute (false); the level is kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub muted: Option<bool>,
    /// Who is changing it (`page`, `cli:ana`…); logged and shown in the `volume` event.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub by: Option<Actor>,
}

/// The master volume and mute.
#[utoipa::path(get, path = "/v1/volume", tag = "volume",
    responses((status = 200, description = "The volume now", body = VolumeAnswer),
              (status = 503, description = "Shutting down", body = Problem)))]
pub async fn get(State(state): State<AppState>) -> Result<ApiJson<VolumeAnswer>, ApiError> {
    Ok(ApiJson(state.conductor().volume().await?.into()))
}

/// Change the master volume or mute: ramped in a few milliseconds (no click), published
/// as a `volume` event.
#[utoipa::path(put, path = "/v1/volume", tag = "volume", request_body = VolumeRequest,
    responses(
        (status = 200, description = "The volume now", body = VolumeAnswer),
        (status = 422, description = "A level out of range, or nothing to change", body = Problem),
        (status = 503, description = "The engine is busy, or shutting down", body = Problem)))]
pub async fn put(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<VolumeRequest>,
) -> Result<ApiJson<VolumeAnswer>, ApiError> {
    let change = VolumeChange {
        level: request
            .volume_db
            .map(VolumeDb::new)
            .transpose()
            .map_err(|e| ApiError::Invalid(format!("{e}; to silence it, send \"muted\": true")))?,
        muted: request.muted,
    };
    if change.is_empty() {
        return Err(ApiError::Invalid(
            "nothing to change: give volume_db, muted or both".into(),
        ));
    }
    let by = super::session::actor(request.by);
    Ok(ApiJson(
        state.conductor().set_volume(change, by).await?.into(),
    ))
}
