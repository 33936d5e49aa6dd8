//! `GET /v1/instruments`, `GET /v1/packs`, `POST /v1/packs/{name}/activate`.

use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;

use super::super::json::ApiJson;
use super::super::problem::{ApiError, Problem};
use super::super::state::AppState;
use crate::store::PackInfo;

/// One instrument of the active pack.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstrumentInfo {
    /// Its name (what `POST /v1/cues` takes).
    pub name: String,
    /// How many pitched variants (1 for an unpitched instrument).
    pub variants: usize,
}

/// The active pack's instruments, by name.
#[utoipa::path(get, path = "/v1/instruments", tag = "packs",
    responses((status = 200, description = "Instruments", body = [InstrumentInfo])))]
pub async fn instruments(State(state): State<AppState>) -> ApiJson<Vec<InstrumentInfo>> {
    let (_, pack) = state.packs().active();
    ApiJson(
        pack.instruments()
            .map(|i| InstrumentInfo {
                name: i.name().to_owned(),
                variants: i.variant_count(),
            })
            .collect(),
    )
}

/// Installed packs and which is active.
#[utoipa::path(get, path = "/v1/packs", tag = "packs",
    responses((status = 200, description = "Packs", body = [PackInfo])))]
pub async fn packs(State(state): State<AppState>) -> ApiJson<Vec<PackInfo>> {
    let registry = state.packs().clone();
    let list = tokio::task::spawn_blocking(move || registry.list())
        .await
        .unwrap_or_default();
    ApiJson(list)
}

/// Make an installed pack the one cues and sessions play.
#[utoipa::path(post, path = "/v1/packs/{name}/activate", tag = "packs",
    params(("name" = String, Path, description = "The pack's id from GET /v1/packs")),
    responses(
        (status = 200, description = "Now active", body = PackInfo),
        (status = 404, description = "No such pack (`no-such-pack`)", body = Problem),
        (status = 422, description = "The pack does not load (`pack-does-not-load`)", body = Problem)))]
pub async fn activate(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<ApiJson<PackInfo>, ApiError> {
    // The registry stays the active pack's one owner: the new pack becomes active only
    // once the conductor plays it.
    let switch = state.packs().begin_switch(&name).await?;
    state.conductor().set_pack(switch.pack()).await?;
    Ok(ApiJson(switch.commit()))
}
