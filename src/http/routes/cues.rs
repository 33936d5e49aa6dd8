//! `POST /v1/cues`: strike an instrument now, later, or on the next beat or gong;
//! `GET /v1/cues`: the cues waiting to be heard; `DELETE /v1/cues/{id}`: cancel one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::super::json::{ApiJson, json_response};
use super::super::problem::{ApiError, Problem};
use super::super::state::AppState;
use crate::audio::Frame;
use crate::session::{Cue, CueId, CueListing, CueTime};

/// The loudest and softest a cue may be asked for, relative to the pack, in dB.
const GAIN_RANGE_DB: std::ops::RangeInclusive<f32> = -60.0..=12.0;
/// The furthest ahead `in_seconds` may reach (the conductor bounds every cue the same way).
const MAX_DELAY: std::time::Duration = std::time::Duration::from_secs(3600);
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
    /// Seconds from now to play it (up to an hour); default now.
    pub in_seconds: Option<f64>,
    /// The engine frame to play at (see `engine.frame` in `/v1/status`), for clients that
    /// analyse the audio; at most an hour ahead.
    pub at: Option<u64>,
    /// Land on the next `beat` or `gong` of the running session instead.
    pub quantize: Option<Quantize>,
    /// Who is cueing (`deploy-bot`, `cli:ana`…); shown in events and history.
    #[schema(value_type = Option<String>)]
    pub by: Option<crate::session::Actor>,
}

/// The answer to a cue.
#[derive(Debug, Serialize, ToSchema)]
pub struct CueAnswer {
    /// The cue's id (a coalesced cue has the id of the cue it joined).
    pub id: u64,
    /// The engine frame it sounds at.
    pub frame: u64,
    /// Seconds from now until it is heard (the output's latency included).
    pub in_seconds: f64,
    /// When it will be heard, UTC (RFC 3339).
    pub heard_at: String,
    /// True when an identical cue in the coalescing window already covers it: no extra
    /// stroke was added.
    pub coalesced: bool,
}

/// Strike an instrument.
#[utoipa::path(post, path = "/v1/cues", tag = "cues", request_body = CueRequest,
    responses(
        (status = 202, description = "Scheduled", body = CueAnswer),
        (status = 409, description = "Quantised with no session, or no beat to come", body = Problem),
        (status = 422, description = "Unknown instrument or variant, bad gain or time", body = Problem),
        (status = 429, description = "Too many future cues are waiting", body = Problem)))]
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
    let at = match (request.at, request.in_seconds, request.quantize) {
        (Some(frame), None, None) => CueTime::AtFrame(Frame(frame)),
        (None, Some(seconds), None) => {
            let delay = std::time::Duration::try_from_secs_f64(seconds)
                .ok()
                .filter(|d| *d <= MAX_DELAY)
                .ok_or_else(|| {
                    ApiError::Invalid(format!(
                        "in_seconds {seconds} is out of range: use 0 to {}",
                        MAX_DELAY.as_secs()
                    ))
                })?;
            CueTime::After(delay)
        }
        (None, None, Some(Quantize::Beat)) => CueTime::NextBeat,
        (None, None, Some(Quantize::Gong)) => CueTime::NextGong,
        (None, None, None) => CueTime::Now,
        _ => {
            return Err(ApiError::Invalid(
                "give at most one of at, in_seconds and quantize".into(),
            ));
        }
    };
    let receipt = state
        .conductor()
        .cue(
            Cue {
                instrument: request.instrument,
                variant: request.variant,
                gain_db,
                at,
            },
            super::session::actor(request.by),
        )
        .await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &CueAnswer {
            id: receipt.id.0,
            frame: receipt.frame.0,
            in_seconds: receipt.in_seconds,
            heard_at: receipt.heard_at,
            coalesced: receipt.coalesced,
        },
    )
    .into_response())
}

/// The cues accepted and not yet heard.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingCues {
    /// Soonest first.
    #[schema(value_type = Vec<Object>)]
    pub cues: Vec<CueListing>,
}

/// The cues waiting to be heard, soonest first.
#[utoipa::path(get, path = "/v1/cues", tag = "cues",
    responses((status = 200, description = "Pending cues", body = PendingCues)))]
pub async fn list_cues(State(state): State<AppState>) -> Result<Response, ApiError> {
    let cues = state.conductor().cues().await?;
    Ok(json_response(StatusCode::OK, &PendingCues { cues }).into_response())
}

/// Cancel a pending cue.
#[utoipa::path(delete, path = "/v1/cues/{id}", tag = "cues",
    params(("id" = u64, Path, description = "The cue's id, from its 202 answer or GET /v1/cues")),
    responses(
        (status = 204, description = "Cancelled: it will not sound"),
        (status = 404, description = "No pending cue with that id", body = Problem)))]
pub async fn cancel_cue(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no pending cue '{id}': ids are numbers")))?;
    state.conductor().cancel_cue(CueId(id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
