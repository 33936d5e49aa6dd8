//! Sessions: plans of timeboxed segments, colotomic forms, and the pure timeline that maps
//! them onto audio frames.
//!
//! The flow is parse → validate → compute:
//! - [`plan`]: a [`Plan`] as written (TOML or JSON) becomes a [`ValidPlan`] once, at the
//!   boundary; the rest of gongan trusts it.
//! - [`form`]: the colotomic [`Form`]s whose beats subdivide a timebox, and the
//!   [`Density`] that chooses which strokes sound.
//! - [`history`]: the facilitator's steering (pause, next, extend…) as a [`History`] of
//!   events at session-relative frames.
//! - [`timeline`](mod@timeline): the pure function [`timeline()`] from a plan, a history and options to
//!   every stroke at its exact frame, plus queries the session actor and the HTTP API need.
//! - [`wheel`]: how a segment's wheel spins and its rotation shares out turns.
//! - [`templates()`]: the built-in plans, embedded in the binary.

pub mod clock;
pub mod conductor;
pub mod cues;
pub mod debrief;
pub mod duration;
mod event;
pub mod form;
pub mod history;
pub mod plan;
pub mod record;
pub mod render;
pub mod runner;
mod templates;
pub mod timeline;
pub mod wheel;

pub use clock::{Moment, SessionClock, rfc3339};
pub use conductor::{
    Ahead, Conductor, ConductorConfig, ConductorError, ConductorHandle, CueEvent, CueReceipt,
    Event, OutputEvent, RoomMessage, SESSION_RATE, Tick, TickSession,
};
pub use cues::{Cue, CueId, CueListing, CueTime};
pub use debrief::{Debrief, plan_from_actuals};
pub use duration::{DurationError, SegmentDuration};
pub use event::SessionEvent;
pub use form::{Beat, Density, Form, FormError, Part, Pattern, PatternError};
pub use history::{History, HistoryError, Steer};
pub use plan::{Draw, EndAction, Plan, PlanError, PlanId, RawSegment, Segment, ValidPlan};
pub use record::{
    Action, Actor, ActorError, Ending, Journal, JournalEntry, JournalError, MemoryJournal,
    NoJournal, RecordError, SessionId, SessionRecord,
};
pub use render::{RenderError, RenderOptions, RenderReport, RenderedStroke, render_session};
pub use runner::{
    LATE_TOLERANCE, Runner, SegmentStatus, Snapshot, SpinStatus, SteerCommand, SteerError,
    StrokeAhead, TurnStatus, WheelStatus,
};
pub use templates::{TEMPLATE_SOURCES, template, templates};
pub use timeline::{
    BeatMark, Instrument, Position, RunEnd, SegmentRun, Speed, SpeedError, State, Stroke,
    StrokeKind, Timeline, TimelineOptions, timeline,
};
