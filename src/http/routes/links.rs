//! `POST /v1/links` (make a capability link), `GET /v1/links` (the live ones, without
//! secrets), `DELETE /v1/links/{name}` (revoke one). The same as `gongan link
//! create|list|revoke`; the links themselves answer at `POST /l/{secret}/{action}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::super::json::{ApiJson, json_response};
use super::super::problem::{ApiError, Problem, ProblemType};
use super::super::state::AppState;
use crate::command::{Permission, PermissionError};
use crate::session::Actor;
use crate::store::StoreError;
use crate::store::links::{CreateError, LinkInfo, LinkName, LinkStore};

/// What a link may do: a comma-separated text or a list of words.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(
    untagged,
    expecting = "allow must be a comma-separated text like \"next,pause\" or a list like [\"next\", \"pause\"]"
)]
pub enum AllowList {
    /// `"next,pause,cue:gong"`.
    Text(String),
    /// `["next", "pause", "cue:gong"]`.
    Words(Vec<String>),
}

impl AllowList {
    /// The permissions, sorted, without repeats.
    ///
    /// # Errors
    /// The first word that is not a permission, or an empty list.
    pub fn permissions(&self) -> Result<Vec<Permission>, PermissionError> {
        match self {
            AllowList::Text(text) => Permission::parse_list(text),
            AllowList::Words(words) => {
                let mut list = words
                    .iter()
                    .map(|word| Permission::parse(word))
                    .collect::<Result<Vec<_>, _>>()?;
                list.sort();
                list.dedup();
                if list.is_empty() {
                    return Err(PermissionError(String::new()));
                }
                Ok(list)
            }
        }
    }
}

/// A new link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLink {
    /// Its name: 1–64 lowercase letters, digits and single hyphens. The actor of what it
    /// does is `link:NAME`.
    #[schema(example = "stream-deck")]
    pub name: String,
    /// What it may do: `next`, `previous`, `pause`, `resume`, `stop`, `extend`, `start`,
    /// `status`, `listen` (the listener page), `notes` (a listener sees the segments'
    /// notes), `cue` (any instrument) or `cue:INSTRUMENT`.
    #[schema(example = "next,pause,resume,cue:gong")]
    pub allow: AllowList,
    /// Who is making it (`page`, `cli:ana`…); default `api`.
    #[schema(value_type = Option<String>)]
    pub by: Option<Actor>,
}

/// A link just made: the only time its secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkCreated {
    /// Its name.
    pub name: String,
    /// What it may do.
    pub allow: Vec<String>,
    /// `/l/SECRET`: put the server's address before it and an action after it,
    /// `http://HOST:7070/l/SECRET/next`.
    pub url_path: String,
    /// `/listen/SECRET`, for a link that may `listen`: the listener page, where a remote
    /// participant sees the clock and hears the gong in their browser.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen_path: Option<String>,
    /// The secret (shown only now: only its hash is kept).
    pub secret: String,
    /// When it was made, UTC (RFC 3339).
    pub created: String,
    /// Who made it.
    pub created_by: String,
}

/// A live link, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkSummary {
    /// Its name.
    pub name: String,
    /// What it may do.
    pub allow: Vec<String>,
    /// When it was made, UTC (RFC 3339).
    pub created: String,
    /// Who made it.
    pub created_by: String,
}

impl From<LinkInfo> for LinkSummary {
    fn from(info: LinkInfo) -> LinkSummary {
        LinkSummary {
            name: info.name.to_string(),
            allow: words(&info.allow),
            created: info.created,
            created_by: info.created_by,
        }
    }
}

fn words(allow: &[Permission]) -> Vec<String> {
    allow.iter().map(ToString::to_string).collect()
}

/// Runs `work` on the links store off the async threads.
async fn blocking<T: Send + 'static, E: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&LinkStore) -> Result<T, E> + Send + 'static,
) -> Result<Result<T, E>, ApiError> {
    let links: Arc<LinkStore> = state.links().clone();
    tokio::task::spawn_blocking(move || work(&links))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Make a capability link.
#[utoipa::path(post, path = "/v1/links", tag = "links", operation_id = "create_link", request_body = CreateLink,
    responses(
        (status = 201, description = "Made; the secret is in this answer only", body = LinkCreated),
        (status = 409, description = "A live link has this name (`link-exists`)", body = Problem),
        (status = 422, description = "A bad name or allow list", body = Problem),
        (status = 507, description = "The data dir is full or read-only (`disk-full`): nothing changed", body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<CreateLink>,
) -> Result<Response, ApiError> {
    let name = LinkName::parse(&request.name).map_err(|e| ApiError::Invalid(e.to_string()))?;
    let allow = request
        .allow
        .permissions()
        .map_err(|e| ApiError::Invalid(e.to_string()))?;
    let by = request.by.unwrap_or_else(Actor::unnamed);
    let created = blocking(&state, move |links| links.create(&name, &allow, &by))
        .await?
        .map_err(|error| match error {
            CreateError::Taken(name) => ApiError::specific(
                ProblemType::LinkExists,
                format!(
                    "a link named '{name}' already exists: revoke it first \
                     (DELETE /v1/links/{name}) or choose another name"
                ),
            ),
            CreateError::NothingAllowed => ApiError::Invalid(error.to_string()),
            CreateError::NoRandomness(_) => ApiError::Internal(error.to_string()),
            CreateError::Store(error) => error.into(),
        })?;
    let answer = LinkCreated {
        name: created.info.name.to_string(),
        allow: words(&created.info.allow),
        url_path: created.secret.url_path(),
        listen_path: created
            .info
            .allow
            .contains(&Permission::Listen)
            .then(|| created.secret.listen_path()),
        secret: created.secret.expose().to_owned(),
        created: created.info.created,
        created_by: created.info.created_by,
    };
    Ok(json_response(StatusCode::CREATED, &answer).into_response())
}

/// The live links, by name, without their secrets.
#[utoipa::path(get, path = "/v1/links", tag = "links", operation_id = "list_links",
    responses((status = 200, description = "Links", body = [LinkSummary]),
              (status = 507, description = "The data dir's database cannot be opened", body = Problem)))]
pub async fn list(State(state): State<AppState>) -> Result<ApiJson<Vec<LinkSummary>>, ApiError> {
    let links = blocking(&state, LinkStore::list).await??;
    Ok(ApiJson(links.into_iter().map(LinkSummary::from).collect()))
}

/// Revoke a link: its URL stops working at once.
#[utoipa::path(delete, path = "/v1/links/{name}", tag = "links", operation_id = "revoke_link",
    params(("name" = String, Path, description = "The link's name")),
    responses((status = 204, description = "Revoked"),
              (status = 404, description = "No live link has this name", body = Problem),
              (status = 507, description = "The data dir is read-only (`disk-full`)", body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    Path(name): Path<String>,
    _body: Bytes,
) -> Result<StatusCode, ApiError> {
    let unknown = |name: &str| {
        ApiError::NotFound(format!(
            "no link named {name:?}; GET /v1/links lists the live ones"
        ))
    };
    let name = LinkName::parse(&name).map_err(|_| unknown(&name))?;
    let shown = name.to_string();
    blocking(&state, move |links| links.revoke(&name))
        .await?
        .map_err(|error| match error {
            StoreError::NotFound(_) => unknown(&shown),
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}
