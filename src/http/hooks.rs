//! `POST /hooks/{tool}`: the receivers' routes. Each checks its tool's own authentication
//! (not the API token: Slack cannot send a bearer header) and reads its tool's own body
//! format; a receiver whose secret is not configured answers 404.
//!
//! - [`chat`]: Slack and Mattermost slash commands, answered in their `response_type` JSON.
//! - [`alerts`]: Alertmanager, Grafana, PagerDuty and GitHub webhooks, mapped by rules.
//! - [`deliveries`]: the deliveries they took, remembered across restarts.

pub mod alerts;
pub mod chat;
pub mod deliveries;

use axum::Router;
use axum::routing::post;

use super::problem::Problem;
use super::state::AppState;

/// The problems every receiver may answer (for the OpenAPI document only): each route adds
/// its own 200.
#[derive(utoipa::IntoResponses)]
#[expect(dead_code, reason = "describes the answers; the handlers build them")]
enum HookProblems {
    /// Not the tool's format (`unknown-delivery`): nothing done.
    #[response(status = 400)]
    Unknown(Problem),
    /// Not sent by the tool: a bad signature, a stale timestamp or the wrong token
    /// (`bad-signature`, `stale-delivery`): nothing done.
    #[response(status = 401)]
    Refused(Problem),
    /// The receiver has no secret configured: it is not there.
    #[response(status = 404)]
    NotConfigured(Problem),
    /// The body is over the hooks' size cap.
    #[response(status = 413)]
    TooLarge(Problem),
}

/// The `/hooks/*` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hooks/slack", post(chat::slack))
        .route("/hooks/mattermost", post(chat::mattermost))
        .route("/hooks/alertmanager", post(alerts::alertmanager))
        .route("/hooks/grafana", post(alerts::grafana))
        .route("/hooks/pagerduty", post(alerts::pagerduty))
        .route("/hooks/github", post(alerts::github))
}
