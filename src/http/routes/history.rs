//! `GET /v1/history`, `GET /v1/history/{id}` (JSON, CSV or the Markdown debrief sheet) and
//! `GET /v1/history/{id}/plan` (a new plan from a past session's actual timings).

use std::time::SystemTime;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::super::json::{ApiJson, json_response};
use super::super::problem::{ApiError, Problem};
use super::super::state::AppState;
use crate::session::debrief::{Debrief, plan_from_actuals};
use crate::session::{SessionId, SessionRecord};
use crate::store::journal::SessionSummary;

/// Sessions per page unless `limit` says otherwise.
const DEFAULT_LIMIT: usize = 20;
/// The most sessions one page may hold.
const MAX_LIMIT: usize = 200;

/// Paging through the history, newest first.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Sessions per page, 1 to 200 (default 20).
    pub limit: Option<usize>,
    /// Only sessions that started before this one (the `next` of the previous page).
    pub before: Option<String>,
}

/// A page of the history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryPage {
    /// Sessions, newest first.
    #[schema(value_type = Vec<Object>)]
    pub sessions: Vec<SessionSummary>,
    /// The query for the next (older) page, when there may be one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// How to answer with one session.
#[derive(Debug, Default, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The debrief as JSON.
    #[default]
    Json,
    /// One row per segment run, planned against actual (RFC 4180).
    Csv,
    /// The debrief sheet in Markdown, to paste into notes.
    Md,
}

/// The format of one session.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FormatQuery {
    /// `json` (default), `csv` or `md`.
    pub format: Option<Format>,
}

/// Past sessions, newest first (the running one included).
#[utoipa::path(get, path = "/v1/history", tag = "history", params(HistoryQuery),
    responses((status = 200, description = "A page of sessions", body = HistoryPage),
              (status = 404, description = "`before` names no session", body = Problem),
              (status = 422, description = "Bad limit or id", body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<ApiJson<HistoryPage>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::Invalid(e.body_text()))?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::Invalid(format!(
            "limit {limit} is out of range: use 1 to {MAX_LIMIT}"
        )));
    }
    let before = query
        .before
        .map(|id| SessionId::parse(&id).map_err(|e| ApiError::Invalid(e.to_string())))
        .transpose()?;
    let history = state.history().clone();
    let sessions = tokio::task::spawn_blocking(move || history.list(limit, before.as_ref()))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let next = (sessions.len() == limit)
        .then(|| sessions.last())
        .flatten()
        .map(|last| format!("/v1/history?limit={limit}&before={}", last.id));
    Ok(ApiJson(HistoryPage { sessions, next }))
}

async fn record(state: &AppState, id: &str) -> Result<SessionRecord, ApiError> {
    let id = SessionId::parse(id).map_err(|e| ApiError::NotFound(e.to_string()))?;
    let history = state.history().clone();
    Ok(tokio::task::spawn_blocking(move || history.record(&id))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??)
}

/// One session for the debrief: plan, planned against actual segment times, overtime,
/// every stroke, cue and transition with who did it.
#[utoipa::path(get, path = "/v1/history/{id}", tag = "history", params(
        ("id" = String, Path, description = "A session id, e.g. 20261122-093000-7f3a"),
        FormatQuery),
    responses((status = 200, description = "The debrief: JSON, CSV (`text/csv`) or Markdown (`text/markdown`)"),
              (status = 404, description = "No such session", body = Problem),
              (status = 422, description = "Unknown format", body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<FormatQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|_| {
        ApiError::Invalid("format must be json, csv or md (e.g. ?format=md)".into())
    })?;
    let record = record(&state, &id).await?;
    let debrief = Debrief::new(&record, SystemTime::now());
    Ok(match query.format.unwrap_or_default() {
        Format::Json => json_response(StatusCode::OK, &debrief),
        Format::Csv => text(debrief.to_csv(), "text/csv; charset=utf-8", &record, "csv"),
        Format::Md => text(
            debrief.to_markdown(),
            "text/markdown; charset=utf-8",
            &record,
            "md",
        ),
    })
}

fn text(body: String, media_type: &'static str, record: &SessionRecord, ext: &str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    // The id is digits, dashes and hex: always a valid header value.
    if let Ok(value) =
        HeaderValue::from_str(&format!("inline; filename=\"gongan-{}.{ext}\"", record.id))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// A new plan from a past session's actual timings: each segment as long as it really
/// ran. Save it with `PUT /v1/plans/{id}`.
#[utoipa::path(get, path = "/v1/history/{id}/plan", tag = "history", params(
        ("id" = String, Path, description = "A session id")),
    responses((status = 200, description = "The plan", body = super::super::openapi::PlanDoc),
              (status = 404, description = "No such session", body = Problem)))]
pub async fn plan(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let record = record(&state, &id).await?;
    Ok(json_response(StatusCode::OK, &plan_from_actuals(&record)))
}
