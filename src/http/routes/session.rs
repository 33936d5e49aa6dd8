//! `POST /v1/session` (start), `GET /v1/session`, and the facilitator's commands.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::super::json::{ApiJson, OptionalJson, json_response};
use super::super::openapi::SnapshotDoc;
use super::super::problem::{ApiError, Problem};
use super::super::state::AppState;
pub use crate::api::{ActedBy, Jump, StartSession, TimeChange};
use crate::session::wheel::roll;
use crate::session::{Actor, PlanId, SessionId, Snapshot, Speed, SteerCommand};

/// The longest extension in one request.
const MAX_EXTEND_SECONDS: f64 = 24.0 * 3600.0;

/// Who acted: the named actor, or `api`.
pub fn actor(by: Option<Actor>) -> Actor {
    by.unwrap_or_else(Actor::unnamed)
}

/// Start a session.
#[utoipa::path(post, path = "/v1/session", tag = "session", request_body = StartSession,
    responses(
        (status = 201, description = "Started", body = SnapshotDoc),
        (status = 404, description = "No such plan", body = Problem),
        (status = 409, description = "A session is already running", body = Problem),
        (status = 422, description = "Bad plan or speed", body = Problem)))]
pub async fn start(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<StartSession>,
) -> Result<Response, ApiError> {
    let speed = request
        .speed
        .map(|factor| Speed::new(factor).map_err(|e| ApiError::Invalid(e.to_string())))
        .transpose()?;
    let (plan, speed) = match (request.plan_id, request.plan, request.from_history) {
        (Some(id), None, None) => {
            let id = PlanId::parse(&id).map_err(|e| ApiError::NotFound(e.to_string()))?;
            (state.plans().get(&id).await?.0, speed)
        }
        (None, Some(plan), None) => (plan.validate()?, speed),
        (None, None, Some(id)) => {
            let id = SessionId::parse(&id).map_err(|e| ApiError::NotFound(e.to_string()))?;
            let history = state.history().clone();
            let record = tokio::task::spawn_blocking(move || history.record(&id))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))??;
            (record.plan, speed.or(Some(record.speed)))
        }
        _ => {
            return Err(ApiError::Invalid(
                "give exactly one of plan_id (a plan's id), plan (a whole plan) or \
                 from_history (a past session's id)"
                    .into(),
            ));
        }
    };
    let speed = speed.unwrap_or(Speed::NORMAL);
    let snapshot = state
        .conductor()
        .start(plan, speed, actor(request.by))
        .await?;
    Ok(json_response(StatusCode::CREATED, &snapshot).into_response())
}

/// The session now.
#[utoipa::path(get, path = "/v1/session", tag = "session",
    responses((status = 200, description = "The current or last session", body = SnapshotDoc),
              (status = 404, description = "No session yet", body = Problem)))]
pub async fn get(State(state): State<AppState>) -> Result<ApiJson<Snapshot>, ApiError> {
    state
        .conductor()
        .snapshot()
        .await?
        .map(ApiJson)
        .ok_or_else(|| {
            ApiError::NotFound("no session has been started; POST /v1/session starts one".into())
        })
}

async fn steer(
    state: &AppState,
    command: SteerCommand,
    by: Option<Actor>,
) -> Result<ApiJson<Snapshot>, ApiError> {
    Ok(ApiJson(state.conductor().steer(command, actor(by)).await?))
}

macro_rules! command {
    ($name:ident, $path:literal, $command:expr, $what:literal) => {
        #[doc = $what]
        #[utoipa::path(post, path = $path, tag = "session", request_body(content = Option<ActedBy>,
                description = "Optional: who is acting. A POST with no body (and no content type) is fine."),
            responses((status = 200, description = "Done", body = SnapshotDoc),
                      (status = 409, description = "Not possible now (no session, finished, already paused…)", body = Problem),
                      (status = 507, description = "The journal cannot be written: nothing changed", body = Problem)))]
        pub async fn $name(
            State(state): State<AppState>,
            OptionalJson(acted): OptionalJson<ActedBy>,
        ) -> Result<ApiJson<Snapshot>, ApiError> {
            steer(&state, $command, acted.by).await
        }
    };
}

command!(
    pause,
    "/v1/session/pause",
    SteerCommand::Pause,
    "Pause the session."
);
command!(
    resume,
    "/v1/session/resume",
    SteerCommand::Resume,
    "Resume after a pause."
);
command!(
    next,
    "/v1/session/next",
    SteerCommand::Next,
    "Move on to the next segment."
);
command!(
    previous,
    "/v1/session/previous",
    SteerCommand::Previous,
    "Restart the previous segment."
);
command!(
    stop,
    "/v1/session/stop",
    SteerCommand::Stop,
    "End the session now (its gong sounds)."
);

/// Lengthen the current segment.
#[utoipa::path(post, path = "/v1/session/extend", tag = "session", request_body = TimeChange,
    responses((status = 200, description = "Extended", body = SnapshotDoc),
              (status = 409, description = "No session, or finished", body = Problem),
              (status = 422, description = "Bad number of seconds", body = Problem)))]
pub async fn extend(
    State(state): State<AppState>,
    ApiJson(change): ApiJson<TimeChange>,
) -> Result<ApiJson<Snapshot>, ApiError> {
    let by = seconds(change.seconds, false)?;
    steer(&state, SteerCommand::Extend(by), change.by).await
}

/// Take time off the current segment (`−1 min`): its time left less `seconds`, at least
/// none (then it ends now, on its gong).
#[utoipa::path(post, path = "/v1/session/shorten", tag = "session", request_body = TimeChange,
    responses((status = 200, description = "Shortened", body = SnapshotDoc),
              (status = 409, description = "No session, finished, or already past the deadline", body = Problem),
              (status = 422, description = "Bad number of seconds", body = Problem)))]
pub async fn shorten(
    State(state): State<AppState>,
    ApiJson(change): ApiJson<TimeChange>,
) -> Result<ApiJson<Snapshot>, ApiError> {
    let by = seconds(change.seconds, false)?;
    steer(&state, SteerCommand::Shorten(by), change.by).await
}

/// Set the current segment's time left (plan time): the rest of its gongan is re-spread
/// to end on the new deadline; 0 ends it now, on its gong. In overtime it gets a fresh
/// deadline.
#[utoipa::path(post, path = "/v1/session/time-left", tag = "session", request_body = TimeChange,
    responses((status = 200, description = "Set", body = SnapshotDoc),
              (status = 409, description = "No session, or finished", body = Problem),
              (status = 422, description = "Bad number of seconds", body = Problem)))]
pub async fn time_left(
    State(state): State<AppState>,
    ApiJson(change): ApiJson<TimeChange>,
) -> Result<ApiJson<Snapshot>, ApiError> {
    let left = seconds(change.seconds, true)?;
    steer(&state, SteerCommand::SetLeft(left), change.by).await
}

/// Close the current segment (a suwuk) and start any segment of the plan.
#[utoipa::path(post, path = "/v1/session/jump", tag = "session", request_body = Jump,
    responses((status = 200, description = "Jumped", body = SnapshotDoc),
              (status = 409, description = "No session, or finished", body = Problem),
              (status = 422, description = "No such segment", body = Problem)))]
pub async fn jump(
    State(state): State<AppState>,
    ApiJson(jump): ApiJson<Jump>,
) -> Result<ApiJson<Snapshot>, ApiError> {
    steer(&state, SteerCommand::Jump(jump.segment), jump.by).await
}

/// Spin the current segment's wheel: the server picks an entry (drawn without repetition
/// if the plan says so), a bonang run slows down and lands on it with the gong. The
/// answer's `wheel.last` says where and when it lands; picks are journaled.
#[utoipa::path(post, path = "/v1/session/spin", tag = "session", request_body(content = Option<ActedBy>,
        description = "Optional: who is spinning."),
    responses((status = 200, description = "Spinning", body = SnapshotDoc),
              (status = 409, description = "No session, finished, or no wheel in this segment", body = Problem)))]
pub async fn spin(
    State(state): State<AppState>,
    OptionalJson(acted): OptionalJson<ActedBy>,
) -> Result<ApiJson<Snapshot>, ApiError> {
    steer(&state, SteerCommand::Spin(roll()), acted.by).await
}

/// `seconds` as a duration of plan time: more than 0 (or 0 too, with `zero`), at most 24 h.
fn seconds(seconds: f64, zero: bool) -> Result<Duration, ApiError> {
    let low_ok = if zero { seconds >= 0.0 } else { seconds > 0.0 };
    if !(low_ok && seconds <= MAX_EXTEND_SECONDS) {
        let low = if zero { "0 or more" } else { "more than 0" };
        return Err(ApiError::Invalid(format!(
            "seconds {seconds} is out of range: use {low} and at most 86400"
        )));
    }
    Ok(Duration::from_secs_f64(seconds))
}
