//! Why the conductor refused a request.

use thiserror::Error;

use crate::audio::EngineError;
use crate::session::record::JournalError;
use crate::session::runner::SteerError;

/// Why the conductor refused a request. Nothing changed.
#[derive(Debug, Error, PartialEq)]
pub enum ConductorError {
    /// Start while a session runs.
    #[error("a session is already running ({0}); stop it first")]
    SessionRunning(String),
    /// Steering or quantising with no session.
    #[error("no session is running; start one first")]
    NoSession,
    /// The session refused the command.
    #[error(transparent)]
    Steer(#[from] SteerError),
    /// The pack has no such instrument.
    #[error("the active pack has no instrument '{0}'")]
    UnknownInstrument(String),
    /// The instrument has no such variant.
    #[error("instrument '{instrument}' has variants 1 to {count}, not {variant}")]
    UnknownVariant {
        /// The instrument.
        instrument: String,
        /// The variant asked for.
        variant: u32,
        /// How many it has.
        count: usize,
    },
    /// Quantising to a beat or gong that will not come (paused, overtime, finished).
    #[error("the session has no upcoming {0} to land on")]
    NoBeat(&'static str),
    /// A cue time already past or too far ahead.
    #[error("{0}")]
    BadTime(String),
    /// Too many timed cues are waiting already.
    #[error("{0} future cues are waiting already; cancel some (DELETE /v1/cues/ID) or cue for now")]
    TooManyCues(usize),
    /// No pending cue has that id.
    #[error("no pending cue {0}: it has played, was cancelled, or never existed")]
    NoSuchCue(u64),
    /// The journal could not record the change, so it was not made.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The engine is not taking commands.
    #[error("the audio engine is busy: {0}")]
    Engine(#[from] EngineError),
    /// The conductor task has ended (the server is shutting down).
    #[error("the server is shutting down")]
    Gone,
}
