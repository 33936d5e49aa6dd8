//! `POST /v1/cues`: strike an instrument now, later, or on the next beat or gong;
//! `GET /v1/cues`: the cues waiting to be heard; `DELETE /v1/cues/{id}`: cancel one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::super::json::{ApiJson, json_response};
use super::super::problem::{ApiError, Problem};
use super::super::state::AppState;
pub use crate::api::{CueAnswer, CueRequest, Quantize};
use crate::audio::Frame;
use crate::session::{Cue, CueId, CueListing, CueTime};

/// The loudest and softest a cue may be asked for, relative to the pack, in dB.
const GAIN_RANGE_DB: std::ops::RangeInclusive<f32> = -60.0..=12.0;
/// The furthest ahead `in_seconds` may reach (the conductor bounds every cue the same way).
const MAX_DELAY: std::time::Duration = std::time::Duration::from_secs(3600);
/// The longest instrument name taken.
const MAX_NAME: usize = 64;

/// Refuses an instrument name no pack could have, before any pack is looked at.
pub(super) fn check_instrument_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(ApiError::Invalid(format!(
            "instrument must be 1 to {MAX_NAME} characters"
        )));
    }
    Ok(())
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
    check_instrument_name(&request.instrument)?;
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
    Ok(json_response(StatusCode::ACCEPTED, &CueAnswer::from(receipt)).into_response())
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
