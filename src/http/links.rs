//! `POST /l/{secret}/{action}`: capability links. (Being built.)

use axum::Router;

use super::state::AppState;

/// The `/l/*` routes.
pub fn router() -> Router<AppState> {
    Router::new()
}
