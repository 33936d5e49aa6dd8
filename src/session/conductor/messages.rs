//! The messages a [`ConductorHandle`](super::ConductorHandle) sends the actor, each with the
//! oneshot channel its answer goes back on.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use super::{Ahead, ConductorError, CueReceipt, OutputEvent, RoomMessage};
use crate::audio::{Sound, Volume, VolumeChange};
use crate::pack::Pack;
use crate::session::cues::{Cue, CueId, CueListing};
use crate::session::plan::ValidPlan;
use crate::session::record::{Actor, SessionRecord};
use crate::session::runner::{Snapshot, SteerCommand};
use crate::session::timeline::Speed;

/// A request to the actor. Private to the conductor: callers go through the handle, so
/// the protocol can change without touching them.
pub(super) enum Request {
    Start {
        plan: ValidPlan,
        speed: Speed,
        by: Actor,
        reply: oneshot::Sender<Result<Snapshot, ConductorError>>,
    },
    Resume {
        record: Box<SessionRecord>,
        last_alive: Option<std::time::SystemTime>,
        reply: oneshot::Sender<Result<Snapshot, ConductorError>>,
    },
    Steer {
        command: SteerCommand,
        by: Actor,
        reply: oneshot::Sender<Result<Snapshot, ConductorError>>,
    },
    Output {
        event: OutputEvent,
    },
    Snapshot {
        reply: oneshot::Sender<Option<Snapshot>>,
    },
    Cue {
        cue: Cue,
        by: Actor,
        reply: oneshot::Sender<Result<CueReceipt, ConductorError>>,
    },
    Cues {
        reply: oneshot::Sender<Vec<CueListing>>,
    },
    CancelCue {
        id: CueId,
        reply: oneshot::Sender<Result<(), ConductorError>>,
    },
    SetPack {
        pack: Arc<Pack>,
        reply: oneshot::Sender<()>,
    },
    Latency {
        reply: oneshot::Sender<Duration>,
    },
    /// The session's strokes of the next `horizon`, and the pack they are voiced on.
    Ahead {
        horizon: Duration,
        reply: oneshot::Sender<Ahead>,
    },
    /// Reads the master volume (an empty change) or changes it.
    Volume {
        change: VolumeChange,
        by: Actor,
        reply: oneshot::Sender<Result<Volume, ConductorError>>,
    },
    /// Reads the message to the room (`None`) or sets it.
    RoomMessage {
        text: Option<String>,
        by: Actor,
        reply: oneshot::Sender<RoomMessage>,
    },
    /// Plays one sound of any pack now, outside the session: a preview.
    Preview {
        instrument: String,
        variant: Option<u32>,
        sound: Arc<Sound>,
        gain: f32,
        reply: oneshot::Sender<Result<CueReceipt, ConductorError>>,
    },
}
