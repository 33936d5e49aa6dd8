//! The router, built from route groups that each carry their own policy (PRODUCT.md §5):
//! public (the page, liveness, the login), `/v1` (the API: token or login session,
//! `Origin`, JSON), `/hooks/*` (each tool's own authentication and body format), `/l/*`
//! and `/listen/*` (a link's secret). The [`guard`]s say what each policy checks; every answer, from
//! every group, carries `X-Content-Type-Options: nosniff` and is traced.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post, put};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use super::guard::{self, BodyCap};
use super::problem::ApiError;
use super::routes::{cues, health, history, login, packs, plans, preview, room, session, volume};
use super::state::AppState;
use super::{hooks, links, listen, openapi, page, sse};

/// The body cap of `/hooks/*`: other tools' payloads (a GitHub `workflow_run`, an
/// Alertmanager group of many alerts) run to tens of kilobytes, more than the API needs.
pub const HOOK_BODY_LIMIT: usize = 1024 * 1024;
/// The body cap of `/l/*`: a link's action is in its path; a stream deck may send a small
/// body, which is ignored.
pub const LINK_BODY_LIMIT: usize = 4 * 1024;

/// Every route of the API, the receivers, the links and the page.
pub fn router(state: AppState) -> Router {
    let api_limit = state.body_limit();
    let hook_limit = api_limit.max(HOOK_BODY_LIMIT);
    Router::new()
        .merge(capped(public(&state), api_limit))
        .merge(capped(api(&state), api_limit))
        .merge(capped(uploads(&state), state.pack_upload_limit()))
        .merge(capped(hooks::router(), hook_limit))
        .merge(capped(links::router(), LINK_BODY_LIMIT))
        .merge(capped(listen::router(), LINK_BODY_LIMIT))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), guard::host_guard))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                tracing::debug_span!(
                    "request",
                    method = %request.method(),
                    path = %redacted(request.uri().path())
                )
            }),
        )
        .with_state(state)
}

/// Anyone may reach these: the page, liveness, the login.
fn public(state: &AppState) -> Router<AppState> {
    let login = Router::new()
        .route("/v1/login", post(login::login))
        .route_layer(from_fn_with_state(state.clone(), guard::browser_guard));
    Router::new()
        .route("/", get(page::index))
        .route("/index.html", get(page::index))
        // The presentation view: the same page, for the projector (no controls).
        .route("/present", get(page::index))
        .route("/favicon.svg", get(page::favicon))
        .route("/app.js", get(page::app_js))
        .route("/listen.js", get(page::listen_js))
        .route("/style.css", get(page::style))
        .route("/healthz", get(health::healthz))
        .merge(login)
}

/// The API: the token or a login session; `Origin` and JSON on state changes.
fn api(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/status", get(health::status))
        .route("/v1/time", get(listen::time))
        .route("/v1/cues", post(cues::post_cue).get(cues::list_cues))
        .route("/v1/cues/{id}", delete(cues::cancel_cue))
        .route("/v1/instruments", get(packs::instruments))
        .route("/v1/packs", get(packs::packs))
        .route("/v1/packs/{name}", delete(packs::delete))
        .route("/v1/packs/{name}/activate", post(packs::activate))
        .route("/v1/packs/{name}/preview", post(preview::preview))
        .route("/v1/packs/{name}/instruments", get(preview::instruments))
        .route("/v1/volume", get(volume::get).put(volume::put))
        .route("/v1/room/message", get(room::get).put(room::put))
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
        .route("/v1/session/shorten", post(session::shorten))
        .route("/v1/session/time-left", post(session::time_left))
        .route("/v1/session/jump", post(session::jump))
        .route("/v1/session/spin", post(session::spin))
        .route("/v1/events", get(sse::events))
        .route("/v1/history", get(history::list))
        .route("/v1/history/{id}", get(history::get))
        .route("/v1/history/{id}/plan", get(history::plan))
        .route(
            "/v1/links",
            get(super::routes::links::list).post(super::routes::links::create),
        )
        .route("/v1/links/{name}", delete(super::routes::links::revoke))
        .route("/v1/logout", post(login::logout))
        .route("/v1/openapi.json", get(openapi::openapi_json))
        .route_layer(from_fn_with_state(state.clone(), guard::api_guard))
}

/// Pack uploads: the API's authentication, a body that is an archive rather than JSON,
/// and a cap of their own (`pack_upload_limit`), far above the API's.
fn uploads(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/packs/{name}", put(packs::put))
        .route_layer(from_fn_with_state(state.clone(), guard::upload_guard))
}

/// A route group with its own body cap: checked against `Content-Length` before anything
/// else in the group, and by the body reader.
fn capped(group: Router<AppState>, limit: usize) -> Router<AppState> {
    group
        .route_layer(from_fn_with_state(BodyCap(limit), guard::body_cap))
        .route_layer(DefaultBodyLimit::max(limit))
}

async fn not_found(request: Request) -> ApiError {
    ApiError::NotFound(format!(
        "no route {} {}; GET /v1/openapi.json lists them",
        request.method(),
        redacted(request.uri().path())
    ))
}

/// A path as logs and error details may show it: a link's secret (`/l/SECRET/…`,
/// `/listen/SECRET`) is a password and never leaves the request.
fn redacted(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in ["/l/", "/listen/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            let after = rest.find('/').map_or("", |i| &rest[i..]);
            return format!("{prefix}…{after}").into();
        }
    }
    path.into()
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::MethodNotAllowed(request.method().to_string())
}

#[cfg(test)]
mod test {
    use super::redacted;

    #[test]
    fn link_secrets_never_reach_a_log() {
        assert_eq!(redacted("/l/0123abcd/next"), "/l/…/next");
        assert_eq!(redacted("/l/0123abcd"), "/l/…");
        assert_eq!(redacted("/listen/0123abcd"), "/listen/…");
        assert_eq!(redacted("/v1/session/next"), "/v1/session/next");
    }
}
