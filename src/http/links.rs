//! `POST /l/{secret}/{action}`: capability links, for stream decks (Bitfocus Companion's
//! generic HTTP module, Stream Deck web-request plugins) and scripts.
//!
//! The secret in the path is the whole authority: no token, no login, no JSON, no body
//! (a stream deck sends none; any body is ignored, never read). `{action}` is a command
//! of the shared grammar, percent-encoded where it has spaces (`next`, `gong`,
//! `kenong%203`, `+2m`, `extend%202m`, `start%20game-day`), carried out by `act` as the
//! `/v1` routes would, journaled with the actor `link:NAME`.
//!
//! What a caller learns is only what its secret already entitles it to: an unknown, a
//! mistyped and a revoked secret get the same 404, and only a live secret hears which
//! actions its link allows (403).

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use utoipa::ToSchema;

use super::act::{Acted, act};
use super::json::ApiJson;
use super::openapi::SnapshotDoc;
use super::problem::{ApiError, Problem, ProblemType};
use super::state::AppState;
use crate::api::CueAnswer;
use crate::command::Command;
use crate::session::Snapshot;
use crate::store::links::Link;

/// The `/l/*` routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/l/{secret}/{action}", post(trigger))
}

/// What a link's action did.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkAnswer {
    /// The link's name (the actor is `link:NAME`).
    #[schema(example = "stream-deck")]
    pub link: String,
    /// The command carried out, as the grammar writes it (`next`, `kenong 3`,
    /// `extend 2m`).
    #[schema(example = "next")]
    pub command: String,
    /// What was done, in a line for a person (a stream deck can show it).
    #[schema(example = "next: \"Game day\" · segment 2/5 \"Investigate\" · 20:00 left")]
    pub done: String,
    /// The session after it, for steering, `start` and `status` (absent for a cue, and
    /// for `status` when no session has run yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<SnapshotDoc>)]
    pub session: Option<Box<Snapshot>>,
    /// The cue's receipt, for a cue: when it will be heard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cue: Option<CueAnswer>,
}

impl LinkAnswer {
    fn new(link: &Link, command: &Command, acted: Acted) -> LinkAnswer {
        let done = acted.describe();
        let (session, cue) = match acted {
            Acted::Cued { receipt, .. } => (None, Some(CueAnswer::from(receipt))),
            Acted::Steered { snapshot, .. } | Acted::Started(snapshot) => (Some(snapshot), None),
            Acted::Status(snapshot) => (snapshot, None),
            Acted::Help => (None, None),
        };
        LinkAnswer {
            link: link.name.to_string(),
            command: command.to_string(),
            done,
            session,
            cue,
        }
    }
}

/// The one answer for every secret that opens nothing.
pub(super) fn no_such_link() -> ApiError {
    ApiError::NotFound(
        "no such link: it was revoked, or the URL is not the one `gongan link create` printed"
            .into(),
    )
}

/// Carry out one action through a link.
#[utoipa::path(post, path = "/l/{secret}/{action}", tag = "links", operation_id = "press_link",
    params(
        ("secret" = String, Path, description = "The link's secret, as `gongan link create` or `POST /v1/links` printed it"),
        ("action" = String, Path, description = "A command, percent-encoded: `next`, `pause`, `gong`, `kenong%203`, `+2m`, `extend%202m`, `start%20game-day`, `status`")),
    responses(
        (status = 200, description = "Done", body = LinkAnswer),
        (status = 403, description = "The link does not allow this action (`not-allowed`): nothing changed", body = Problem),
        (status = 404, description = "No live link has this secret (unknown and revoked alike)", body = Problem),
        (status = 409, description = "Not possible now (no session, finished, already paused…)", body = Problem),
        (status = 422, description = "Not a command (or an unknown instrument)", body = Problem),
        (status = 507, description = "The data dir cannot be written: nothing changed", body = Problem)))]
pub async fn trigger(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path((secret, action)) = path.map_err(|_| {
        ApiError::Invalid(
            "the action is not text once decoded: write it like `next`, `kenong%203` or `+2m`"
                .into(),
        )
    })?;
    let links = state.links().clone();
    let link = tokio::task::spawn_blocking(move || links.find(&secret))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??
        .ok_or_else(no_such_link)?;
    let command = Command::parse(&action).map_err(|e| ApiError::Invalid(e.to_string()))?;
    let needed = command.permission();
    if !link.allows(&needed) {
        let allowed: Vec<String> = link.allow.iter().map(ToString::to_string).collect();
        return Err(ApiError::specific(
            ProblemType::NotAllowed,
            format!(
                "link '{}' may not `{command}` (that needs `{needed}`; it may only: {}): \
                 nothing was done",
                link.name,
                allowed.join(", ")
            ),
        ));
    }
    let acted = act(&state, command.clone(), link.name.actor()).await?;
    Ok(ApiJson(LinkAnswer::new(&link, &command, acted)).into_response())
}
