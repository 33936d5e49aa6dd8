//! The request and answer bodies of the HTTP API, shared by the server's routes, the
//! client ([`crate::client`]) and the OpenAPI document, so the three cannot disagree.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::openapi::PlanDoc;
use crate::session::conductor::CueReceipt;
use crate::session::{Actor, Plan};

/// Where a cue lands on the running form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Quantize {
    /// The next beat.
    Beat,
    /// The next gong.
    Gong,
}

/// A cue request.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CueRequest {
    /// An instrument of the active pack (`GET /v1/instruments`).
    #[schema(example = "gong")]
    pub instrument: String,
    /// Its variant, from 1, for pitched instruments (kenong 1–6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<u32>,
    /// Level relative to the pack's, −60 to +12 dB (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gain_db: Option<f32>,
    /// Seconds from now to play it (up to an hour); default now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_seconds: Option<f64>,
    /// The engine frame to play at (see `engine.frame` in `/v1/status`), for clients that
    /// analyse the audio; at most an hour ahead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<u64>,
    /// Land on the next `beat` or `gong` of the running session instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantize: Option<Quantize>,
    /// Who is cueing (`deploy-bot`, `cli:ana`…); shown in events and history.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub by: Option<Actor>,
}

/// The answer to a cue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CueAnswer {
    /// The cue's id (a coalesced cue has the id of the cue it joined).
    pub id: u64,
    /// The engine frame it sounds at.
    pub frame: u64,
    /// Seconds from now until it is heard (the output's latency included).
    pub in_seconds: f64,
    /// When it will be heard, UTC (RFC 3339).
    pub heard_at: String,
    /// True when an identical cue in the coalescing window already covers it: no extra
    /// stroke was added.
    pub coalesced: bool,
}

impl From<CueReceipt> for CueAnswer {
    fn from(receipt: CueReceipt) -> CueAnswer {
        CueAnswer {
            id: receipt.id.0,
            frame: receipt.frame.0,
            in_seconds: receipt.in_seconds,
            heard_at: receipt.heard_at,
            coalesced: receipt.coalesced,
        }
    }
}

/// Start a session: a saved plan or template by id, or a plan given inline.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartSession {
    /// A plan id from `GET /v1/plans`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    /// Or a whole plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<PlanDoc>)]
    pub plan: Option<Plan>,
    /// Or a past session's id (`GET /v1/history`): run its plan again (at its speed,
    /// unless `speed` says otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_history: Option<String>,
    /// Speed factor (1 = real time; 60 runs a minute a second), 0.01 to 10000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
    /// Who is starting it (`page`, `cli:ana`, `deploy-bot`…); shown in events and history.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub by: Option<Actor>,
}

/// Who is acting: the optional body of the session commands. A command with no body is
/// acted by `api`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActedBy {
    /// Who is acting (`page`, `cli:ana`, `deploy-bot`…), 1–100 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub by: Option<Actor>,
}

/// A change to the current segment's time: the body of `/extend`, `/shorten` and
/// `/time-left`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeChange {
    /// Seconds of plan time: added (`/extend`, more than 0), taken off (`/shorten`, more
    /// than 0) or left (`/time-left`, 0 ends the segment now on its gong); at most 86400.
    pub seconds: f64,
    /// Who is acting.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub by: Option<Actor>,
}

/// Jump to a segment of the plan.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Jump {
    /// The plan segment, from 0 (as `segment` in the snapshot).
    pub segment: usize,
    /// Who is acting.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub by: Option<Actor>,
}

/// A login.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// The server's token.
    pub token: String,
}
