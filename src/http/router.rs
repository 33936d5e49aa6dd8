//! The routes, the guard in front of them, and the problem answers for unknown routes and
//! methods.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::routing::{delete, get, post};

use super::problem::ApiError;
use super::routes::{cues, health, history, login, packs, plans, session};
use super::state::AppState;
use super::{guard, openapi, page, sse};

/// Every route of the API and the page, guarded.
pub fn router(state: AppState) -> Router {
    let limit = state.body_limit();
    Router::new()
        .route("/", get(page::index))
        .route("/index.html", get(page::index))
        .route("/app.js", get(page::app_js))
        .route("/style.css", get(page::style))
        .route("/healthz", get(health::healthz))
        .route("/v1/status", get(health::status))
        .route("/v1/cues", post(cues::post_cue).get(cues::list_cues))
        .route("/v1/cues/{id}", delete(cues::cancel_cue))
        .route("/v1/instruments", get(packs::instruments))
        .route("/v1/packs", get(packs::packs))
        .route("/v1/packs/{name}/activate", post(packs::activate))
        .route("/v1/plans", get(plans::list))
        .route(
            "/v1/plans/{id}",
            get(plans::get).put(plans::put).delete(plans::delete),
        )
        .route("/v1/session", get(session::get).post(session::start))
        .route("/v1/session/pause", post(session::pause))
        .route("/v1/session/resume", post(session::resume))
        .route("/v1/session/next", post(session::next))
        .route("/v1/session/previous", post(session::previous))
        .route("/v1/session/stop", post(session::stop))
        .route("/v1/session/extend", post(session::extend))
        .route("/v1/events", get(sse::events))
        .route("/v1/history", get(history::list))
        .route("/v1/history/{id}", get(history::get))
        .route("/v1/history/{id}/plan", get(history::plan))
        .route("/v1/login", post(login::login))
        .route("/v1/openapi.json", get(openapi::openapi_json))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::request_guard,
        ))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::host_guard,
        ))
        .with_state(state)
}

async fn not_found(request: Request) -> ApiError {
    ApiError::NotFound(format!(
        "no route {} {}; GET /v1/openapi.json lists them",
        request.method(),
        request.uri().path()
    ))
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::MethodNotAllowed(request.method().to_string())
}
