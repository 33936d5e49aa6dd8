//! What the conductor publishes to its subscribers (the event stream, the page): the
//! session's events, cues played, ticks, output changes and warnings, in one stream.

use serde::Serialize;

use crate::audio::{Frame, Volume};
use crate::session::clock::rfc3339;
use crate::session::cues::CueId;
use crate::session::event::SessionEvent;
use crate::session::record::Actor;
use crate::session::timeline::State;

/// A cue event, published with the session's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CueEvent {
    /// A cue's stroke started at exactly `frame`.
    CuePlayed {
        /// The cue.
        id: CueId,
        /// Its instrument.
        instrument: String,
        /// Its variant.
        #[serde(skip_serializing_if = "Option::is_none")]
        variant: Option<u32>,
        /// Engine frame of its first sample.
        frame: Frame,
        /// When it is heard, UTC.
        utc: String,
        /// When it is heard, in seconds on the server's clock (`GET /v1/time`'s `clock`):
        /// a listener's browser plays it then.
        clock: f64,
        /// The linear gain it plays at (the pack's instrument gain and the cue's own).
        gain: f32,
        /// Who cued it (`page`, `slack:ana`, an alert's rule, a link…).
        by: Actor,
    },
}

/// A cue accepted, told at once with the instant it will be heard: a listener's browser
/// schedules it then, ahead of the `cue_played` that follows when the sound card takes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename = "cue_scheduled")]
pub struct CueScheduled {
    /// The cue (its `cue_played` carries the same id).
    pub id: CueId,
    /// Its instrument.
    pub instrument: String,
    /// Its variant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<u32>,
    /// When it is to be heard, in seconds on the server's clock (`GET /v1/time`'s `clock`).
    pub clock: f64,
    /// The linear gain it plays at.
    pub gain: f32,
}

/// Everything the conductor publishes, in one stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Event {
    /// From the session.
    Session(SessionEvent),
    /// From a cue.
    Cue(CueEvent),
    /// A cue accepted, with when it will be heard.
    CueScheduled(CueScheduled),
    /// Once a second: where the engine and the session are.
    Tick(Tick),
    /// The output changed state (a sound card lost or back).
    Output(OutputEvent),
    /// Something the facilitator should know that is not the session's doing (the journal
    /// cannot be written: the session keeps time but will not survive a restart).
    Warning(Warning),
    /// The master volume or mute changed: every open page moves its slider.
    Volume(VolumeEvent),
    /// The facilitator's message to the room changed (the presentation view shows it).
    RoomMessage(RoomMessage),
}

/// The facilitator's message to the room: a line the presentation view shows under the
/// clock ("Back at 10:40", "Ana has the pager").
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RoomMessage {
    /// Always `room_message`.
    #[serde(rename = "type")]
    #[schema(example = "room_message")]
    pub kind: String,
    /// The message; empty when there is none.
    #[schema(example = "Back at 10:40")]
    pub text: String,
    /// Who set it.
    #[schema(value_type = String)]
    pub by: Actor,
    /// When, UTC.
    pub utc: String,
}

impl RoomMessage {
    /// `text` from `by`, now.
    #[must_use]
    pub fn new(text: String, by: Actor) -> RoomMessage {
        RoomMessage {
            kind: "room_message".to_owned(),
            text,
            by,
            utc: rfc3339(std::time::SystemTime::now()),
        }
    }
}

/// The master volume changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VolumeEvent {
    /// Always `volume`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The level and mute now.
    #[serde(flatten)]
    pub volume: Volume,
    /// Who changed it.
    pub by: Actor,
    /// When, UTC.
    pub utc: String,
}

/// A warning for the page and the event stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    /// Always `warning`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// What is wrong and what it means.
    pub detail: String,
    /// When, UTC.
    pub utc: String,
}

impl Warning {
    /// A warning now.
    #[must_use]
    pub fn now(detail: String) -> Warning {
        Warning {
            kind: "warning",
            detail,
            utc: rfc3339(std::time::SystemTime::now()),
        }
    }
}

/// The output's state changed: published when a sound card stops taking audio, when it
/// plays again, and when it is reopened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputEvent {
    /// Always `output`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `device`, `null` or `degraded`, as `/healthz` says.
    pub output: &'static str,
    /// The device's name.
    pub device: String,
    /// Why it is degraded, or what recovered it.
    pub detail: String,
    /// When, UTC.
    pub utc: String,
}

/// The periodic position report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tick {
    /// Always `tick`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The engine's frame clock.
    pub frame: Frame,
    /// The same in seconds since the engine started.
    pub engine_seconds: f64,
    /// The server's clock, UTC.
    pub utc: String,
    /// The session, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<TickSession>,
}

/// The session part of a [`Tick`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TickSession {
    /// What it is doing.
    pub state: State,
    /// The current segment.
    pub segment: usize,
    /// Its title.
    pub title: String,
    /// Seconds to its deadline (standing still while paused).
    pub remaining_seconds: f64,
    /// Seconds past the deadline of a segment holding in overtime.
    pub overtime_seconds: f64,
    /// Seconds since the session started.
    pub elapsed_seconds: f64,
    /// The last beat sounded.
    pub beat: u16,
    /// Beats in the form.
    pub of: u16,
}

impl Event {
    /// The event's type name (the SSE `event:` field).
    #[must_use]
    pub fn kind(&self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or("event")
                .to_owned(),
            _ => "event".to_owned(),
        }
    }
}
