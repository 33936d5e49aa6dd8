//! The debrief: what a session planned against what actually happened, for the team's
//! notes, a spreadsheet or another tool — and a plan for next time, seeded from it.
//!
//! Pure: a [`Debrief`] is computed from a [`SessionRecord`] (plan, speed, start, steering,
//! the journal's log) and, for a session still running, the instant it is made. The actual
//! course comes from the same pure [`timeline()`] that paced the session, replayed with the
//! record's steering, so the debrief cannot disagree with what was heard.
//!
//! Times: session seconds count from the session's start (the buka's first stroke), UTC
//! instants are placed from the record's start, and *lengths* are real time (a rehearsal
//! at `--speed 60` shows a five-minute segment as five seconds). A finished session's
//! debrief depends on the record alone; `now` only cuts off one still running.
//!
//! Text that came from users (plan names, titles, notes, actors, output details) stays as
//! it was in the [`Debrief`] and its JSON (where JSON's own escaping keeps it inert); the
//! CSV and Markdown renderings remove control characters and escape what their format
//! needs, so pasting them into notes or a spreadsheet cannot break a table or a terminal.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::clock::{Moment, rfc3339};
use super::conductor::SESSION_RATE;
use super::duration::SegmentDuration;
use super::history::Steer;
use super::plan::{MAX_SEGMENT, MAX_TITLE_CHARS, ValidPlan};
use super::record::{Action, Actor, Ending, SessionId, SessionRecord};
use super::timeline::{
    Instrument, RunEnd, SegmentRun, State, StrokeKind, Timeline, TimelineOptions, timeline,
};
use crate::audio::Frame;

/// A session, planned against actual: the sheet a facilitator reads after a session.
///
/// Serialises (JSON) with its fields in the order below; [`Debrief::to_json`],
/// [`Debrief::to_csv`] and [`Debrief::to_markdown`] are its three renderings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Debrief {
    /// The session.
    pub id: SessionId,
    /// The plan's name, as run.
    pub plan: String,
    /// The speed factor it ran at (1 is real time).
    pub speed: f64,
    /// Who started it.
    pub started_by: Actor,
    /// When it started (frame 0, the buka's first stroke), RFC 3339 UTC.
    pub started: String,
    /// What the session is doing at the end of the debrief: `finished`, or for one still
    /// going `buka`, `running`, `paused` or `overtime`.
    pub state: State,
    /// How and when it ended, and who ended it; `None` while it is still running.
    pub ended: Option<Ended>,
    /// For a session still running: the instant the debrief describes (its `now`).
    /// `None` for a finished session, whose debrief does not depend on when it is made.
    pub as_of: Option<Moment>,
    /// The planned length of the segments (the plan's total divided by the speed), in
    /// seconds; the few seconds of buka before segment 0 are not part of it.
    pub planned_seconds: f64,
    /// How long the segments actually took, from segment 0's start to the session's end;
    /// `None` while it is still running.
    pub actual_seconds: Option<f64>,
    /// The same, up to the end or, while running, up to [`Debrief::as_of`].
    pub elapsed_seconds: f64,
    /// The sum of every run's [`RunReport::overtime_seconds`].
    pub overtime_seconds: f64,
    /// Every segment run in the order they ran, then the segments that never ran.
    pub runs: Vec<RunReport>,
    /// Every journal entry, in order.
    pub log: Vec<LogLine>,
    /// The timeline's strokes that were due up to the end (or, while running, up to
    /// [`Debrief::as_of`]). Cues are in the log.
    pub strokes: Vec<DueStroke>,
    /// Totals.
    pub counts: Counts,
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ended {
    /// When (the final gong).
    pub at: Moment,
    /// How.
    pub how: Ending,
    /// Who: the actor who stopped it, or the one whose entry finished it (`server` for a
    /// session that ran to its end).
    pub by: Actor,
}

/// One run of a segment, planned against actual. A segment restarted with `previous`
/// has a row per run; a segment the session never reached has one row without actuals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    /// The run's index in the timeline, from 0; `None` for a segment that never ran.
    pub run: Option<usize>,
    /// The plan segment, from 0.
    pub segment: usize,
    /// Its title.
    pub title: String,
    /// Where the plan put its start.
    pub planned_start: Moment,
    /// Where the plan put its end.
    pub planned_end: Moment,
    /// Its planned length, in seconds (divided by the speed).
    pub planned_seconds: f64,
    /// When it started.
    pub actual_start: Option<Moment>,
    /// When it ended; `None` if it is still running or never ran.
    pub actual_end: Option<Moment>,
    /// How long it ran (so far, if it is still running); pauses included.
    pub actual_seconds: Option<f64>,
    /// How much longer than planned it ran (0 when it took no longer).
    pub overtime_seconds: f64,
    /// How it ended.
    pub ended: RunOutcome,
}

/// How a segment run ended, in the debrief's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Its deadline passed; the next segment (or the session's end) followed by itself.
    Deadline,
    /// Someone moved on with `next` before its deadline.
    Skipped,
    /// Someone moved on with `next` at or after its deadline (out of a `wait` segment's
    /// overtime).
    Next,
    /// Someone went back with `previous`.
    Previous,
    /// Someone stopped the session.
    Stopped,
    /// The session was finished while this run was still open (holding in overtime or
    /// paused), e.g. when it ended while the server was down.
    SessionEnded,
    /// Still running when the debrief was made.
    Running,
    /// Never started: the session ended first.
    NotReached,
    /// Not started yet: the session is still running.
    Upcoming,
}

impl RunOutcome {
    /// A few words for tables.
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            RunOutcome::Deadline => "deadline",
            RunOutcome::Skipped => "skipped (next)",
            RunOutcome::Next => "next",
            RunOutcome::Previous => "went back (previous)",
            RunOutcome::Stopped => "stopped",
            RunOutcome::SessionEnded => "session ended",
            RunOutcome::Running => "still running",
            RunOutcome::NotReached => "not reached",
            RunOutcome::Upcoming => "upcoming",
        }
    }
}

/// One journal entry: who did what, when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogLine {
    /// When it took effect.
    pub at: Moment,
    /// Who.
    pub actor: Actor,
    /// What, in one word ([`Action::name`]): `started`, `extend`, `cue`, `missed`…
    pub action: &'static str,
    /// A short human description: `extend +2:00`, `cue kenong 3`, `missed 4 strokes`.
    pub detail: String,
    /// The segment it happened in (for `next` and `previous`, the one it left); `None`
    /// during the buka.
    pub segment: Option<usize>,
}

/// A stroke of the timeline that was due.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DueStroke {
    /// Session seconds.
    pub seconds: f64,
    /// What was struck.
    pub instrument: Instrument,
    /// Which pitch, for pitched instruments.
    pub variant: Option<u8>,
    /// The plan segment (0 for the buka).
    pub segment: usize,
    /// The segment run (0 for the buka).
    pub run: usize,
    /// Why it was there.
    pub kind: StrokeKind,
}

/// Totals of a debrief.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Strokes of the timeline that were due.
    pub strokes: usize,
    /// Cues accepted.
    pub cues: usize,
    /// Steering commands (pause, resume, next, previous, extend, stop).
    pub steering: usize,
    /// Strokes reported missed (their moment passed while the output or server stalled).
    pub missed: usize,
}

impl Debrief {
    /// The debrief of `record`. `now` matters only for a session that has not finished:
    /// it is described up to `now` (an instant before its start counts as its start).
    #[must_use]
    pub fn new(record: &SessionRecord, now: SystemTime) -> Debrief {
        let rate = SESSION_RATE;
        let finished = record.finished;
        let cutoff = match finished {
            Some((at, _, _)) => at,
            None => Frame::from_duration(
                now.duration_since(record.started).unwrap_or(Duration::ZERO),
                rate,
            ),
        };
        let actual = replay(record, cutoff);
        let planned = planned_spans(record, &actual);
        let first_start = actual.first_segment_start();
        let moment = |frame: Frame| moment(record, frame);

        let mut runs: Vec<RunReport> = actual
            .runs()
            .iter()
            .enumerate()
            .filter(|(_, run)| run.start <= cutoff)
            .map(|(index, run)| {
                let (planned_start, planned_end) = planned[run.segment];
                let planned_frames = planned_end.saturating_sub(planned_start);
                let (end, ended) = run_end(run, cutoff, finished.is_some());
                let length = end.unwrap_or(cutoff).saturating_sub(run.start);
                RunReport {
                    run: Some(index),
                    segment: run.segment,
                    title: title(&record.plan, run.segment),
                    planned_start: moment(planned_start),
                    planned_end: moment(planned_end),
                    planned_seconds: seconds(planned_frames),
                    actual_start: Some(moment(run.start)),
                    actual_end: end.map(moment),
                    actual_seconds: Some(seconds(length)),
                    overtime_seconds: seconds(length.saturating_sub(planned_frames)),
                    ended,
                }
            })
            .collect();
        let never = if finished.is_some() {
            RunOutcome::NotReached
        } else {
            RunOutcome::Upcoming
        };
        for (segment, &(start, end)) in planned.iter().enumerate() {
            if runs.iter().all(|r| r.segment != segment) {
                runs.push(RunReport {
                    run: None,
                    segment,
                    title: title(&record.plan, segment),
                    planned_start: moment(start),
                    planned_end: moment(end),
                    planned_seconds: seconds(end.saturating_sub(start)),
                    actual_start: None,
                    actual_end: None,
                    actual_seconds: None,
                    overtime_seconds: 0.0,
                    ended: never,
                });
            }
        }

        let log: Vec<LogLine> = record
            .log
            .iter()
            .map(|entry| {
                let segment = segment_of(&actual, &entry.action, entry.at);
                LogLine {
                    at: moment(entry.at),
                    actor: entry.actor.clone(),
                    action: entry.action.name(),
                    detail: detail(&entry.action, &record.plan, segment),
                    segment,
                }
            })
            .collect();

        let strokes: Vec<DueStroke> = actual
            .strokes()
            .iter()
            .take_while(|s| s.frame <= cutoff)
            .map(|s| DueStroke {
                seconds: seconds(s.frame),
                instrument: s.instrument,
                variant: s.variant,
                segment: s.segment,
                run: s.run,
                kind: s.kind,
            })
            .collect();

        let mut counts = Counts {
            strokes: strokes.len(),
            cues: 0,
            steering: 0,
            missed: 0,
        };
        for entry in &record.log {
            match entry.action {
                Action::Cue { .. } => counts.cues += 1,
                Action::Steered { .. } => counts.steering += 1,
                Action::Missed { strokes } => counts.missed += strokes,
                _ => {}
            }
        }

        let ended = finished.map(|(at, _, how)| Ended {
            at: moment(at),
            how,
            by: ended_by(record, how),
        });
        let state = if finished.is_some() {
            State::Finished
        } else {
            actual.position_at(cutoff).state
        };
        let elapsed = seconds(cutoff.saturating_sub(first_start));
        Debrief {
            id: record.id.clone(),
            plan: record.plan.name().to_owned(),
            speed: record.speed.factor(),
            started_by: record.started_by.clone(),
            started: rfc3339(record.started),
            state,
            ended,
            as_of: finished.is_none().then(|| moment(cutoff)),
            planned_seconds: seconds(actual.planned_end().saturating_sub(first_start)),
            actual_seconds: finished.is_some().then_some(elapsed),
            elapsed_seconds: elapsed,
            overtime_seconds: round_ms(runs.iter().map(|r| r.overtime_seconds).sum()),
            runs,
            log,
            strokes,
            counts,
        }
    }

    /// The debrief as pretty-printed JSON, fields in declaration order.
    #[must_use]
    pub fn to_json(&self) -> String {
        // Strings, numbers, options and unit enums: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// One row per segment run (then the segments that never ran), planned against
    /// actual, as RFC 4180 CSV: a header row, CRLF line ends, fields quoted when they hold
    /// a comma, quote or line break. Seconds are session seconds (from the session's start)
    /// or lengths; empty cells are unknown (still running, never ran).
    #[must_use]
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let header = [
            "run",
            "segment",
            "title",
            "planned_start_seconds",
            "planned_end_seconds",
            "planned_start_utc",
            "planned_end_utc",
            "planned_seconds",
            "actual_start_seconds",
            "actual_end_seconds",
            "actual_start_utc",
            "actual_end_utc",
            "actual_seconds",
            "overtime_seconds",
            "ended",
        ];
        csv_row(&mut out, header.iter().map(|h| (*h).to_owned()));
        for r in &self.runs {
            let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
            let row = [
                r.run.map(|i| i.to_string()).unwrap_or_default(),
                r.segment.to_string(),
                csv_text(&r.title),
                r.planned_start.seconds.to_string(),
                r.planned_end.seconds.to_string(),
                r.planned_start.utc.clone(),
                r.planned_end.utc.clone(),
                r.planned_seconds.to_string(),
                opt(r.actual_start.as_ref().map(|m| m.seconds)),
                opt(r.actual_end.as_ref().map(|m| m.seconds)),
                r.actual_start
                    .as_ref()
                    .map(|m| m.utc.clone())
                    .unwrap_or_default(),
                r.actual_end
                    .as_ref()
                    .map(|m| m.utc.clone())
                    .unwrap_or_default(),
                opt(r.actual_seconds),
                r.overtime_seconds.to_string(),
                serde_name(r.ended),
            ];
            csv_row(&mut out, row);
        }
        out
    }

    /// A debrief sheet to paste into the team's notes (GitHub-flavoured Markdown): a title
    /// with the plan and date, a summary, the segments planned against actual, who did
    /// what and when, and what to carry forward. Times of day are UTC.
    #[must_use]
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let date = self.started.get(..10).unwrap_or_default();
        let _ = writeln!(md, "# Debrief: {} — {date}", md_text(&self.plan));
        md.push('\n');

        // Summary.
        let _ = write!(
            md,
            "Session `{}`, started {} UTC by {}",
            self.id,
            time_of_day(&self.started),
            md_text(self.started_by.as_str())
        );
        match &self.ended {
            Some(ended) => {
                let how = match ended.how {
                    Ending::Completed => "ran to its end".to_owned(),
                    Ending::Stopped => format!("stopped by {}", md_text(ended.by.as_str())),
                    Ending::EndedWhileDown => "ended while the server was down".to_owned(),
                };
                let _ = writeln!(md, "; {how} at {} UTC.", time_of_day(&ended.at.utc));
            }
            None => {
                let as_of = self.as_of.as_ref().map_or("", |m| time_of_day(&m.utc));
                let _ = writeln!(
                    md,
                    "; still running ({} as of {as_of} UTC).",
                    self.state_word()
                );
            }
        }
        if (self.speed - 1.0).abs() > f64::EPSILON {
            let _ = writeln!(
                md,
                "Rehearsed at {}× speed: lengths are real time.",
                self.speed
            );
        }
        md.push('\n');
        let over_runs = self.runs.iter().filter(|r| shows_overtime(r)).count();
        let actual = match self.actual_seconds {
            Some(actual) => format!(
                "actual {} ({})",
                clock(actual),
                signed_clock(actual - self.planned_seconds)
            ),
            None => format!("still running, {} so far", clock(self.elapsed_seconds)),
        };
        let _ = writeln!(
            md,
            "**Planned {}, {actual}.** Overtime {} in {over_runs} segment run{}.",
            clock(self.planned_seconds),
            clock(self.overtime_seconds),
            if over_runs == 1 { "" } else { "s" }
        );
        md.push('\n');
        let c = &self.counts;
        let _ = writeln!(
            md,
            "{} stroke{}, {} cue{}, {} steering command{}, {} missed.",
            c.strokes,
            plural(c.strokes),
            c.cues,
            plural(c.cues),
            c.steering,
            plural(c.steering),
            c.missed
        );

        // Segments.
        md.push_str("\n## Segments\n\n");
        md.push_str(
            "| # | Segment | Planned | Actual | Planned length | Actual length | Over | Ended |\n",
        );
        md.push_str("|--:|---|---|---|--:|--:|--:|---|\n");
        for r in &self.runs {
            let actual_span = match (&r.actual_start, &r.actual_end) {
                (Some(start), Some(end)) => span(&start.utc, &end.utc),
                (Some(start), None) => format!("{}–…", time_of_day(&start.utc)),
                _ => "—".to_owned(),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {actual_span} | {} | {} | {} | {} |",
                r.segment + 1,
                md_text(&r.title),
                span(&r.planned_start.utc, &r.planned_end.utc),
                clock(r.planned_seconds),
                r.actual_seconds.map_or_else(|| "—".to_owned(), clock),
                if shows_overtime(r) {
                    format!("+{}", clock(r.overtime_seconds))
                } else {
                    String::new()
                },
                r.ended.describe()
            );
        }

        // The log.
        md.push_str("\n## Who did what, when\n\n");
        md.push_str("| Time (UTC) | Session | Segment | Who | What |\n");
        md.push_str("|---|--:|---|---|---|\n");
        for line in &self.log {
            let segment = line
                .segment
                .and_then(|s| self.runs.iter().find(|r| r.segment == s))
                .map_or_else(|| "—".to_owned(), |r| md_text(&r.title));
            let _ = writeln!(
                md,
                "| {} | {} | {segment} | {} | {} |",
                time_of_day(&line.at.utc),
                clock(line.at.seconds),
                md_text(line.actor.as_str()),
                md_text(&line.detail)
            );
        }

        // Carry forward.
        md.push_str("\n## Carry forward\n\n");
        let mut any = false;
        for r in self.runs.iter().filter(|r| shows_overtime(r)) {
            any = true;
            let repeat = match r.run {
                Some(run) if self.runs.iter().filter(|o| o.segment == r.segment).count() > 1 => {
                    let nth = self
                        .runs
                        .iter()
                        .filter(|o| o.segment == r.segment && o.run.is_some_and(|i| i <= run))
                        .count();
                    format!(" (run {nth} of it)")
                }
                _ => String::new(),
            };
            let _ = writeln!(
                md,
                "- **{}**{repeat} ran over by {} (planned {}, took {}).",
                md_text(&r.title),
                clock(r.overtime_seconds),
                clock(r.planned_seconds),
                r.actual_seconds.map_or_else(|| "—".to_owned(), clock)
            );
        }
        if !any {
            md.push_str("Nothing ran over.\n");
        }
        md
    }

    fn state_word(&self) -> &'static str {
        match self.state {
            State::Buka => "in the buka",
            State::Running => "running",
            State::Paused => "paused",
            State::Overtime => "in overtime",
            State::Finished => "finished",
        }
    }
}

/// A new plan from how `record` actually ran, to seed the next session: the same
/// segments (titles, forms, densities, end actions, warnings that still fit, notes) with
/// each one's length set to what it actually took, in plan time (real time × speed),
/// rounded to whole seconds, from 1 s to the 24 h maximum. Its name is
/// `"<plan name> (as run <date>)"`, shortened to fit the name limit.
///
/// A segment takes the length of its *last* run (so a segment repeated after `previous`
/// takes its last run's), and only when that run ran its course: it reached its deadline,
/// or lasted at least its planned length (extended, or held in overtime). A run cut short
/// — skipped with `next`, left with `previous`, stopped — says nothing about how long the
/// segment needs, so such a segment keeps its planned length, as does one never reached
/// or still open when the session ended (finished while the server was down).
/// Lengths include pauses. For a session still running, what has not happened yet counts
/// as planned (the timeline's projection without further steering).
#[must_use]
pub fn plan_from_actuals(record: &SessionRecord) -> ValidPlan {
    let cutoff = record.finished.map_or(Frame(u64::MAX), |(at, _, _)| at);
    let actual = replay(record, cutoff);
    let planned = planned_spans(record, &actual);
    let mut raw = record.plan.to_plan();
    raw.name = as_run_name(record.plan.name(), record.started);
    for (index, (segment, raw_segment)) in record
        .plan
        .segments()
        .iter()
        .zip(raw.segments.iter_mut())
        .enumerate()
    {
        let (planned_start, planned_end) = planned[index];
        let planned_frames = planned_end.saturating_sub(planned_start);
        let last = actual
            .runs()
            .iter()
            .rfind(|r| r.segment == index && r.start <= cutoff);
        let Some(run) = last else { continue };
        let Some(end) = run.end.filter(|&end| end <= cutoff) else {
            continue;
        };
        let length = end.saturating_sub(run.start);
        if run.ended_by != Some(RunEnd::Deadline) && length < planned_frames {
            continue;
        }
        let plan_seconds = (seconds_exact(length) * record.speed.factor()).round();
        let whole = (plan_seconds as u64).clamp(1, MAX_SEGMENT.as_secs());
        let duration = SegmentDuration::from_secs(whole);
        raw_segment.duration = duration.to_string();
        raw_segment.warnings = segment
            .warnings()
            .iter()
            .filter(|&&w| w < duration)
            .map(ToString::to_string)
            .collect();
    }
    let seeded = raw.validate();
    // Every field comes from a valid plan, each length is within the limits and every
    // warning kept is shorter than its segment, so this cannot fail; if it ever did, the
    // plan as run is the safe seed.
    debug_assert!(seeded.is_ok(), "{seeded:?}");
    seeded.unwrap_or_else(|_| record.plan.clone())
}

/// `"<name> (as run <date>)"`, within [`MAX_TITLE_CHARS`]; a name that already ends in
/// such a suffix (a plan seeded from an earlier session) has it replaced, not repeated.
fn as_run_name(name: &str, started: SystemTime) -> String {
    let date = &rfc3339(started)[..10];
    let suffix = format!(" (as run {date})");
    let base = match name.rfind(" (as run ") {
        Some(i) if name.ends_with(')') && name.len() - i == suffix.len() => &name[..i],
        _ => name,
    };
    let room = MAX_TITLE_CHARS.saturating_sub(suffix.chars().count());
    let base: String = base.chars().take(room).collect();
    format!("{}{suffix}", base.trim_end())
}

/// The actual timeline: the plan replayed with the record's steering, overtime generated
/// only up to `cutoff`.
fn replay(record: &SessionRecord, cutoff: Frame) -> Timeline {
    let options = TimelineOptions::new(SESSION_RATE)
        .with_speed(record.speed)
        .with_horizon(cutoff);
    timeline(&record.plan, &record.steering, &options)
}

/// Each segment's planned `(start, end)` in session frames, computed the way the timeline
/// does (from the plan's cumulative time after the buka), so an unsteered session's runs
/// match them exactly — including `wait` segments, which an unsteered timeline would hold.
fn planned_spans(record: &SessionRecord, actual: &Timeline) -> Vec<(Frame, Frame)> {
    let origin = actual.first_segment_start();
    let mut cumulative = Duration::ZERO;
    let mut previous = origin;
    record
        .plan
        .segments()
        .iter()
        .map(|segment| {
            cumulative = cumulative.saturating_add(segment.duration().get());
            let end = origin + Frame(record.speed.frames(cumulative, SESSION_RATE));
            let span = (previous, end);
            previous = end;
            span
        })
        .collect()
}

/// Where and how `run` ended, as of `cutoff`.
fn run_end(run: &SegmentRun, cutoff: Frame, finished: bool) -> (Option<Frame>, RunOutcome) {
    match (run.end, run.ended_by) {
        (Some(end), Some(how)) if end <= cutoff => {
            let outcome = match how {
                RunEnd::Deadline => RunOutcome::Deadline,
                RunEnd::Next if end < run.deadline => RunOutcome::Skipped,
                RunEnd::Next => RunOutcome::Next,
                RunEnd::Previous => RunOutcome::Previous,
                RunEnd::Stop => RunOutcome::Stopped,
            };
            (Some(end), outcome)
        }
        _ if finished => (Some(cutoff), RunOutcome::SessionEnded),
        _ => (None, RunOutcome::Running),
    }
}

/// Who ended a finished session: whoever stopped it, else the finishing entry's actor.
fn ended_by(record: &SessionRecord, how: Ending) -> Actor {
    let stopper = (how == Ending::Stopped)
        .then(|| {
            record.log.iter().rev().find(|e| {
                matches!(
                    e.action,
                    Action::Steered {
                        steer: Steer::Stop { .. }
                    }
                )
            })
        })
        .flatten();
    let finisher = || {
        record
            .log
            .iter()
            .rev()
            .find(|e| matches!(e.action, Action::Finished { .. }))
    };
    stopper
        .or_else(finisher)
        .map_or_else(Actor::server, |e| e.actor.clone())
}

/// The segment an entry happened in: the run current at its frame (steering during the
/// buka takes effect where segment 0 starts), or for `next` and `previous` the run they
/// ended.
fn segment_of(actual: &Timeline, action: &Action, at: Frame) -> Option<usize> {
    let at = match action {
        Action::Steered { .. } => at.max(actual.first_segment_start()),
        _ => at,
    };
    let run = match action {
        Action::Steered {
            steer: Steer::Next { .. } | Steer::Previous { .. } | Steer::Jump { .. },
        } => actual
            .runs()
            .partition_point(|r| r.start < at)
            .checked_sub(1)
            .or_else(|| actual.run_at(at)),
        _ => actual.run_at(at),
    }?;
    actual.runs().get(run).map(|r| r.segment)
}

/// A short human description of an action (in `segment` of `plan`).
fn detail(action: &Action, plan: &ValidPlan, segment: Option<usize>) -> String {
    match action {
        Action::Started { plan, speed } => {
            let segments = plan.segments().len();
            let mut text = format!(
                "start \"{}\" ({segments} segment{})",
                plan.name(),
                plural(segments)
            );
            if (speed - 1.0).abs() > f64::EPSILON {
                let _ = write!(text, " at {speed}×");
            }
            text
        }
        Action::Steered { steer } => match steer {
            Steer::Extend { by, .. } => format!("extend +{}", clock(by.as_secs_f64())),
            Steer::SetLeft { left, .. } => format!("time left {}", clock(left.as_secs_f64())),
            Steer::Jump { segment: to, .. } => {
                let title = plan.segments().get(*to as usize).map_or("", |s| s.title());
                format!("jump to {} \"{title}\"", to + 1)
            }
            Steer::Spin { entry, .. } => {
                let entry = segment
                    .and_then(|s| plan.segments().get(s))
                    .and_then(|s| s.entries().get(*entry as usize))
                    .map_or("?", String::as_str);
                format!("spin → \"{entry}\"")
            }
            _ => action.name().to_owned(),
        },
        Action::Cue {
            instrument,
            variant,
            in_seconds,
            ..
        } => {
            let mut text = format!("cue {instrument}");
            if let Some(variant) = variant {
                let _ = write!(text, " {variant}");
            }
            if *in_seconds >= 0.001 {
                let _ = write!(text, " in {}s", round_ms(*in_seconds));
            }
            text
        }
        Action::Missed { strokes } => format!("missed {strokes} stroke{}", plural(*strokes)),
        Action::Output { output, detail } if detail.is_empty() => format!("output {output}"),
        Action::Output { output, detail } => format!("output {output}: {detail}"),
        Action::Resumed { down_seconds } => {
            format!("server back after {} down", clock(*down_seconds))
        }
        Action::Finished { ending } => match ending {
            Ending::Completed => "finished: ran to its end".to_owned(),
            Ending::Stopped => "finished: stopped".to_owned(),
            Ending::EndedWhileDown => "finished: ended while the server was down".to_owned(),
        },
    }
}

fn title(plan: &ValidPlan, segment: usize) -> String {
    plan.segments()
        .get(segment)
        .map(|s| s.title().to_owned())
        .unwrap_or_default()
}

fn moment(record: &SessionRecord, frame: Frame) -> Moment {
    Moment {
        seconds: seconds(frame),
        utc: rfc3339(record.utc_of(frame)),
    }
}

/// Session frames as seconds, exactly.
fn seconds_exact(frames: Frame) -> f64 {
    frames.as_seconds(SESSION_RATE)
}

/// Session frames as seconds, to the millisecond (as precise as the UTC instants beside
/// them, and without float noise in the JSON).
fn seconds(frames: Frame) -> f64 {
    round_ms(seconds_exact(frames))
}

fn round_ms(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Whether a run's overtime is worth a mention: at least a second once rounded.
fn shows_overtime(run: &RunReport) -> bool {
    run.overtime_seconds >= 0.5
}

/// A length as `m:ss` or `h:mm:ss`, to the nearest second.
fn clock(seconds: f64) -> String {
    let total = seconds.abs().round() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// A difference as `+m:ss` or `-m:ss` (`0:00` when it rounds to nothing).
fn signed_clock(seconds: f64) -> String {
    let text = clock(seconds);
    if seconds.abs().round() < 1.0 {
        text
    } else if seconds > 0.0 {
        format!("+{text}")
    } else {
        format!("-{text}")
    }
}

/// `hh:mm:ss` of an RFC 3339 instant.
fn time_of_day(utc: &str) -> &str {
    utc.get(11..19).unwrap_or(utc)
}

fn span(from: &str, to: &str) -> String {
    format!("{}–{}", time_of_day(from), time_of_day(to))
}

/// The name serde gives a unit enum variant (`"skipped"`).
fn serde_name(outcome: RunOutcome) -> String {
    serde_json::to_value(outcome)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Whether `c` should never reach a table, a terminal or a spreadsheet: control
/// characters (C0, DEL, C1) and the bidirectional overrides and isolates that can make
/// text display in another order than it reads.
fn is_hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// User text on one line: line breaks and tabs become spaces, other hidden characters
/// go, and the ends are trimmed.
fn one_line(text: &str) -> String {
    let line: String = text
        .chars()
        .filter_map(|c| match c {
            '\n' | '\r' | '\t' => Some(' '),
            c if is_hidden(c) => None,
            c => Some(c),
        })
        .collect();
    line.trim().to_owned()
}

/// User text for a Markdown table cell or heading: on one line, with the characters
/// Markdown would read as structure (the cell's `|`, emphasis, code, links, HTML, and the
/// backslash itself) escaped, so it shows as written.
fn md_text(text: &str) -> String {
    let mut out = String::new();
    for c in one_line(text).chars() {
        if matches!(
            c,
            '\\' | '|' | '`' | '*' | '_' | '~' | '[' | ']' | '<' | '>'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// User text for a CSV cell: on one line, and with a leading `'` when it would otherwise
/// start with `=`, `+`, `-` or `@`, which spreadsheets run as a formula.
fn csv_text(text: &str) -> String {
    let line = one_line(text);
    if line.starts_with(['=', '+', '-', '@']) {
        format!("'{line}")
    } else {
        line
    }
}

/// Appends one RFC 4180 record: fields quoted (quotes doubled) when they hold a comma,
/// a quote or a line break; CRLF at the end.
fn csv_row(out: &mut String, fields: impl IntoIterator<Item = String>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&field);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod test;
