//! `GET /v1/plans`, `GET|PUT|DELETE /v1/plans/{id}`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::super::json::{ApiJson, json_response};
use super::super::openapi::PlanDoc;
use super::super::problem::{ApiError, Problem, ProblemType};
use super::super::state::AppState;
use crate::session::{Plan, PlanId};
use crate::store::PlanSummary;

/// Parses a plan id from a path: when `reading`, a malformed id names no plan (404),
/// else it is a bad id to save under (422).
fn plan_id(text: &str, reading: bool) -> Result<PlanId, ApiError> {
    PlanId::parse(text).map_err(|e| {
        if reading {
            ApiError::specific(ProblemType::NoSuchPlan, format!("no plan here: {e}"))
        } else {
            ApiError::Invalid(e.to_string())
        }
    })
}

/// Templates and saved plans.
#[utoipa::path(get, path = "/v1/plans", tag = "plans",
    responses((status = 200, description = "Plans", body = [PlanSummary])))]
pub async fn list(State(state): State<AppState>) -> ApiJson<Vec<PlanSummary>> {
    ApiJson(state.plans().list().await)
}

/// One plan, as JSON (the same model `PUT` takes).
#[utoipa::path(get, path = "/v1/plans/{id}", tag = "plans",
    params(("id" = String, Path, description = "Plan id")),
    responses((status = 200, description = "The plan", body = PlanDoc),
              (status = 404, description = "No such plan (`no-such-plan`)", body = Problem),
              (status = 409, description = "The saved file cannot be used (`saved-plan-invalid`, `not-a-regular-file`, `file-too-large`)", body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<ApiJson<Plan>, ApiError> {
    let id = plan_id(&id, true)?;
    let (plan, _) = state.plans().get(&id).await?;
    Ok(ApiJson(plan.to_plan()))
}

/// Save a plan (validated; stored as TOML). Templates are read-only.
#[utoipa::path(put, path = "/v1/plans/{id}", tag = "plans", request_body = PlanDoc,
    params(("id" = String, Path, description = "Plan id: lowercase letters, digits, hyphens")),
    responses(
        (status = 201, description = "Created", body = PlanDoc),
        (status = 200, description = "Replaced", body = PlanDoc),
        (status = 409, description = "A template's id (`plan-is-template`)", body = Problem),
        (status = 422, description = "The plan has problems (`invalid-plan`, `wrong-shape`)", body = Problem),
        (status = 507, description = "The data dir is full or read-only (`disk-full`): nothing changed", body = Problem)))]
pub async fn put(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(plan): ApiJson<Plan>,
) -> Result<Response, ApiError> {
    let id = plan_id(&id, false)?;
    let plan = plan.validate()?;
    let created = state.plans().put(&id, &plan).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_response(status, &plan.to_plan()).into_response())
}

/// Delete a saved plan.
#[utoipa::path(delete, path = "/v1/plans/{id}", tag = "plans",
    params(("id" = String, Path, description = "Plan id")),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such plan (`no-such-plan`)", body = Problem),
              (status = 409, description = "A template (`plan-is-template`)", body = Problem),
              (status = 507, description = "The data dir is read-only (`disk-full`)", body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    _body: Bytes,
) -> Result<StatusCode, ApiError> {
    let id = plan_id(&id, true)?;
    state.plans().delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}
