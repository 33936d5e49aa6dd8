//! The handle through which handlers talk to the conductor.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot};

use super::messages::Request;
use super::{Ahead, ConductorError, CueReceipt, Event, OutputEvent, RoomMessage};
use crate::audio::{FrameClock, Sound, Volume, VolumeChange};
use crate::pack::Pack;
use crate::session::cues::{Cue, CueId, CueListing};
use crate::session::plan::ValidPlan;
use crate::session::record::{Actor, SessionRecord};
use crate::session::runner::{Snapshot, SteerCommand};
use crate::session::timeline::Speed;

/// The way in to a running [`Conductor`](super::Conductor): cheap to clone, one per handler.
#[derive(Clone)]
pub struct ConductorHandle {
    pub(super) requests: mpsc::Sender<Request>,
    pub(super) events: broadcast::Sender<Event>,
    pub(super) clock: FrameClock,
}

impl ConductorHandle {
    /// Starts a session of `plan` at `speed` for `by`, its buka a moment from now. The
    /// start is journaled before it is answered.
    pub async fn start(
        &self,
        plan: ValidPlan,
        speed: Speed,
        by: Actor,
    ) -> Result<Snapshot, ConductorError> {
        self.ask(|reply| Request::Start {
            plan,
            speed,
            by,
            reply,
        })
        .await?
    }

    /// Takes up a session the journal left unfinished (the server was killed or
    /// restarted): it goes on from where real time is now. `last_alive` is the last sign
    /// of life the server wrote, to say how long it was down.
    pub async fn resume(
        &self,
        record: SessionRecord,
        last_alive: Option<std::time::SystemTime>,
    ) -> Result<Snapshot, ConductorError> {
        self.ask(|reply| Request::Resume {
            record: Box::new(record),
            last_alive,
            reply,
        })
        .await?
    }

    /// Steers the running session for `by`; journaled before it is answered.
    pub async fn steer(
        &self,
        command: SteerCommand,
        by: Actor,
    ) -> Result<Snapshot, ConductorError> {
        self.ask(|reply| Request::Steer { command, by, reply })
            .await?
    }

    /// The output changed state: journaled with the running session, and published.
    pub async fn output_changed(&self, event: OutputEvent) -> Result<(), ConductorError> {
        self.requests
            .send(Request::Output { event })
            .await
            .map_err(|_| ConductorError::Gone)
    }

    /// The session as it is now, if there is (or was) one.
    pub async fn snapshot(&self) -> Result<Option<Snapshot>, ConductorError> {
        self.ask(|reply| Request::Snapshot { reply }).await
    }

    /// Strikes an instrument for `by`.
    pub async fn cue(&self, cue: Cue, by: Actor) -> Result<CueReceipt, ConductorError> {
        self.ask(|reply| Request::Cue { cue, by, reply }).await?
    }

    /// The cues accepted and not yet heard, soonest first.
    pub async fn cues(&self) -> Result<Vec<CueListing>, ConductorError> {
        self.ask(|reply| Request::Cues { reply }).await
    }

    /// Cancels a pending cue.
    pub async fn cancel_cue(&self, id: CueId) -> Result<(), ConductorError> {
        self.ask(|reply| Request::CancelCue { id, reply }).await?
    }

    /// Makes `pack` the one strokes and cues use from now on.
    pub async fn set_pack(&self, pack: Arc<Pack>) -> Result<(), ConductorError> {
        self.ask(|reply| Request::SetPack { pack, reply }).await
    }

    /// The output's measured latency: from now until the next frame rendered is heard.
    pub async fn latency(&self) -> Result<Duration, ConductorError> {
        self.ask(|reply| Request::Latency { reply }).await
    }

    /// The session's strokes heard within `horizon` from now, and the pack that plays
    /// them: what a listener's browser schedules ahead.
    pub async fn ahead(&self, horizon: Duration) -> Result<Ahead, ConductorError> {
        self.ask(|reply| Request::Ahead { horizon, reply }).await
    }

    /// The message to the room as it is now (empty text when there is none).
    pub async fn room_message(&self) -> Result<RoomMessage, ConductorError> {
        self.ask(|reply| Request::RoomMessage {
            text: None,
            by: Actor::server(),
            reply,
        })
        .await
    }

    /// Sets the message to the room for `by` (empty text clears it) and publishes it as a
    /// `room_message` event. Not journaled: it is said to the room, not done to the
    /// session.
    pub async fn set_room_message(
        &self,
        text: String,
        by: Actor,
    ) -> Result<RoomMessage, ConductorError> {
        self.ask(|reply| Request::RoomMessage {
            text: Some(text),
            by,
            reply,
        })
        .await
    }

    /// The master volume as it is now.
    pub async fn volume(&self) -> Result<Volume, ConductorError> {
        self.set_volume(VolumeChange::default(), Actor::server())
            .await
    }

    /// Changes the master volume for `by` (what `change` names; the rest stays) and
    /// publishes it; answers the volume now. Not journaled: it is the room's loudness,
    /// not the session's course. An empty change only reads it.
    pub async fn set_volume(
        &self,
        change: VolumeChange,
        by: Actor,
    ) -> Result<Volume, ConductorError> {
        self.ask(|reply| Request::Volume { change, by, reply })
            .await?
    }

    /// Plays `sound` (variant `variant` of `instrument`, from any pack) now at linear
    /// `gain`, outside the session: a preview. Answered like a cue now, and heard of like
    /// one (`cue_played`), but neither journaled nor coalesced.
    pub async fn preview(
        &self,
        instrument: String,
        variant: Option<u32>,
        sound: Arc<Sound>,
        gain: f32,
    ) -> Result<CueReceipt, ConductorError> {
        self.ask(|reply| Request::Preview {
            instrument,
            variant,
            sound,
            gain,
            reply,
        })
        .await?
    }

    /// A new subscription to every event from now on.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// The engine's frame clock.
    #[must_use]
    pub fn clock(&self) -> &FrameClock {
        &self.clock
    }

    async fn ask<T>(
        &self,
        request: impl FnOnce(oneshot::Sender<T>) -> Request,
    ) -> Result<T, ConductorError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(request(reply))
            .await
            .map_err(|_| ConductorError::Gone)?;
        answer.await.map_err(|_| ConductorError::Gone)
    }
}
