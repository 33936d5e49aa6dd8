//! [`ApiError`]: every way a request can fail, as one type that answers with an
//! `application/problem+json` body (RFC 9457), and [`ProblemType`]: the table of problem
//! types, each with its status and meaning.
//!
//! Handlers return `Result<_, ApiError>`; this is the one place that decides the status
//! code, the problem type and the wording, so the same mistake reads the same on every
//! route. Domain errors ([`ConductorError`], [`PlanError`], [`StoreError`]) convert here,
//! each variant to its own problem type; the OpenAPI document lists the table, so
//! integrators can rely on the types.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use thiserror::Error;
use utoipa::ToSchema;

use crate::session::{ConductorError, HistoryError, JournalError, PlanError, SteerError};
use crate::store::StoreError;

/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Declares [`ProblemType`] from one table: each row's doc comment is its meaning (shown in
/// the OpenAPI document), then its status and its slug.
macro_rules! problem_types {
    ($($(#[doc = $meaning:literal])+ $name:ident = ($status:ident, $slug:literal),)+) => {
        /// Every kind of problem the API answers with. The `type` of a problem document is
        /// `urn:gongan:problem:` followed by the slug; the slugs are stable.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ProblemType {
            $($(#[doc = $meaning])+ $name,)+
        }

        impl ProblemType {
            /// Every problem type, in the order of the table.
            pub const ALL: &[ProblemType] = &[$(ProblemType::$name),+];

            /// The short name, e.g. `plan-is-template`.
            #[must_use]
            pub fn slug(self) -> &'static str {
                match self {
                    $(ProblemType::$name => $slug,)+
                }
            }

            /// The HTTP status it is answered with.
            #[must_use]
            pub fn status(self) -> StatusCode {
                match self {
                    $(ProblemType::$name => StatusCode::$status,)+
                }
            }

            /// What it means, in a sentence or two.
            #[must_use]
            pub fn meaning(self) -> &'static str {
                match self {
                    $(ProblemType::$name => concat!($($meaning),+).trim_start(),)+
                }
            }
        }
    };
}

problem_types! {
    // The request itself.
    /// The body is not JSON at all.
    MalformedJson = (BAD_REQUEST, "malformed-json"),
    /// JSON (or TOML) of the wrong shape: a missing field, a wrong type, an unknown field.
    WrongShape = (UNPROCESSABLE_ENTITY, "wrong-shape"),
    /// A value that is well-formed but not acceptable (a speed, a gain, an id).
    Invalid = (UNPROCESSABLE_ENTITY, "invalid"),
    /// A state-changing request whose body is not sent as `application/json`.
    UnsupportedMediaType = (UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type"),
    /// The request body is over the server's byte cap.
    TooLarge = (PAYLOAD_TOO_LARGE, "too-large"),
    /// The request body took too long to arrive.
    Timeout = (REQUEST_TIMEOUT, "timeout"),
    /// No such route, or no such thing (a session, a history entry).
    NotFound = (NOT_FOUND, "not-found"),
    /// The route exists but not with this method.
    MethodNotAllowed = (METHOD_NOT_ALLOWED, "method-not-allowed"),
    /// The request does not fit the server's current state.
    Conflict = (CONFLICT, "conflict"),
    /// No token, or the wrong one.
    Unauthorized = (UNAUTHORIZED, "unauthorized"),
    /// A `Host` or `Origin` that is not allowed.
    Forbidden = (FORBIDDEN, "forbidden"),
    /// The server cannot take the request now.
    Unavailable = (SERVICE_UNAVAILABLE, "unavailable"),
    // Sessions.
    /// A session is already running: stop it before starting another.
    SessionRunning = (CONFLICT, "session-running"),
    /// No session is running.
    NoSession = (CONFLICT, "no-session"),
    /// The session has finished (or was stopped): start a new one.
    SessionFinished = (CONFLICT, "session-finished"),
    /// Pause while the session is paused.
    AlreadyPaused = (CONFLICT, "already-paused"),
    /// Resume while the session is not paused.
    NotPaused = (CONFLICT, "not-paused"),
    /// A cue quantised to a beat or gong that will not come (paused, overtime, finished).
    NoBeat = (CONFLICT, "no-beat"),
    /// An extension of zero or of more than 24 hours.
    BadExtension = (UNPROCESSABLE_ENTITY, "bad-extension"),
    /// The session's history refused a step out of time order.
    OutOfOrder = (CONFLICT, "out-of-order"),
    /// A time left of more than 24 hours.
    BadTimeLeft = (UNPROCESSABLE_ENTITY, "bad-time-left"),
    /// A jump to a segment the plan does not have.
    NoSuchSegment = (UNPROCESSABLE_ENTITY, "no-such-segment"),
    /// A spin in a segment without a wheel (its plan gives it no `entries`).
    NoWheel = (CONFLICT, "no-wheel"),
    /// Less time asked off than is left: the segment is already past its deadline.
    NothingLeft = (CONFLICT, "nothing-left"),
    // Cues.
    /// The active pack has no instrument of that name (`GET /v1/instruments` lists them).
    UnknownInstrument = (UNPROCESSABLE_ENTITY, "unknown-instrument"),
    /// The instrument has no variant of that number.
    UnknownVariant = (UNPROCESSABLE_ENTITY, "unknown-variant"),
    /// A cue time already past, or too far ahead.
    BadTime = (UNPROCESSABLE_ENTITY, "bad-time"),
    /// Too many future cues are waiting: cancel some, or cue for now (always accepted).
    TooManyCues = (TOO_MANY_REQUESTS, "too-many-cues"),
    /// No pending cue has that id: it has played, was cancelled, or never existed.
    NoSuchCue = (NOT_FOUND, "no-such-cue"),
    /// The audio engine is not taking commands now; try again.
    EngineBusy = (SERVICE_UNAVAILABLE, "engine-busy"),
    /// The server is shutting down.
    ShuttingDown = (SERVICE_UNAVAILABLE, "shutting-down"),
    // Plans.
    /// A plan with problems; the detail lists every one.
    InvalidPlan = (UNPROCESSABLE_ENTITY, "invalid-plan"),
    /// No template or saved plan has that id (`GET /v1/plans` lists them).
    NoSuchPlan = (NOT_FOUND, "no-such-plan"),
    /// A built-in template cannot be changed or deleted: save your version under another id.
    PlanIsTemplate = (CONFLICT, "plan-is-template"),
    /// The saved plan's file no longer parses or validates (edited by hand?): save a new
    /// version.
    SavedPlanInvalid = (CONFLICT, "saved-plan-invalid"),
    // Packs.
    /// No pack has that id (`GET /v1/packs` lists them).
    NoSuchPack = (NOT_FOUND, "no-such-pack"),
    /// The pack's files do not make a pack gongan can play; the detail names the file.
    PackDoesNotLoad = (UNPROCESSABLE_ENTITY, "pack-does-not-load"),
    /// An uploaded archive that is not a tar, tar.gz or zip, is damaged, or holds an entry
    /// a pack may not (`..`, an absolute path, a link, a device, a duplicate name); the
    /// detail names the entry. Nothing was installed.
    BadArchive = (UNPROCESSABLE_ENTITY, "bad-archive"),
    /// An uploaded archive that would unpack too large: too many entries, too many bytes,
    /// or an entry that expands like a zip bomb. Nothing was installed.
    ArchiveTooLarge = (PAYLOAD_TOO_LARGE, "archive-too-large"),
    /// The pack is the active one: activate another before replacing or deleting it.
    PackIsActive = (CONFLICT, "pack-is-active"),
    /// A built-in pack (`default`) or the pack given with `--pack DIR` cannot be replaced
    /// or deleted: install yours under another name.
    PackIsReadOnly = (CONFLICT, "pack-is-read-only"),
    // Receivers, links and logins.
    /// A receiver's delivery whose signature or token does not match its secret.
    BadSignature = (UNAUTHORIZED, "bad-signature"),
    /// A signed delivery whose timestamp is outside the tool's replay window (Slack: five
    /// minutes): replayed, or a clock far off.
    StaleDelivery = (UNAUTHORIZED, "stale-delivery"),
    /// A delivery that is not in the format its tool sends (missing fields, wrong version).
    UnknownDelivery = (BAD_REQUEST, "unknown-delivery"),
    /// A link's secret allows other actions, not this one.
    NotAllowed = (FORBIDDEN, "not-allowed"),
    /// Too many failed logins from everywhere in a short time: wait and try again.
    TooManyLogins = (TOO_MANY_REQUESTS, "too-many-logins"),
    /// A link name is already in use by a live link: revoke it or choose another.
    LinkExists = (CONFLICT, "link-exists"),
    /// No notification target has that name (the config file's `[[notify]]` lists them).
    NoSuchTarget = (NOT_FOUND, "no-such-target"),
    // The data dir.
    /// A path in the data dir is a FIFO, a device or a folder (or a symlink to one), not a
    /// regular file: gongan does not read it. Replace or remove it.
    NotARegularFile = (CONFLICT, "not-a-regular-file"),
    /// A file in the data dir is over its size cap (1 MiB for a plan): gongan does not
    /// read it.
    FileTooLarge = (CONFLICT, "file-too-large"),
    /// The data dir is full or read-only: nothing was changed. Free some space or make it
    /// writable.
    DiskFull = (INSUFFICIENT_STORAGE, "disk-full"),
    /// A file in the data dir could not be read, written or removed (other than a full or
    /// read-only disk).
    StoreFailed = (INTERNAL_SERVER_ERROR, "store-failed"),
    /// The database in the data dir could not be opened, read or written.
    DatabaseFailed = (INTERNAL_SERVER_ERROR, "database-failed"),
    /// The data dir holds something gongan cannot read back (a corrupt journal entry).
    StoreCorrupt = (INTERNAL_SERVER_ERROR, "store-corrupt"),
    /// The session journal could not be written, so the change was not made.
    JournalFailed = (INTERNAL_SERVER_ERROR, "journal-failed"),
    /// The built-in default pack did not render (a bug).
    BuiltinPackFailed = (INTERNAL_SERVER_ERROR, "builtin-pack-failed"),
    /// Anything else that is the server's fault.
    Internal = (INTERNAL_SERVER_ERROR, "internal"),
}

/// Why a request was refused. Nothing changed on the server.
#[derive(Debug, Error)]
pub enum ApiError {
    /// The body is not JSON at all.
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    /// JSON of the wrong shape: a missing field, a wrong type, an unknown field.
    #[error("the body does not fit: {0}")]
    WrongShape(String),
    /// A value that is well-formed but not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// Not `Content-Type: application/json`.
    #[error("send the body as JSON with the header 'Content-Type: application/json'")]
    UnsupportedMediaType,
    /// The body is over the cap.
    #[error("the body is larger than the {0}-byte limit")]
    TooLarge(usize),
    /// The body took too long to arrive.
    #[error("the body took too long to arrive")]
    Timeout,
    /// No such thing.
    #[error("{0}")]
    NotFound(String),
    /// The route exists but not with this method.
    #[error("this route does not take {0}")]
    MethodNotAllowed(String),
    /// The request does not fit the server's current state.
    #[error("{0}")]
    Conflict(String),
    /// No token, or the wrong one.
    #[error(
        "this server needs its token: send 'Authorization: Bearer TOKEN' (or log in with POST /v1/login)"
    )]
    Unauthorized,
    /// A `Host` or `Origin` that is not ours.
    #[error("{0}")]
    Forbidden(String),
    /// The server cannot take it now (shutting down, engine queue full).
    #[error("{0}")]
    Unavailable(String),
    /// A bound was reached (too many future cues waiting); try again later.
    #[error("{0}")]
    TooMany(String),
    /// The data dir cannot take the write (full, or read-only): nothing changed.
    #[error("{0}")]
    DiskFull(String),
    /// Our fault: a disk write failed, a task died.
    #[error("{0}")]
    Internal(String),
    /// A problem of a specific type (a session, cue, plan, pack or store error).
    #[error("{detail}")]
    Specific {
        /// Its type (and so its status).
        kind: ProblemType,
        /// What went wrong, and what to do about it.
        detail: String,
    },
}

/// The body of an error answer (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `urn:gongan:problem:unknown-instrument`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, and what to do about it.
    pub detail: String,
}

impl ApiError {
    /// An error of type `kind` saying `detail`.
    #[must_use]
    pub fn specific(kind: ProblemType, detail: impl Into<String>) -> ApiError {
        ApiError::Specific {
            kind,
            detail: detail.into(),
        }
    }

    /// The problem type (and so the status).
    #[must_use]
    pub fn kind(&self) -> ProblemType {
        match self {
            ApiError::MalformedJson(_) => ProblemType::MalformedJson,
            ApiError::WrongShape(_) => ProblemType::WrongShape,
            ApiError::Invalid(_) => ProblemType::Invalid,
            ApiError::UnsupportedMediaType => ProblemType::UnsupportedMediaType,
            ApiError::TooLarge(_) => ProblemType::TooLarge,
            ApiError::Timeout => ProblemType::Timeout,
            ApiError::NotFound(_) => ProblemType::NotFound,
            ApiError::MethodNotAllowed(_) => ProblemType::MethodNotAllowed,
            ApiError::Conflict(_) => ProblemType::Conflict,
            ApiError::Unauthorized => ProblemType::Unauthorized,
            ApiError::Forbidden(_) => ProblemType::Forbidden,
            ApiError::Unavailable(_) => ProblemType::Unavailable,
            ApiError::TooMany(_) => ProblemType::TooManyCues,
            ApiError::DiskFull(_) => ProblemType::DiskFull,
            ApiError::Internal(_) => ProblemType::Internal,
            ApiError::Specific { kind, .. } => *kind,
        }
    }

    /// The problem document for this error.
    #[must_use]
    pub fn problem(&self) -> Problem {
        let kind = self.kind();
        let status = kind.status();
        Problem {
            kind: format!("urn:gongan:problem:{}", kind.slug()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        if problem.status >= 500 {
            tracing::error!(status = problem.status, "{}", problem.detail);
        } else {
            tracing::debug!(status = problem.status, "{}", problem.detail);
        }
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (self.kind().status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if matches!(self, ApiError::Unauthorized) {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"gongan\""),
            );
        }
        response
    }
}

impl From<ConductorError> for ApiError {
    fn from(error: ConductorError) -> ApiError {
        use ProblemType as P;
        let kind = match &error {
            ConductorError::SessionRunning(_) => P::SessionRunning,
            ConductorError::NoSession => P::NoSession,
            ConductorError::NoBeat(_) => P::NoBeat,
            ConductorError::Steer(steer) => match steer {
                SteerError::Finished | SteerError::History(HistoryError::Stopped(_)) => {
                    P::SessionFinished
                }
                SteerError::AlreadyPaused => P::AlreadyPaused,
                SteerError::NotPaused => P::NotPaused,
                SteerError::History(HistoryError::BadExtension(_)) => P::BadExtension,
                SteerError::History(HistoryError::OutOfOrder { .. }) => P::OutOfOrder,
                SteerError::History(HistoryError::BadTimeLeft(_)) => P::BadTimeLeft,
                SteerError::NoSuchSegment { .. } => P::NoSuchSegment,
                SteerError::NoWheel(_) => P::NoWheel,
                SteerError::NothingLeft => P::NothingLeft,
            },
            ConductorError::UnknownInstrument(_) => P::UnknownInstrument,
            ConductorError::UnknownVariant { .. } => P::UnknownVariant,
            ConductorError::BadTime(_) => P::BadTime,
            ConductorError::TooManyCues(_) => P::TooManyCues,
            ConductorError::NoSuchCue(_) => P::NoSuchCue,
            ConductorError::Engine(_) => P::EngineBusy,
            ConductorError::Gone => P::ShuttingDown,
            ConductorError::Journal(JournalError::Full(_)) => P::DiskFull,
            ConductorError::Journal(JournalError::Failed(_)) => P::JournalFailed,
        };
        ApiError::specific(kind, error.to_string())
    }
}

impl From<PlanError> for ApiError {
    fn from(error: PlanError) -> ApiError {
        match error {
            PlanError::Json(e) | PlanError::Toml(e) => ApiError::WrongShape(e),
            PlanError::Invalid(problems) => ApiError::specific(
                ProblemType::InvalidPlan,
                format!("the plan has problems: {problems}").replace('\n', "; "),
            ),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        use ProblemType as P;
        let kind = match &error {
            StoreError::Full(_) => P::DiskFull,
            StoreError::NotFound(_) => P::NotFound,
            StoreError::Database(_) => P::DatabaseFailed,
            StoreError::Corrupt(_) => P::StoreCorrupt,
            StoreError::NoSuchPlan(_) => P::NoSuchPlan,
            StoreError::Template(_) => P::PlanIsTemplate,
            StoreError::InvalidPlan { .. } => P::SavedPlanInvalid,
            StoreError::NoSuchPack { .. } => P::NoSuchPack,
            StoreError::PackDoesNotLoad { .. } => P::PackDoesNotLoad,
            StoreError::BadArchive(error) if error.is_about_size() => P::ArchiveTooLarge,
            StoreError::BadArchive(_) => P::BadArchive,
            StoreError::BadPackName(_) => P::Invalid,
            StoreError::PackIsActive(_) => P::PackIsActive,
            StoreError::PackIsReadOnly { .. } => P::PackIsReadOnly,
            StoreError::BuiltinPack(_) => P::BuiltinPackFailed,
            StoreError::NotRegularFile { .. } => P::NotARegularFile,
            StoreError::TooLarge { .. } => P::FileTooLarge,
            StoreError::Io { .. } => P::StoreFailed,
            StoreError::Stopped(_) => P::Internal,
        };
        // The store speaks of plans; where to find them over HTTP is said here.
        let detail = match kind {
            P::NoSuchPlan => format!("{error}; GET /v1/plans lists them"),
            _ => error.to_string(),
        };
        ApiError::specific(kind, detail)
    }
}

#[cfg(test)]
mod test {
    use std::collections::BTreeSet;

    use super::*;
    use crate::session::PlanId;
    use crate::store::files::FileKind;

    #[track_caller]
    fn check(error: impl Into<ApiError>, status: u16, slug: &str) {
        let problem = error.into().problem();
        assert_eq!(
            (problem.status, problem.kind.as_str()),
            (status, format!("urn:gongan:problem:{slug}").as_str()),
            "{}",
            problem.detail
        );
    }

    #[test]
    fn conductor_errors_are_client_errors_except_when_the_server_is_busy() {
        let cases = [
            (ConductorError::NoSession, 409, "no-session"),
            (
                ConductorError::SessionRunning("x".into()),
                409,
                "session-running",
            ),
            (
                ConductorError::Steer(SteerError::Finished),
                409,
                "session-finished",
            ),
            (
                ConductorError::Steer(SteerError::AlreadyPaused),
                409,
                "already-paused",
            ),
            (
                ConductorError::Steer(SteerError::NotPaused),
                409,
                "not-paused",
            ),
            (
                ConductorError::Steer(SteerError::History(HistoryError::BadExtension(
                    std::time::Duration::ZERO,
                ))),
                422,
                "bad-extension",
            ),
            (
                ConductorError::UnknownInstrument("x".into()),
                422,
                "unknown-instrument",
            ),
            (
                ConductorError::UnknownVariant {
                    instrument: "kenong".into(),
                    variant: 9,
                    count: 6,
                },
                422,
                "unknown-variant",
            ),
            (ConductorError::NoBeat("beat"), 409, "no-beat"),
            (ConductorError::BadTime("x".into()), 422, "bad-time"),
            (ConductorError::Gone, 503, "shutting-down"),
            (ConductorError::TooManyCues(256), 429, "too-many-cues"),
            (ConductorError::NoSuchCue(3), 404, "no-such-cue"),
            (
                ConductorError::Journal(JournalError::Full("x".into())),
                507,
                "disk-full",
            ),
            (
                ConductorError::Journal(JournalError::Failed("x".into())),
                500,
                "journal-failed",
            ),
        ];
        for (error, status, slug) in cases {
            check(error, status, slug);
        }
    }

    #[test]
    fn store_errors_have_their_own_types() {
        let id = || PlanId::parse("drill").unwrap();
        check(StoreError::Full("x".into()), 507, "disk-full");
        check(StoreError::NoSuchPlan(id()), 404, "no-such-plan");
        check(StoreError::Template(id()), 409, "plan-is-template");
        check(
            StoreError::NoSuchPack {
                name: "x".into(),
                packs: vec!["default".into()],
            },
            404,
            "no-such-pack",
        );
        check(
            StoreError::NotRegularFile {
                file: "plans/x.toml".into(),
                kind: FileKind::Fifo,
            },
            409,
            "not-a-regular-file",
        );
        check(
            StoreError::TooLarge {
                file: "plans/x.toml".into(),
                bytes: 2 << 20,
                limit: 1 << 20,
            },
            409,
            "file-too-large",
        );
        check(StoreError::NotFound("x".into()), 404, "not-found");
        let detail = ApiError::from(StoreError::NoSuchPlan(id()))
            .problem()
            .detail;
        assert!(detail.ends_with("GET /v1/plans lists them"), "{detail}");
    }

    #[test]
    fn every_problem_type_has_its_own_slug_and_a_meaning() {
        let slugs: BTreeSet<&str> = ProblemType::ALL.iter().map(|p| p.slug()).collect();
        assert_eq!(slugs.len(), ProblemType::ALL.len());
        for kind in ProblemType::ALL {
            assert!(
                kind.meaning().ends_with('.'),
                "{kind:?}: {}",
                kind.meaning()
            );
            assert!(!kind.meaning().starts_with(' '));
            assert!(kind.status().is_client_error() || kind.status().is_server_error());
        }
        assert_eq!(
            ProblemType::PlanIsTemplate.meaning(),
            "A built-in template cannot be changed or deleted: save your version under another id."
        );
    }
}
