//! `GET /v1/instruments`, `GET /v1/packs`, `PUT|DELETE /v1/packs/{name}`,
//! `POST /v1/packs/{name}/activate`.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use http_body_util::BodyExt;
use serde::Serialize;
use tokio::sync::mpsc;
use utoipa::ToSchema;

use super::super::guard::BodyCap;
use super::super::json::{ApiJson, json_response};
use super::super::problem::{ApiError, Problem, ProblemType};
use super::super::state::AppState;
use crate::pack::Pack;
use crate::store::files::size;
use crate::store::packs::Upload;
use crate::store::{PackInfo, StoreError};

/// The media types an archive may be sent as. The format is read from the bytes; the type
/// only has to say "an archive" — or be left out, as `curl -T FILE` does.
const ARCHIVE_TYPES: [&str; 8] = [
    "application/x-tar",
    "application/gzip",
    "application/x-gzip",
    "application/x-compressed-tar",
    "application/zip",
    "application/x-zip-compressed",
    "application/octet-stream",
    "application/x-gtar",
];
/// How long a whole upload may take, however steadily it trickles in: the default cap of
/// 64 MiB at 1 Mbit/s takes under 9 minutes.
const UPLOAD_TIME_LIMIT: Duration = Duration::from_secs(15 * 60);
/// Chunks of the body queued for the disk while the next arrive.
const CHUNKS_IN_FLIGHT: usize = 8;

/// One instrument of the active pack.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstrumentInfo {
    /// Its name (what `POST /v1/cues` takes).
    pub name: String,
    /// How many pitched variants (1 for an unpitched instrument).
    pub variants: usize,
    /// True when the pack has no sound of its own for it and the default pack's plays.
    pub from_default: bool,
}

impl InstrumentInfo {
    /// Every instrument `pack` plays, its own and the default pack's it falls back to.
    pub fn of(pack: &Pack) -> Vec<InstrumentInfo> {
        pack.instruments()
            .map(|i| InstrumentInfo {
                name: i.name().to_owned(),
                variants: i.variant_count(),
                from_default: pack.fallbacks().iter().any(|f| f == i.name()),
            })
            .collect()
    }
}

/// The active pack's instruments, by name.
#[utoipa::path(get, path = "/v1/instruments", tag = "packs",
    responses((status = 200, description = "Instruments", body = [InstrumentInfo])))]
pub async fn instruments(State(state): State<AppState>) -> ApiJson<Vec<InstrumentInfo>> {
    let (_, pack) = state.packs().active();
    ApiJson(InstrumentInfo::of(&pack))
}

/// Installed packs and which is active.
#[utoipa::path(get, path = "/v1/packs", tag = "packs",
    responses((status = 200, description = "Packs", body = [PackInfo])))]
pub async fn packs(State(state): State<AppState>) -> ApiJson<Vec<PackInfo>> {
    let registry = state.packs().clone();
    let list = tokio::task::spawn_blocking(move || registry.list())
        .await
        .unwrap_or_default();
    ApiJson(list)
}

/// Make an installed pack the one cues and sessions play.
#[utoipa::path(post, path = "/v1/packs/{name}/activate", tag = "packs",
    params(("name" = String, Path, description = "The pack's id from GET /v1/packs")),
    responses(
        (status = 200, description = "Now active", body = PackInfo),
        (status = 404, description = "No such pack (`no-such-pack`)", body = Problem),
        (status = 422, description = "The pack does not load (`pack-does-not-load`)", body = Problem)))]
pub async fn activate(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<ApiJson<PackInfo>, ApiError> {
    // The registry stays the active pack's one owner: the new pack becomes active only
    // once the conductor plays it.
    let switch = state.packs().begin_switch(&name).await?;
    state.conductor().set_pack(switch.pack()).await?;
    Ok(ApiJson(switch.commit()))
}

/// Install (or replace) pack `name` from a tar, tar.gz or zip archive of a pack folder
/// (`pack.toml` and its sounds, at the archive's root or inside one top-level folder).
///
/// The body is streamed to a temporary file under its cap (`pack_upload_limit`, 64 MiB by
/// default), every entry is checked before anything is unpacked (no `..`, absolute
/// paths, links, devices, duplicate names; at most 1000 entries and 256 MiB unpacked; a
/// zip bomb is refused from its sizes), the pack is loaded whole as `gongan pack check`
/// would check it, and only then renamed into place — replacing a pack of that name
/// atomically. **The active pack cannot be replaced** (409 `pack-is-active`: it is
/// playing; activate another first), nor can a built-in pack or the server's `--pack`
/// folder (409 `pack-is-read-only`). Any error leaves the packs as they were.
#[utoipa::path(put, path = "/v1/packs/{name}", tag = "packs",
    params(("name" = String, Path, description = "The pack's id: lowercase letters, digits and single hyphens")),
    request_body(description = "The archive's bytes; the format is read from them", content(
        ([u8] = "application/x-tar"),
        ([u8] = "application/gzip"),
        ([u8] = "application/zip"),
        ([u8] = "application/octet-stream"))),
    responses(
        (status = 201, description = "Installed", body = PackInfo),
        (status = 200, description = "Replaced the pack of that name", body = PackInfo),
        (status = 409, description = "The active pack (`pack-is-active`), or a built-in one (`pack-is-read-only`)", body = Problem),
        (status = 413, description = "Over the upload cap (`too-large`), or it would unpack too large: too many entries, too many bytes, a zip bomb (`archive-too-large`)", body = Problem),
        (status = 415, description = "Not sent as an archive (`unsupported-media-type`)", body = Problem),
        (status = 422, description = "Not an archive, damaged, or holding an entry a pack may not (`bad-archive`, naming the entry); the pack does not load (`pack-does-not-load`, naming the file); a name that cannot name a pack (`invalid`)", body = Problem),
        (status = 507, description = "The data dir is full or read-only (`disk-full`): nothing changed", body = Problem)))]
pub async fn put(
    State(state): State<AppState>,
    Path(name): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    check_archive_type(request.headers())?;
    // Refused before a byte of the body is read.
    state.packs().check_installable(&name)?;
    let cap = request
        .extensions()
        .get::<BodyCap>()
        .map_or(state.pack_upload_limit(), |cap| cap.0);
    let upload = receive(&state, request.into_body(), cap).await?;
    let installed = state.packs().install(&name, upload).await?;
    let status = if installed.replaced {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    tracing::info!(
        "pack {name} {} ({} instruments)",
        if installed.replaced {
            "replaced"
        } else {
            "installed"
        },
        installed.info.instruments
    );
    Ok(json_response(status, &installed.info))
}

/// Delete an installed pack.
#[utoipa::path(delete, path = "/v1/packs/{name}", tag = "packs",
    params(("name" = String, Path, description = "The pack's id from GET /v1/packs")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such installed pack (`no-such-pack`)", body = Problem),
        (status = 409, description = "The active pack (`pack-is-active`: activate another first), or a built-in one (`pack-is-read-only`)", body = Problem),
        (status = 507, description = "The data dir is read-only (`disk-full`)", body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
    _body: Bytes,
) -> Result<StatusCode, ApiError> {
    state.packs().delete(&name).await?;
    tracing::info!("pack {name} deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// An archive's media type, or none, passes; anything else (JSON, a form) is a mistake
/// worth saying so.
fn check_archive_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let mime = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if ARCHIVE_TYPES.contains(&mime.as_str()) {
        return Ok(());
    }
    Err(ApiError::specific(
        ProblemType::UnsupportedMediaType,
        "send the archive's bytes as application/x-tar, application/gzip, application/zip or \
         application/octet-stream (the format is read from the bytes)",
    ))
}

/// Why receiving the body stopped.
enum Stop {
    /// The request's fault (too large, too slow, cut off).
    Refused(ApiError),
    /// The disk writer stopped: its error says why.
    WriterGone,
}

/// Streams `body` into a new upload file, at most `cap` bytes, each chunk arriving within
/// the body timeout and the whole within [`UPLOAD_TIME_LIMIT`]. The file is written off the
/// async threads, a few chunks behind the network.
async fn receive(state: &AppState, body: Body, cap: usize) -> Result<Upload, ApiError> {
    let (sender, mut receiver) = mpsc::channel::<Bytes>(CHUNKS_IN_FLIGHT);
    let packs = state.packs().clone();
    let writer = tokio::task::spawn_blocking(move || {
        let mut upload = packs.new_upload()?;
        while let Some(chunk) = receiver.blocking_recv() {
            upload.write(&chunk)?;
        }
        Ok::<_, StoreError>(upload)
    });
    let idle = state.body_read_timeout();
    let read = tokio::time::timeout(UPLOAD_TIME_LIMIT, stream(body, sender, cap, idle)).await;
    let written = writer
        .await
        .map_err(|e| ApiError::Internal(format!("the upload's writer stopped: {e}")));
    match read {
        Err(_) => Err(ApiError::Timeout),
        Ok(Err(Stop::Refused(error))) => Err(error),
        Ok(Err(Stop::WriterGone) | Ok(())) => Ok(written??),
    }
}

async fn stream(
    mut body: Body,
    sender: mpsc::Sender<Bytes>,
    cap: usize,
    idle: Duration,
) -> Result<(), Stop> {
    let too_large = || {
        Stop::Refused(ApiError::specific(
            ProblemType::TooLarge,
            format!(
                "the archive is larger than the {} upload cap (pack_upload_limit in the config file)",
                size(cap as u64)
            ),
        ))
    };
    let mut received = 0usize;
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Err(_) => return Err(Stop::Refused(ApiError::Timeout)),
            Ok(None) => return Ok(()),
            Ok(Some(Err(error))) => {
                let cause = std::error::Error::source(&error);
                if cause.is_some_and(|e| e.is::<http_body_util::LengthLimitError>()) {
                    return Err(too_large());
                }
                return Err(Stop::Refused(ApiError::specific(
                    ProblemType::BadArchive,
                    format!("the upload was cut off: {error}"),
                )));
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(chunk) = frame.into_data() else {
            continue; // trailers
        };
        received += chunk.len();
        if received > cap {
            return Err(too_large());
        }
        if sender.send(chunk).await.is_err() {
            return Err(Stop::WriterGone);
        }
    }
}
