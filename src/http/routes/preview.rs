//! `POST /v1/packs/{name}/preview`: one stroke of an instrument of any pack, now, without
//! changing the active pack; `GET /v1/packs/{name}/instruments`: what a pack has to
//! preview.
//!
//! The pack comes from the registry (the active one as it plays, another loaded for the
//! purpose); the stroke goes through the conductor like a cue for now, so its answer is a
//! cue's receipt and its start a `cue_played` event with the same id. It is not a session
//! cue: not journaled, not coalesced (see [`ConductorHandle::preview`]).
//!
//! [`ConductorHandle::preview`]: crate::session::ConductorHandle::preview

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::super::json::{ApiJson, json_response};
use super::super::problem::{ApiError, Problem, ProblemType};
use super::super::state::AppState;
use super::cues::check_instrument_name;
use super::packs::InstrumentInfo;
use crate::api::CueAnswer;
use crate::pack::{Instrument, Pack};
use crate::session::Actor;

/// What to preview.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// An instrument of the pack (`GET /v1/packs/{name}/instruments`).
    #[schema(example = "kenong")]
    pub instrument: String,
    /// Its variant, from 1, for pitched instruments (default the first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<u32>,
    /// Who is listening (`page`, `cli:ana`…); logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub by: Option<Actor>,
}

/// Play one stroke of a pack's instrument now; the active pack stays as it is.
#[utoipa::path(post, path = "/v1/packs/{name}/preview", tag = "packs", request_body = PreviewRequest,
    params(("name" = String, Path, description = "The pack's id from GET /v1/packs")),
    responses(
        (status = 202, description = "Playing now: a receipt like a cue's; a `cue_played` event with its id follows", body = CueAnswer),
        (status = 404, description = "No such pack (`no-such-pack`)", body = Problem),
        (status = 422, description = "No such instrument or variant in that pack (the detail lists what there is), or the pack does not load", body = Problem),
        (status = 503, description = "The engine is busy, or shutting down", body = Problem)))]
pub async fn preview(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiJson(request): ApiJson<PreviewRequest>,
) -> Result<Response, ApiError> {
    check_instrument_name(&request.instrument)?;
    let pack = state.packs().pack(&name).await?;
    let instrument = instrument_of(&pack, &name, &request.instrument)?;
    let sound = instrument
        .sound(request.variant)
        .ok_or_else(|| no_such_variant(&name, instrument, request.variant.unwrap_or(0)))?
        .clone();
    let by = super::session::actor(request.by);
    tracing::info!(
        pack = %name,
        instrument = %request.instrument,
        variant = request.variant,
        by = %by,
        "preview"
    );
    let receipt = state
        .conductor()
        .preview(
            request.instrument,
            request.variant,
            sound,
            instrument.gain(),
        )
        .await?;
    Ok(json_response(StatusCode::ACCEPTED, &CueAnswer::from(receipt)).into_response())
}

/// A pack's instruments, active or not: what `POST /v1/packs/{name}/preview` takes.
#[utoipa::path(get, path = "/v1/packs/{name}/instruments", tag = "packs",
    params(("name" = String, Path, description = "The pack's id from GET /v1/packs")),
    responses(
        (status = 200, description = "Instruments, in the pack's order", body = [InstrumentInfo]),
        (status = 404, description = "No such pack (`no-such-pack`)", body = Problem),
        (status = 422, description = "The pack does not load (`pack-does-not-load`)", body = Problem)))]
pub async fn instruments(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<ApiJson<Vec<InstrumentInfo>>, ApiError> {
    let pack = state.packs().pack(&name).await?;
    Ok(ApiJson(InstrumentInfo::of(&pack)))
}

/// The instrument `wanted` of pack `name`, or an error naming the ones it has: its own,
/// then those it plays from the default pack.
fn instrument_of<'p>(pack: &'p Pack, name: &str, wanted: &str) -> Result<&'p Instrument, ApiError> {
    pack.instrument(wanted).ok_or_else(|| {
        let borrowed = pack.fallbacks();
        let own: Vec<&str> = pack
            .instruments()
            .map(Instrument::name)
            .filter(|n| !borrowed.iter().any(|b| b == n))
            .collect();
        let mut detail = format!(
            "pack '{name}' has no instrument '{wanted}'; its instruments are: {}",
            own.join(", ")
        );
        if !borrowed.is_empty() {
            detail.push_str(&format!("; from the default pack: {}", borrowed.join(", ")));
        }
        ApiError::specific(ProblemType::UnknownInstrument, detail)
    })
}

fn no_such_variant(pack: &str, instrument: &Instrument, variant: u32) -> ApiError {
    let count = instrument.variant_count();
    let has = if count == 1 {
        "has one sound (variant 1)".to_owned()
    } else {
        format!("has variants 1 to {count}")
    };
    ApiError::specific(
        ProblemType::UnknownVariant,
        format!(
            "instrument '{}' of pack '{pack}' {has}, not variant {variant}",
            instrument.name()
        ),
    )
}
