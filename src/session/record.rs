//! What a session leaves behind: who did what and when ([`JournalEntry`]), and the
//! [`SessionRecord`] folded from a session's entries — enough to resume it after a crash
//! and to debrief it afterwards.
//!
//! The journal is the record of truth. Every change to a session is an entry, written
//! (durably) before the change is acknowledged; the timeline is a pure function of the
//! plan and the steering, so plan + steering + start instant rebuild the session exactly.

use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::history::{History, HistoryError, Steer};
use super::plan::ValidPlan;
use super::timeline::Speed;
use crate::audio::Frame;

/// Who asked for a change: `page`, `cli:ana`, `slack:@ana`, `alertmanager:HighLatency`,
/// `link:streamdeck`, `deploy-bot`… Shown in events, the page's log and history.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Actor(String);

/// The longest actor name, in characters.
pub const MAX_ACTOR_CHARS: usize = 100;

/// Why a name cannot be an actor.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error(
    "'by' names who is acting: 1 to {MAX_ACTOR_CHARS} characters, no control characters (e.g. \"deploy-bot\")"
)]
pub struct ActorError;

impl Actor {
    /// A request that did not say who it is.
    pub const UNNAMED: &'static str = "api";

    /// An actor from a name: trimmed, 1 to [`MAX_ACTOR_CHARS`] characters, none of them
    /// control characters (the name ends up in terminals and Markdown).
    pub fn new(name: &str) -> Result<Actor, ActorError> {
        let name = name.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > MAX_ACTOR_CHARS || name.chars().any(char::is_control) {
            return Err(ActorError);
        }
        Ok(Actor(name.to_owned()))
    }

    /// The actor of a request that did not name one.
    #[must_use]
    pub fn unnamed() -> Actor {
        Actor(Actor::UNNAMED.to_owned())
    }

    /// The server itself (a session finishing on its own, a resume, an output change).
    #[must_use]
    pub fn server() -> Actor {
        Actor("server".to_owned())
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Actor {
    type Error = ActorError;
    fn try_from(name: String) -> Result<Actor, ActorError> {
        Actor::new(&name)
    }
}

impl From<Actor> for String {
    fn from(actor: Actor) -> String {
        actor.0
    }
}

/// A session's stable id: its start in UTC and a few random hex digits,
/// `20261122-093000-7f3a`. It sorts by start and reads well in a URL or a terminal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SessionId(String);

/// Not a session id.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("'{0}' is not a session id (they look like 20261122-093000-7f3a)")]
pub struct SessionIdError(pub String);

impl SessionId {
    /// A new id for a session starting at `start`; `salt` makes ids of sessions started in
    /// the same second differ (any varying number: a counter, nanoseconds).
    #[must_use]
    pub fn new(start: SystemTime, salt: u64) -> SessionId {
        let stamp = super::clock::rfc3339(start);
        // 2026-11-22T09:30:00.125Z → 20261122-093000
        let digits: String = stamp[..19].chars().filter(char::is_ascii_digit).collect();
        let (date, time) = digits.split_at(8);
        // A cheap mix so consecutive salts do not look alike.
        let mixed = salt
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29)
            .wrapping_add(u64::from(std::process::id()));
        SessionId(format!("{date}-{time}-{:04x}", mixed & 0xffff))
    }

    /// Parses an id from a URL or the command line.
    pub fn parse(id: &str) -> Result<SessionId, SessionIdError> {
        let parts: Vec<&str> = id.split('-').collect();
        let ok = matches!(parts.as_slice(), [d, t, h]
            if d.len() == 8 && t.len() == 6 && h.len() == 4
            && d.bytes().chain(t.bytes()).all(|b| b.is_ascii_digit())
            && h.bytes().all(|b| b.is_ascii_hexdigit()));
        if ok {
            Ok(SessionId(id.to_owned()))
        } else {
            Err(SessionIdError(id.chars().take(40).collect()))
        }
    }

    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for SessionId {
    type Error = SessionIdError;
    fn try_from(id: String) -> Result<SessionId, SessionIdError> {
        SessionId::parse(&id)
    }
}

impl From<SessionId> for String {
    fn from(id: SessionId) -> String {
        id.0
    }
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// Its last segment's gong ageng sounded.
    Completed,
    /// Someone stopped it.
    Stopped,
    /// It ran past its planned end while the server was down, and was finished at that
    /// end when the server came back.
    EndedWhileDown,
}

/// What happened, in one journal entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// The session began (its buka starts at the entry's instant).
    Started {
        /// The whole plan, as run.
        plan: ValidPlan,
        /// The speed factor (1 for real time; rehearsals run faster).
        speed: f64,
    },
    /// A facilitator's command, as the timeline applies it.
    Steered {
        /// The steering event (its `at` is the entry's session frame).
        steer: Steer,
    },
    /// A cue was accepted.
    Cue {
        /// The cue's id.
        id: u64,
        /// What was struck.
        instrument: String,
        /// Which variant.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        variant: Option<u32>,
        /// Seconds from the request until it is heard.
        in_seconds: f64,
    },
    /// Strokes whose moment passed while the output or the server stalled.
    Missed {
        /// How many.
        strokes: usize,
    },
    /// The output changed state (`device`, `null` or `degraded`).
    Output {
        /// The state.
        output: String,
        /// Why, or what recovered it.
        detail: String,
    },
    /// The server came back and took the session up again.
    Resumed {
        /// How long the server was down, as far as it can tell (the last sign of life it
        /// wrote), in seconds.
        down_seconds: f64,
    },
    /// The session ended.
    Finished {
        /// How.
        ending: Ending,
    },
}

impl Action {
    /// A short name for logs and tables: `started`, `next`, `cue`, `finished`…
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Action::Started { .. } => "started",
            Action::Steered { steer } => match steer {
                Steer::Pause { .. } => "pause",
                Steer::Resume { .. } => "resume",
                Steer::Next { .. } => "next",
                Steer::Previous { .. } => "previous",
                Steer::Extend { .. } => "extend",
                Steer::Stop { .. } => "stop",
                Steer::SetLeft { .. } => "time-left",
                Steer::Jump { .. } => "jump",
                Steer::Spin { .. } => "spin",
            },
            Action::Cue { .. } => "cue",
            Action::Missed { .. } => "missed",
            Action::Output { .. } => "output",
            Action::Resumed { .. } => "resumed",
            Action::Finished { .. } => "finished",
        }
    }
}

/// One entry of the journal: what happened to which session, when, and who did it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// The session (every entry belongs to one: cues and output changes outside a session
    /// are not history).
    pub session: SessionId,
    /// Session frame (at [`SESSION_RATE`](super::SESSION_RATE)) it took effect at.
    pub at: Frame,
    /// The same instant in UTC.
    #[serde(with = "utc_nanos")]
    pub utc: SystemTime,
    /// Who.
    pub actor: Actor,
    /// What.
    #[serde(flatten)]
    pub action: Action,
}

/// Why the journal could not take an entry. The change it records must not happen.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum JournalError {
    /// The disk is full, or the data dir is read-only: nothing more can be recorded.
    #[error("the data dir cannot take more writes ({0}); free some space or make it writable")]
    Full(String),
    /// Any other failure to write.
    #[error("the journal could not be written: {0}")]
    Failed(String),
}

/// Where a session's entries go, durably, before the change they record is acknowledged.
/// The conductor calls it; the store implements it on SQLite. (The event broadcast for the
/// page and SSE is separate and may drop events for slow readers; this may not.)
pub trait Journal: Send + 'static {
    /// Records `entry`; when this returns `Ok` the entry survives a crash.
    fn record(&mut self, entry: &JournalEntry) -> Result<(), JournalError>;

    /// A sign of life, every few seconds while a session runs: how long the server was
    /// down is measured from the last one. Best effort.
    fn alive(&mut self, _utc: SystemTime) {}
}

/// A journal that keeps nothing: `gongan run`, renders, and tests that do not need one.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoJournal;

impl Journal for NoJournal {
    fn record(&mut self, _entry: &JournalEntry) -> Result<(), JournalError> {
        Ok(())
    }
}

/// A journal in memory: `gongan run` keeps its session's entries to print the debrief
/// when it ends. Clones share the entries.
#[derive(Debug, Default, Clone)]
pub struct MemoryJournal(std::sync::Arc<std::sync::Mutex<Vec<JournalEntry>>>);

impl MemoryJournal {
    /// Every entry so far, in order.
    #[must_use]
    pub fn entries(&self) -> Vec<JournalEntry> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Journal for MemoryJournal {
    fn record(&mut self, entry: &JournalEntry) -> Result<(), JournalError> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(entry.clone());
        Ok(())
    }
}

/// A session as its journal tells it: the plan, the steering, and the log of who did
/// what. Folded from entries in order with [`SessionRecord::apply`].
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// Its id.
    pub id: SessionId,
    /// The plan as run.
    pub plan: ValidPlan,
    /// Its speed.
    pub speed: Speed,
    /// The UTC instant of session frame 0 (the buka's start).
    pub started: SystemTime,
    /// Who started it.
    pub started_by: Actor,
    /// The steering, in session frames: with the plan, it rebuilds the timeline.
    pub steering: History,
    /// Every entry, in order (the start included).
    pub log: Vec<JournalEntry>,
    /// How and when it ended, if it has.
    pub finished: Option<(Frame, SystemTime, Ending)>,
}

/// Why a session's entries do not make a session.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum RecordError {
    /// The first entry is not a start.
    #[error("session {0}: its journal does not begin with its start")]
    NoStart(SessionId),
    /// An entry of another session.
    #[error("entry of session {0} in the journal of {1}")]
    Foreign(SessionId, SessionId),
    /// A second start.
    #[error("session {0} started twice")]
    StartedTwice(SessionId),
    /// The plan's speed is not a valid speed.
    #[error("session {0}: speed {1} is not valid")]
    BadSpeed(SessionId, f64),
    /// Steering that does not fit (out of order, after a stop).
    #[error("session {0}: {1}")]
    Steering(SessionId, HistoryError),
}

impl SessionRecord {
    /// A record from its first entry, which must be the start.
    pub fn begin(entry: JournalEntry) -> Result<SessionRecord, RecordError> {
        let Action::Started { plan, speed } = &entry.action else {
            return Err(RecordError::NoStart(entry.session));
        };
        let speed_value =
            Speed::new(*speed).map_err(|_| RecordError::BadSpeed(entry.session.clone(), *speed))?;
        let started = entry
            .utc
            .checked_sub(entry.at.as_duration(super::SESSION_RATE))
            .unwrap_or(entry.utc);
        Ok(SessionRecord {
            id: entry.session.clone(),
            plan: plan.clone(),
            speed: speed_value,
            started,
            started_by: entry.actor.clone(),
            steering: History::new(),
            log: vec![entry],
            finished: None,
        })
    }

    /// Adds the next entry.
    pub fn apply(&mut self, entry: JournalEntry) -> Result<(), RecordError> {
        if entry.session != self.id {
            return Err(RecordError::Foreign(entry.session, self.id.clone()));
        }
        match &entry.action {
            Action::Started { .. } => return Err(RecordError::StartedTwice(self.id.clone())),
            Action::Steered { steer } => self
                .steering
                .push(*steer)
                .map_err(|e| RecordError::Steering(self.id.clone(), e))?,
            Action::Finished { ending } => self.finished = Some((entry.at, entry.utc, *ending)),
            _ => {}
        }
        self.log.push(entry);
        Ok(())
    }

    /// A record from all of a session's entries, in order.
    pub fn from_entries(
        entries: impl IntoIterator<Item = JournalEntry>,
    ) -> Result<Option<SessionRecord>, RecordError> {
        let mut entries = entries.into_iter();
        let Some(first) = entries.next() else {
            return Ok(None);
        };
        let mut record = SessionRecord::begin(first)?;
        for entry in entries {
            record.apply(entry)?;
        }
        Ok(Some(record))
    }

    /// The UTC instant of session frame `at`.
    #[must_use]
    pub fn utc_of(&self, at: Frame) -> SystemTime {
        self.started + at.as_duration(super::SESSION_RATE)
    }
}

/// `SystemTime` as integer nanoseconds since the Unix epoch (exact, and what SQLite
/// stores).
pub mod utc_nanos {
    use std::time::{Duration, SystemTime};

    use serde::{Deserialize, Deserializer, Serializer};

    /// Nanoseconds since the epoch (0 for earlier instants).
    #[must_use]
    pub fn to_nanos(t: SystemTime) -> i64 {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    }

    /// The instant `nanos` after the epoch (the epoch for negative values).
    #[must_use]
    pub fn from_nanos(nanos: i64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
    }

    /// Serde: writes the nanoseconds.
    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(to_nanos(*t))
    }

    /// Serde: reads the nanoseconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        Ok(from_nanos(i64::deserialize(d)?))
    }
}

/// Seconds between two UTC instants, negative when `to` is before `from`.
#[must_use]
pub fn seconds_between(from: SystemTime, to: SystemTime) -> f64 {
    match to.duration_since(from) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

#[cfg(test)]
mod test {
    use std::time::Duration;

    use super::*;

    fn plan() -> ValidPlan {
        ValidPlan::from_toml(
            "name = \"t\"\n[[segments]]\ntitle = \"a\"\nduration = \"1m\"\nform = \"lancaran\"\n",
        )
        .unwrap()
    }

    fn entry(at: u64, actor: &str, action: Action) -> JournalEntry {
        JournalEntry {
            session: SessionId::parse("20261122-093000-00ff").unwrap(),
            at: Frame(at),
            utc: SystemTime::UNIX_EPOCH
                + Duration::from_secs(1_795_339_800)
                + Duration::from_millis(at / 48),
            actor: Actor::new(actor).unwrap(),
            action,
        }
    }

    #[test]
    fn actors_are_short_printable_names() {
        assert_eq!(Actor::new("  slack:@ana ").unwrap().as_str(), "slack:@ana");
        assert!(Actor::new("").is_err());
        assert!(Actor::new("a\u{1b}]0;x\u{7}").is_err());
        assert!(Actor::new(&"x".repeat(101)).is_err());
        assert!(serde_json::from_str::<Actor>("\"\\n\"").is_err());
    }

    #[test]
    fn session_ids_sort_by_start_and_parse_back() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_339_800_125);
        let id = SessionId::new(t, 7);
        assert!(id.as_str().starts_with("20261122-093000-"), "{id}");
        assert_eq!(SessionId::parse(id.as_str()).unwrap(), id);
        assert_ne!(SessionId::new(t, 8), id);
        for bad in [
            "",
            "x",
            "20261122-093000",
            "20261122-093000-zzzz",
            "../../etc",
        ] {
            assert!(SessionId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_record_folds_its_entries() {
        let start = entry(
            0,
            "page",
            Action::Started {
                plan: plan(),
                speed: 1.0,
            },
        );
        let next = entry(
            480_000,
            "cli:ana",
            Action::Steered {
                steer: Steer::Next { at: Frame(480_000) },
            },
        );
        let end = entry(
            960_000,
            "server",
            Action::Finished {
                ending: Ending::Completed,
            },
        );
        let record = SessionRecord::from_entries([start.clone(), next, end])
            .unwrap()
            .unwrap();
        assert_eq!(
            record.steering.events(),
            &[Steer::Next { at: Frame(480_000) }]
        );
        assert_eq!(record.started_by.as_str(), "page");
        assert_eq!(record.finished.map(|f| f.2), Some(Ending::Completed));
        assert_eq!(record.log.len(), 3);
        assert!(matches!(
            SessionRecord::from_entries([entry(5, "x", Action::Missed { strokes: 1 })]),
            Err(RecordError::NoStart(_))
        ));
        assert!(matches!(
            SessionRecord::from_entries([start.clone(), start]),
            Err(RecordError::StartedTwice(_))
        ));
    }

    #[test]
    fn entries_round_trip_through_json() {
        let e = entry(
            96_000,
            "deploy-bot",
            Action::Steered {
                steer: Steer::Extend {
                    at: Frame(96_000),
                    by: Duration::from_secs(120),
                },
            },
        );
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"action\":\"steered\""), "{json}");
        assert_eq!(serde_json::from_str::<JournalEntry>(&json).unwrap(), e);
    }
}
