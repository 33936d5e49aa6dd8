//! `POST /v1/cues`: strike an instrument now, at a frame, or on the next beat or gong.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::super::json::{ApiJson, json_response};
use super::super::problem::{ApiError, Problem};
use super::super::state::AppState;
use crate::audio::Frame;
use crate::session::{Cue, CueTime};

/// The loudest and softest a cue may be asked for, relative to the pack, in dB.
const GAIN_RANGE_DB: std::ops::RangeInclusive<f32> = -60.0..=12.0;
/// The longest instrument name taken.
const MAX_NAME: usize = 64;

/// Where a cue lands on the running form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Quantize {
    /// The next beat.
    Beat,
    /// The next gong.
    Gong,
}

/// A cue request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CueRequest {
    /// An instrument of the active pack (`GET /v1/instruments`).
    #[schema(example = "gong")]
    pub instrument: String,
    /// Its variant, from 1, for pitched instruments (kenong 1–6).
    pub variant: Option<u32>,
    /// Level relative to the pack's, −60 to +12 dB (default 0).
    pub gain_db: Option<f32>,
    /// The engine frame to play at (see `engine.frame` in `/v1/status`); default now.
    pub at: Option<u64>,
    /// Land on the next `beat` or `gong` of the running session instead.
    pub quantize: Option<Quantize>,
}

/// The answer to a cue.
#[derive(Debug, Serialize, ToSchema)]
pub struct CueAnswer {
    /// The cue's id (a coalesced cue has the id of the cue it joined).
    pub id: u64,
    /// The engine frame it sounds at.
    pub frame: u64,
    /// Seconds from now.
    pub in_seconds: f64,
    /// True when an identical cue in the coalescing window already covers it: no extra
    /// stroke was added.
    pub coalesced: bool,
}

/// Strike an instrument.
#[utoipa::path(post, path = "/v1/cues", tag = "cues", request_body = CueRequest,
    responses(
        (status = 202, description = "Scheduled", body = CueAnswer),
        (status = 409, description = "Quantised with no session, or no beat to come", body = Problem),
        (status = 422, description = "Unknown instrument or variant, bad gain or time", body = Problem)))]
pub async fn post_cue(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<CueRequest>,
) -> Result<Response, ApiError> {
    if request.instrument.is_empty() || request.instrument.len() > MAX_NAME {
        return Err(ApiError::Invalid(format!(
            "instrument must be 1 to {MAX_NAME} characters"
        )));
    }
    let gain_db = request.gain_db.unwrap_or(0.0);
    if !GAIN_RANGE_DB.contains(&gain_db) {
        return Err(ApiError::Invalid(format!(
            "gain_db {gain_db} is out of range: use -60 to 12"
        )));
    }
    let at = match (request.at, request.quantize) {
        (Some(_), Some(_)) => {
            return Err(ApiError::Invalid(
                "give either at or quantize, not both".into(),
            ));
        }
        (Some(frame), None) => CueTime::At(Frame(frame)),
        (None, Some(Quantize::Beat)) => CueTime::NextBeat,
        (None, Some(Quantize::Gong)) => CueTime::NextGong,
        (None, None) => CueTime::Now,
    };
    let receipt = state
        .conductor()
        .cue(Cue {
            instrument: request.instrument,
            variant: request.variant,
            gain_db,
            at,
        })
        .await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &CueAnswer {
            id: receipt.id.0,
            frame: receipt.frame.0,
            in_seconds: receipt.in_seconds,
            coalesced: receipt.coalesced,
        },
    )
    .into_response())
}
