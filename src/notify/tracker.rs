//! [`Tracker`]: follows the conductor's event stream and says what targets hear about.
//!
//! The stream's events are terse (a stroke names its plan segment by index; a segment's
//! start does not repeat the plan's name), so the tracker keeps what it has learnt of the
//! running session: from its `session_started` event, and from a [`Snapshot`] the
//! notifier asks the conductor for when it sees a session it knows nothing about (the
//! server took up a session after a restart) or a new one (for the titles, the speed
//! and the planned length). Pure: events and snapshots in, [`Notice`]s out.
//!
//! Which events become which notices:
//! - `session_started` → `started`; `segment_started` → `segment`; `resumed` → `resumed`;
//! - `time_warning` of the running segment → `warning` (the session announces each warning
//!   once, from its timeline, whether or not its strokes could be played; not after its
//!   segment has ended — a warning told late, when the server lagged, is no news any more);
//! - a segment that reaches its deadline → `deadline`: told when the next segment starts
//!   by itself (just before its `segment`), when the session finishes at the last
//!   deadline (just before `finished`), or when a `wait` segment goes into `overtime`
//!   (just before `overtime`, told once per deadline). Not when the facilitator moved on, went back or stopped
//!   first. (The deadline's gong stroke is not used: the engine reports strokes as they
//!   are rendered, which under load can come after the announcement of the next segment,
//!   and a chat must never say "Deadline: A" after "Segment 2 B".)
//! - `finished` → `finished`, saying who stopped it, if someone did.

use crate::session::{Instrument, Snapshot, State, StrokeKind};
use crate::session::{SessionEvent, timeline::BUKA_LENGTH};

use super::notice::{Notice, SegmentRef, What};

/// What the tracker knows of one session.
#[derive(Debug, Clone, PartialEq)]
struct Session {
    id: String,
    plan: String,
    /// Segment titles, by plan index (learnt from a snapshot or as segments start).
    titles: Vec<String>,
    segments: usize,
    /// Plan time ÷ real time.
    speed: f64,
    /// Real seconds the plan takes, the buka included.
    planned_seconds: Option<f64>,
    /// The plan segment running now.
    current: Option<usize>,
    /// The running segment will not reach its deadline (the facilitator moved on, went
    /// back or stopped), or its deadline was told already (it went into overtime).
    deadline_done: bool,
    stopped_by: Option<String>,
    /// The last overtime told about (segment, deadline): told once, whatever the stream
    /// repeats.
    overtime_told: Option<(usize, String)>,
    /// A spin turning now: (segment, entry, who spun it), told when it lands.
    spinning: Option<(usize, String, String)>,
}

impl Session {
    fn from_snapshot(snapshot: &Snapshot) -> Session {
        Session {
            id: snapshot.id.to_string(),
            plan: snapshot.plan.clone(),
            titles: snapshot.segments.iter().map(|s| s.title.clone()).collect(),
            segments: snapshot.segments.len(),
            speed: snapshot.speed,
            planned_seconds: Some(
                BUKA_LENGTH.as_secs_f64()
                    + snapshot
                        .segments
                        .iter()
                        .map(|s| s.planned_seconds)
                        .sum::<f64>(),
            ),
            current: match snapshot.state {
                State::Buka | State::Finished => None,
                _ => Some(snapshot.segment),
            },
            // A segment in overtime has passed its deadline.
            deadline_done: snapshot.state == State::Overtime,
            stopped_by: None,
            overtime_told: None,
            spinning: None,
        }
    }

    fn segment(&self, index: usize) -> SegmentRef {
        SegmentRef {
            number: index + 1,
            of: self.segments.max(index + 1),
            title: self.titles.get(index).cloned().unwrap_or_default(),
        }
    }

    /// The `deadline` of the running segment, if it reached it and it has not been told;
    /// told once.
    fn deadline(&mut self, at: &str) -> Option<Notice> {
        let current = self.current?;
        if std::mem::replace(&mut self.deadline_done, true) {
            return None;
        }
        Some(self.notice(
            at,
            What::Deadline {
                segment: self.segment(current),
            },
        ))
    }

    fn notice(&self, at: &str, what: What) -> Notice {
        Notice {
            session: self.id.clone(),
            plan: self.plan.clone(),
            at: at.to_owned(),
            what,
        }
    }
}

/// Follows one conductor's events. See the module documentation.
#[derive(Debug, Default)]
pub struct Tracker {
    session: Option<Session>,
}

impl Tracker {
    /// Whether the notices for `event` need a snapshot of the session first: it starts a
    /// session (for its titles, speed and planned length), or it belongs to a session the
    /// tracker has not seen start.
    #[must_use]
    pub fn needs_snapshot(&self, event: &SessionEvent) -> bool {
        match event {
            SessionEvent::SessionStarted { .. } => true,
            SessionEvent::Missed { .. } => false,
            SessionEvent::Stroke { .. } => false,
            _ => self.session.is_none(),
        }
    }

    /// The notices for `event`. `snapshot` is the session as the conductor describes it
    /// (when [`Tracker::needs_snapshot`] said so and the conductor answered); one of
    /// another session is ignored.
    pub fn notices(&mut self, event: &SessionEvent, snapshot: Option<&Snapshot>) -> Vec<Notice> {
        if let SessionEvent::SessionStarted {
            id,
            by,
            plan,
            segments,
            at,
        } = event
        {
            let session = snapshot
                .filter(|s| s.id == *id)
                .map(Session::from_snapshot)
                .unwrap_or_else(|| Session {
                    id: id.to_string(),
                    plan: plan.clone(),
                    titles: Vec::new(),
                    segments: *segments,
                    speed: 1.0,
                    planned_seconds: None,
                    current: None,
                    deadline_done: false,
                    stopped_by: None,
                    overtime_told: None,
                    spinning: None,
                });
            let notice = session.notice(
                &at.utc,
                What::Started {
                    by: by.to_string(),
                    segments: session.segments,
                    planned_seconds: session.planned_seconds,
                },
            );
            self.session = Some(Session {
                current: None,
                ..session
            });
            return vec![notice];
        }
        if self.session.is_none()
            && let Some(snapshot) = snapshot
        {
            self.session = Some(Session::from_snapshot(snapshot));
        }
        let Some(session) = self.session.as_mut() else {
            return Vec::new();
        };
        match event {
            SessionEvent::SessionStarted { .. } | SessionEvent::Missed { .. } => Vec::new(),
            SessionEvent::SegmentStarted {
                segment,
                title,
                at,
                deadline_seconds,
                ..
            } => {
                let mut notices: Vec<Notice> = session.deadline(&at.utc).into_iter().collect();
                if session.titles.len() <= *segment {
                    session.titles.resize(*segment + 1, String::new());
                }
                session.titles[*segment].clone_from(title);
                session.current = Some(*segment);
                session.deadline_done = false;
                notices.push(session.notice(
                    &at.utc,
                    What::Segment {
                        segment: session.segment(*segment),
                        seconds: (deadline_seconds - at.seconds).max(0.0),
                    },
                ));
                notices
            }
            SessionEvent::Stroke {
                kind: StrokeKind::Spin { landing: true },
                instrument: Instrument::Gong,
                at,
                ..
            } => match session.spinning.take() {
                Some((segment, entry, by)) => vec![session.notice(
                    &at.utc,
                    What::Spin {
                        segment: session.segment(segment),
                        entry,
                        by,
                    },
                )],
                None => Vec::new(),
            },
            SessionEvent::Stroke { .. } => Vec::new(),
            SessionEvent::Spin { by, spin, .. } => {
                session.spinning = spin
                    .as_ref()
                    .map(|s| (s.segment, s.entry.clone(), by.to_string()));
                Vec::new()
            }
            SessionEvent::Turn {
                segment,
                person,
                next,
                at,
                ..
            } => vec![session.notice(
                &at.utc,
                What::Turn {
                    segment: session.segment(*segment),
                    person: person.clone(),
                    next: next.clone(),
                },
            )],
            SessionEvent::TimeWarning {
                segment,
                lead_seconds,
                at,
            } => {
                if session.current != Some(*segment) || session.deadline_done {
                    return Vec::new();
                }
                vec![session.notice(
                    &at.utc,
                    What::Warning {
                        segment: session.segment(*segment),
                        left_seconds: lead_seconds / session.speed.max(f64::MIN_POSITIVE),
                    },
                )]
            }
            SessionEvent::Overtime { segment, at } => {
                let told = Some((*segment, at.utc.clone()));
                if session.overtime_told == told {
                    return Vec::new();
                }
                session.overtime_told = told;
                session.current = Some(*segment);
                let mut notices: Vec<Notice> = session.deadline(&at.utc).into_iter().collect();
                notices.push(session.notice(
                    &at.utc,
                    What::Overtime {
                        segment: session.segment(*segment),
                    },
                ));
                notices
            }
            SessionEvent::Stopped { by, .. } => {
                session.deadline_done = true;
                session.stopped_by = Some(by.to_string());
                Vec::new()
            }
            SessionEvent::Skipped { .. } | SessionEvent::Jumped { .. } => {
                session.deadline_done = true;
                Vec::new()
            }
            SessionEvent::Finished { at } => {
                let mut notices: Vec<Notice> = session.deadline(&at.utc).into_iter().collect();
                notices.push(session.notice(
                    &at.utc,
                    What::Finished {
                        elapsed_seconds: at.seconds,
                        planned_seconds: session.planned_seconds,
                        stopped_by: session.stopped_by.clone(),
                    },
                ));
                notices
            }
            SessionEvent::Resumed {
                at,
                by,
                down_seconds,
            } => vec![session.notice(
                &at.utc,
                What::Resumed {
                    by: by.to_string(),
                    down_seconds: *down_seconds,
                },
            )],
            SessionEvent::Paused { .. }
            | SessionEvent::Extended { .. }
            | SessionEvent::TimeLeftSet { .. } => Vec::new(),
        }
    }
}

#[cfg(test)]
mod test;
