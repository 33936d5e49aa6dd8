//! `POST /hooks/{tool}`: the receivers' routes. Each checks its tool's own authentication
//! (not the API token: Slack cannot send a bearer header) and reads its tool's own body
//! format; a receiver whose secret is not configured answers 404.
//!
//! - [`chat`]: Slack and Mattermost slash commands, answered in their `response_type` JSON.
//! - [`alerts`]: Alertmanager, Grafana, PagerDuty and GitHub webhooks, mapped by rules.

pub mod alerts;
pub mod chat;

use axum::Router;
use axum::routing::post;

use super::state::AppState;

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
