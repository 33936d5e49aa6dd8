//! What a runner tells of a segment's wheel and rotation: the status in its snapshot, and
//! each new turn announced as it begins.

use serde::{Deserialize, Serialize};

use super::{Frame, Runner, SessionEvent, State, WheelSpin, turn_at, turn_start};
use crate::session::plan::Draw;

/// One spin of a wheel, as the page needs it to turn the wheel in step with the sound:
/// the path (from, steps) and when it begins and lands, in session seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpinStatus {
    /// The plan segment whose wheel it is.
    pub segment: usize,
    /// The entry it lands on.
    pub entry: String,
    /// Its index in `entries`, from 0.
    pub index: usize,
    /// The wheel's entries, in order round the wheel.
    pub entries: Vec<String>,
    /// The entry under the pointer when it began.
    pub from: usize,
    /// How many entries pass the pointer: after a fraction `x` of the spin,
    /// `steps·(1 − (1 − x)²)` have passed.
    pub steps: u32,
    /// Session seconds when it began.
    pub start_seconds: f64,
    /// Session seconds when it lands, with the gong.
    pub land_seconds: f64,
    /// The same instant, UTC (RFC 3339).
    pub lands_at: String,
}

/// A segment's wheel in a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WheelStatus {
    /// The entries, in order round the wheel.
    pub entries: Vec<String>,
    /// How it draws.
    pub draw: Draw,
    /// The entries drawn in this round (drawn without repetition, they will not come up
    /// again until every entry has), in the order drawn.
    pub drawn: Vec<String>,
    /// The last spin of this wheel (in this segment or an earlier one with the same
    /// entries), if any.
    pub last: Option<SpinStatus>,
}

/// Whose turn it is, in a segment with a rotation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnStatus {
    /// Who has the floor.
    pub person: String,
    /// Who comes next in this segment (none on the last turn).
    pub next: Option<String>,
    /// Which turn, from 0.
    pub turn: usize,
    /// How many turns the segment has.
    pub of: usize,
    /// Session seconds when this turn ends (as things stand).
    pub ends_seconds: f64,
}

impl Runner {
    /// A spin as the snapshot and its event show it.
    pub(super) fn spin_status(&self, spin: &WheelSpin) -> SpinStatus {
        let rate = self.timeline.sample_rate();
        let entries = self
            .plan
            .segments()
            .get(spin.segment)
            .map(|s| s.entries().to_vec())
            .unwrap_or_default();
        let index = spin.path.to as usize;
        SpinStatus {
            segment: spin.segment,
            entry: entries.get(index).cloned().unwrap_or_default(),
            index,
            from: spin.path.from as usize,
            steps: spin.path.steps,
            start_seconds: spin.start.as_seconds(rate),
            land_seconds: spin.land.as_seconds(rate),
            lands_at: self.clock.moment(spin.land).utc,
            entries,
        }
    }

    /// The wheel of `segment`, if it has one.
    pub(super) fn wheel_status(&self, segment: usize) -> Option<WheelStatus> {
        let spec = self.plan.segments().get(segment)?;
        if spec.entries().is_empty() {
            return None;
        }
        let spins: Vec<&WheelSpin> = self
            .timeline
            .spins()
            .iter()
            .filter(|s| self.plan.same_wheel(s.segment, segment))
            .collect();
        let candidates = self.wheel_candidates(segment);
        let drawn = match spec.draw() {
            // This round's draws, in order: the spins since the last full round.
            Draw::WithoutRepetition => {
                let round = spec.entries().len() - candidates.len();
                spins[spins.len() - round.min(spins.len())..]
                    .iter()
                    .filter_map(|s| spec.entries().get(s.path.to as usize).cloned())
                    .collect()
            }
            Draw::WithRepetition => spins
                .iter()
                .filter_map(|s| spec.entries().get(s.path.to as usize).cloned())
                .collect(),
        };
        Some(WheelStatus {
            entries: spec.entries().to_vec(),
            draw: spec.draw(),
            drawn,
            last: spins.last().map(|s| self.spin_status(s)),
        })
    }

    /// The rotation turn current at session frame `at`, or `None` when the segment has no
    /// rotation or no segment is running.
    pub(super) fn turn_at(&self, at: Frame) -> Option<Turn<'_>> {
        let at = self.frozen_at(at);
        let position = self.timeline.position_at(at);
        if matches!(position.state, State::Buka | State::Finished) {
            return None;
        }
        let people = self.plan.segments().get(position.segment)?.rotation();
        if people.is_empty() {
            return None;
        }
        let run = self.timeline.runs().get(position.run)?;
        let length = run.deadline.0.saturating_sub(run.start.0);
        let turn = turn_at(people.len(), at.0.saturating_sub(run.start.0), length);
        let boundary = |turn: usize| Frame(run.start.0 + turn_start(people.len(), turn, length));
        Some(Turn {
            run: position.run,
            segment: run.segment,
            turn,
            people,
            start: boundary(turn),
            end: if turn + 1 >= people.len() {
                run.deadline
            } else {
                boundary(turn + 1)
            },
        })
    }

    /// Whose turn it is at session frame `at`.
    pub(super) fn turn_status(&self, at: Frame) -> Option<TurnStatus> {
        let turn = self.turn_at(at)?;
        Some(TurnStatus {
            person: turn.people.get(turn.turn)?.clone(),
            next: turn.people.get(turn.turn + 1).cloned(),
            turn: turn.turn,
            of: turn.people.len(),
            ends_seconds: turn.end.as_seconds(self.timeline.sample_rate()),
        })
    }

    /// A new turn, once the clock has passed its start (frame `at`): told once per turn,
    /// and only forward (an extension that stretches the turns does not tell one again).
    pub(super) fn turn_news(&mut self, at: Frame) -> Option<(Frame, SessionEvent)> {
        let turn = self.turn_at(at)?;
        let newer = self
            .turn_announced
            .is_none_or(|(run, told)| turn.run != run || turn.turn > told);
        if !newer {
            return None;
        }
        let event = SessionEvent::Turn {
            segment: turn.segment,
            person: turn.people.get(turn.turn)?.clone(),
            next: turn.people.get(turn.turn + 1).cloned(),
            turn: turn.turn,
            of: turn.people.len(),
            at: self.clock.moment(turn.start),
        };
        let (told, start) = ((turn.run, turn.turn), turn.start);
        self.turn_announced = Some(told);
        Some((start, event))
    }
}

/// A turn of a segment's rotation, as the timeline places it now.
pub(super) struct Turn<'a> {
    /// The segment run.
    pub(super) run: usize,
    /// Its plan segment.
    segment: usize,
    /// Which turn, from 0.
    pub(super) turn: usize,
    /// The rotation.
    people: &'a [String],
    /// Where it began and where it ends (the next turn, or the deadline).
    start: Frame,
    end: Frame,
}
