//! Plans: the serde model facilitators write (TOML on disk, JSON over HTTP), and its
//! validated form the rest of gongan trusts.
//!
//! Parse, then validate, once: [`Plan::parse_toml`] / [`Plan::from_json`] give a raw
//! [`Plan`] whose fields are the text the user wrote; [`Plan::validate`] turns it into a
//! [`ValidPlan`] or reports *every* problem, each naming the segment (index and title) and
//! the field. A plan with any problem is rejected whole. The timeline and the session
//! actor take only [`ValidPlan`]s, so they never re-check.
//!
//! ```toml
//! name = "Wheel of Misfortune"
//! description = "A past incident, replayed as a role-playing game"
//!
//! [[segments]]
//! title = "Briefing"
//! duration = "5m"
//! form = "ketawang"          # default: lancaran
//! density = "sparse"         # sparse | normal (default) | full
//! end = "auto"               # auto (default) | wait
//! warnings = ["1m"]          # default: none
//! notes = "Introduce the scenario and the roles."
//!
//! [[segments]]
//! title = "The incident"
//! duration = "20m"
//! entries = ["Disk full", "Expired certificate", "DNS"]  # a wheel to spin
//! draw = "without-repetition"   # each entry once before any comes again
//! rotation = ["Ana", "Budi", "Citra"]  # who takes a turn, in order
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::duration::{DurationError, SegmentDuration};
use super::form::{Density, Form, FormError, Pattern};

/// The longest a segment may be. Longer is almost certainly a typo (`"20h"` for `"20m"`).
pub const MAX_SEGMENT: Duration = Duration::from_secs(24 * 3600);
/// The most segments a plan may have (plans arrive over HTTP; this bounds the work).
pub const MAX_SEGMENTS: usize = 200;
/// The most warnings one segment may have.
pub const MAX_WARNINGS: usize = 8;
/// The most entries one segment's wheel may have (more would not fit on it).
pub const MAX_ENTRIES: usize = 60;
/// The most people one segment's rotation may have.
pub const MAX_ROTATION: usize = 60;
/// The longest title or name, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest description or notes, in characters.
pub const MAX_NOTES_CHARS: usize = 20_000;

/// A plan as written: the serde model shared by `plans/*.toml` and the HTTP API.
///
/// Every field is what the user wrote, unchecked; call [`Plan::validate`]. Unknown fields
/// are rejected when parsing, so a misspelt key (`warning = …`) is an error, not silently
/// ignored.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The plan's display name.
    #[serde(default)]
    pub name: String,
    /// What the session is for, in a sentence or two.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The timeboxes, in order. Breaks are segments too.
    #[serde(default)]
    pub segments: Vec<RawSegment>,
}

/// One segment as written. Optional fields hold `None` when the writer left them out;
/// validation fills in the defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSegment {
    /// What this timebox is ("Investigation", "Break").
    #[serde(default)]
    pub title: String,
    /// Its length: `"20m"`, `"90s"`, `"1h30m"` (see [`SegmentDuration`]).
    #[serde(default)]
    pub duration: String,
    /// A form name or a pattern string; default `lancaran`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
    /// `sparse`, `normal` or `full`; default `normal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density: Option<String>,
    /// `auto` or `wait`; default `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Leads before the deadline at which a warning sounds, e.g. `["5m", "1m"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Free text for the facilitator.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// A wheel to spin during this segment: people, topics, past incidents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<String>,
    /// `with-repetition` (default) or `without-repetition`: how the wheel draws.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draw: Option<String>,
    /// People who take the segment in turns, in order: its time is shared equally and
    /// each turn is announced with who comes next.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rotation: Vec<String>,
}

/// How a segment's wheel draws its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Draw {
    /// Every spin may land on any entry.
    #[default]
    WithRepetition,
    /// Each entry once before any comes again (then a new round begins).
    WithoutRepetition,
}

impl Draw {
    /// The name used in plans.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Draw::WithRepetition => "with-repetition",
            Draw::WithoutRepetition => "without-repetition",
        }
    }
}

impl fmt::Display for Draw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Draw {
    type Err = String;
    /// Reads `with-repetition` or `without-repetition` (case-insensitive); the error is
    /// the input.
    fn from_str(s: &str) -> Result<Draw, String> {
        [Draw::WithRepetition, Draw::WithoutRepetition]
            .into_iter()
            .find(|d| d.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| s.to_owned())
    }
}

/// What happens when a segment's deadline gong has sounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndAction {
    /// The next segment starts by itself at the deadline.
    #[default]
    Auto,
    /// The session holds in overtime, with a soft reminder at a fixed interval, until the
    /// facilitator moves on (`next`).
    Wait,
}

impl EndAction {
    /// The lowercase name used in plans.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            EndAction::Auto => "auto",
            EndAction::Wait => "wait",
        }
    }
}

impl fmt::Display for EndAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EndAction {
    type Err = String;
    /// Reads `auto` or `wait` (case-insensitive); the error is the input.
    fn from_str(s: &str) -> Result<EndAction, String> {
        [EndAction::Auto, EndAction::Wait]
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| s.to_owned())
    }
}

/// A plan that passed validation. Immutable: build a new [`Plan`] to change it.
///
/// Serialises as the [`Plan`] model in canonical form (durations written compactly,
/// defaults spelt out), and deserialises through [`Plan::validate`], so an axum
/// `Json<ValidPlan>` extractor is enough to accept a plan over HTTP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Plan", try_from = "Plan")]
pub struct ValidPlan {
    name: String,
    description: String,
    segments: Vec<Segment>,
}

/// A validated segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    title: String,
    duration: SegmentDuration,
    form: Form,
    pattern: Pattern,
    density: Density,
    end: EndAction,
    warnings: Vec<SegmentDuration>,
    notes: String,
    entries: Vec<String>,
    draw: Draw,
    rotation: Vec<String>,
}

impl Segment {
    /// The title; never empty.
    #[must_use]
    pub fn title(&self) -> &str {
        &self.title
    }
    /// The timebox: more than zero, at most [`MAX_SEGMENT`].
    #[must_use]
    pub fn duration(&self) -> SegmentDuration {
        self.duration
    }
    /// The colotomic form.
    #[must_use]
    pub fn form(&self) -> &Form {
        &self.form
    }
    /// The form's cycle of beats (computed once, at validation).
    #[must_use]
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }
    /// Which strokes sound.
    #[must_use]
    pub fn density(&self) -> Density {
        self.density
    }
    /// What happens at the deadline.
    #[must_use]
    pub fn end(&self) -> EndAction {
        self.end
    }
    /// Warning leads, each more than zero and shorter than the segment, distinct, sorted
    /// longest first (so the earliest warning comes first).
    #[must_use]
    pub fn warnings(&self) -> &[SegmentDuration] {
        &self.warnings
    }
    /// Facilitator notes (may be empty).
    #[must_use]
    pub fn notes(&self) -> &str {
        &self.notes
    }
    /// The wheel's entries, in order (empty: the segment has no wheel); distinct, never
    /// blank, at most [`MAX_ENTRIES`].
    #[must_use]
    pub fn entries(&self) -> &[String] {
        &self.entries
    }
    /// How the wheel draws.
    #[must_use]
    pub fn draw(&self) -> Draw {
        self.draw
    }
    /// Who takes the segment in turns (may be empty); distinct, never blank.
    #[must_use]
    pub fn rotation(&self) -> &[String] {
        &self.rotation
    }
}

impl ValidPlan {
    /// The display name; never empty.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The description (may be empty).
    #[must_use]
    pub fn description(&self) -> &str {
        &self.description
    }
    /// The segments, in order; never empty, at most [`MAX_SEGMENTS`].
    #[must_use]
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }
    /// Whether segments `a` and `b` spin the same wheel (the same entries, in the same
    /// order): a wheel drawn without repetition remembers its draws across every segment
    /// that carries it, as the rounds of a Wheel of Expertise do.
    #[must_use]
    pub fn same_wheel(&self, a: usize, b: usize) -> bool {
        match (self.segments.get(a), self.segments.get(b)) {
            (Some(a), Some(b)) => !a.entries.is_empty() && a.entries == b.entries,
            _ => false,
        }
    }

    /// The planned length of the whole session: the sum of its timeboxes (without the
    /// few seconds of the opening buka, and before any steering).
    #[must_use]
    pub fn total_duration(&self) -> Duration {
        self.segments.iter().map(|s| s.duration.get()).sum()
    }

    /// Parses and validates TOML in one step.
    pub fn from_toml(text: &str) -> Result<ValidPlan, PlanError> {
        Plan::parse_toml(text)?.validate()
    }

    /// Parses and validates JSON in one step.
    pub fn from_json(text: &str) -> Result<ValidPlan, PlanError> {
        Plan::from_json(text)?.validate()
    }

    /// The canonical raw model: defaults spelt out, durations in compact form. Validating
    /// it again gives back an equal plan.
    #[must_use]
    pub fn to_plan(&self) -> Plan {
        Plan {
            name: self.name.clone(),
            description: self.description.clone(),
            segments: self
                .segments
                .iter()
                .map(|s| RawSegment {
                    title: s.title.clone(),
                    duration: s.duration.to_string(),
                    form: Some(s.form.to_string()),
                    density: Some(s.density.to_string()),
                    end: Some(s.end.to_string()),
                    warnings: s.warnings.iter().map(ToString::to_string).collect(),
                    notes: s.notes.clone(),
                    entries: s.entries.clone(),
                    draw: (!s.entries.is_empty()).then(|| s.draw.to_string()),
                    rotation: s.rotation.clone(),
                })
                .collect(),
        }
    }

    /// The plan as TOML, for saving it as a file that [`ValidPlan::from_toml`] reads back.
    pub fn to_toml(&self) -> Result<String, PlanError> {
        toml::to_string_pretty(&self.to_plan()).map_err(|e| PlanError::Toml(e.to_string()))
    }
}

impl From<ValidPlan> for Plan {
    fn from(plan: ValidPlan) -> Plan {
        plan.to_plan()
    }
}

impl TryFrom<Plan> for ValidPlan {
    type Error = PlanError;
    fn try_from(plan: Plan) -> Result<ValidPlan, PlanError> {
        plan.validate()
    }
}

/// Why a plan was rejected.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum PlanError {
    /// Not TOML, or TOML that does not fit the model (unknown field, wrong type).
    #[error("plan is not valid TOML: {0}")]
    Toml(String),
    /// Not JSON, or JSON that does not fit the model.
    #[error("plan is not valid JSON: {0}")]
    Json(String),
    /// Well-formed, but with problems; every one is listed.
    #[error("{0}")]
    Invalid(Problems),
}

/// Every problem found in a plan, in document order. Displays as one line per problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// One problem in a plan: where it is and what is wrong.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum Problem {
    /// The plan has no segments.
    #[error("plan: segments: the plan has no segments (add at least one [[segments]])")]
    NoSegments,
    /// More than [`MAX_SEGMENTS`] segments.
    #[error("plan: segments: {0} segments; a plan has at most {MAX_SEGMENTS}")]
    TooManySegments(usize),
    /// A plan-level field (name, description) is wrong.
    #[error("plan: {field}: {issue}")]
    Plan {
        /// `name` or `description`.
        field: &'static str,
        /// What is wrong.
        issue: Issue,
    },
    /// A field of one segment is wrong.
    #[error("{segment}: {field}: {issue}")]
    Segment {
        /// Which segment.
        segment: SegmentRef,
        /// Which field.
        field: SegmentField,
        /// What is wrong.
        issue: Issue,
    },
}

/// Names a segment in an error: its index (from 0, as in `segments[i]`) and its title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRef {
    /// Position in `segments`, from 0.
    pub index: usize,
    /// The title as written (may be empty: that is then one of the problems).
    pub title: String,
}

impl fmt::Display for SegmentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.title.trim().is_empty() {
            write!(f, "segments[{}] (untitled)", self.index)
        } else {
            write!(f, "segments[{}] {:?}", self.index, self.title)
        }
    }
}

/// A segment field, for errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentField {
    /// `title`.
    Title,
    /// `duration`.
    Duration,
    /// `form`.
    Form,
    /// `density`.
    Density,
    /// `end`.
    End,
    /// `warnings[i]`, from 0.
    Warning(usize),
    /// `warnings` as a whole.
    Warnings,
    /// `notes`.
    Notes,
    /// `entries` as a whole.
    Entries,
    /// `entries[i]`, from 0.
    Entry(usize),
    /// `draw`.
    Draw,
    /// `rotation` as a whole.
    Rotation,
    /// `rotation[i]`, from 0.
    Person(usize),
}

impl fmt::Display for SegmentField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SegmentField::Title => f.write_str("title"),
            SegmentField::Duration => f.write_str("duration"),
            SegmentField::Form => f.write_str("form"),
            SegmentField::Density => f.write_str("density"),
            SegmentField::End => f.write_str("end"),
            SegmentField::Warning(i) => write!(f, "warnings[{i}]"),
            SegmentField::Warnings => f.write_str("warnings"),
            SegmentField::Notes => f.write_str("notes"),
            SegmentField::Entries => f.write_str("entries"),
            SegmentField::Entry(i) => write!(f, "entries[{i}]"),
            SegmentField::Draw => f.write_str("draw"),
            SegmentField::Rotation => f.write_str("rotation"),
            SegmentField::Person(i) => write!(f, "rotation[{i}]"),
        }
    }
}

/// What is wrong with a field.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum Issue {
    /// Required text is missing or blank.
    #[error("is empty")]
    Empty,
    /// Text longer than its limit.
    #[error("is {chars} characters long; at most {max} are allowed")]
    TooLong {
        /// Its length.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// A duration that does not parse.
    #[error("{0}")]
    Duration(#[from] DurationError),
    /// A zero duration.
    #[error("{0:?} is zero; it must be longer than that")]
    Zero(String),
    /// A duration over [`MAX_SEGMENT`].
    #[error("{0} is longer than the 24h maximum")]
    Absurd(SegmentDuration),
    /// An unknown form or a bad pattern.
    #[error("{0}")]
    Form(#[from] FormError),
    /// An unknown density.
    #[error("unknown density {0:?}: use sparse, normal or full")]
    UnknownDensity(String),
    /// An unknown end action.
    #[error("unknown end {0:?}: use auto or wait")]
    UnknownEnd(String),
    /// A warning that would sound at or before the segment starts.
    #[error("warning {warning} is not shorter than the segment ({duration})")]
    WarningTooEarly {
        /// The warning lead.
        warning: SegmentDuration,
        /// The segment's length.
        duration: SegmentDuration,
    },
    /// The same warning twice.
    #[error("warning {0} is listed twice")]
    DuplicateWarning(SegmentDuration),
    /// More than [`MAX_WARNINGS`] warnings.
    #[error("{0} warnings; at most {MAX_WARNINGS} per segment")]
    TooManyWarnings(usize),
    /// A list longer than its limit (entries, rotation).
    #[error("has {count} names; at most {max} are allowed")]
    TooMany {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The same name twice in a list.
    #[error("{0:?} is listed twice")]
    Duplicate(String),
    /// An unknown draw.
    #[error("unknown draw {0:?}: use with-repetition or without-repetition")]
    UnknownDraw(String),
    /// A draw for a segment with no wheel.
    #[error("is set but the segment has no entries to draw from")]
    DrawWithoutEntries,
}

impl Plan {
    /// Reads the TOML form. Only syntax and shape are checked here; see [`Plan::validate`].
    pub fn parse_toml(text: &str) -> Result<Plan, PlanError> {
        toml::from_str(text).map_err(|e| PlanError::Toml(e.to_string().trim_end().to_owned()))
    }

    /// Reads the JSON form. Only syntax and shape are checked here; see [`Plan::validate`].
    pub fn from_json(text: &str) -> Result<Plan, PlanError> {
        serde_json::from_str(text).map_err(|e| PlanError::Json(e.to_string()))
    }

    /// Checks everything and returns the plan the core trusts, or every problem found.
    /// Never panics, whatever the input.
    pub fn validate(&self) -> Result<ValidPlan, PlanError> {
        let mut problems = Vec::new();
        let name = self.name.trim();
        if let Some(issue) = text_issue(name, MAX_TITLE_CHARS, true) {
            problems.push(Problem::Plan {
                field: "name",
                issue,
            });
        }
        if let Some(issue) = text_issue(&self.description, MAX_NOTES_CHARS, false) {
            problems.push(Problem::Plan {
                field: "description",
                issue,
            });
        }
        if self.segments.is_empty() {
            problems.push(Problem::NoSegments);
        }
        if self.segments.len() > MAX_SEGMENTS {
            problems.push(Problem::TooManySegments(self.segments.len()));
            return Err(PlanError::Invalid(Problems(problems)));
        }
        let segments: Vec<Segment> = self
            .segments
            .iter()
            .enumerate()
            .filter_map(|(index, raw)| validate_segment(index, raw, &mut problems))
            .collect();
        if problems.is_empty() {
            Ok(ValidPlan {
                name: name.to_owned(),
                description: self.description.trim().to_owned(),
                segments,
            })
        } else {
            Err(PlanError::Invalid(Problems(problems)))
        }
    }
}

fn text_issue(text: &str, max: usize, required: bool) -> Option<Issue> {
    let chars = text.chars().count();
    if required && text.trim().is_empty() {
        Some(Issue::Empty)
    } else if chars > max {
        Some(Issue::TooLong { chars, max })
    } else {
        None
    }
}

/// A positive duration no longer than [`MAX_SEGMENT`].
fn positive_duration(text: &str) -> Result<SegmentDuration, Issue> {
    let duration = SegmentDuration::parse(text)?;
    if duration.is_zero() {
        return Err(Issue::Zero(text.trim().to_owned()));
    }
    if duration.get() > MAX_SEGMENT {
        return Err(Issue::Absurd(duration));
    }
    Ok(duration)
}

/// Validates one segment, pushing its problems; `Some` only if it had none.
fn validate_segment(
    index: usize,
    raw: &RawSegment,
    problems: &mut Vec<Problem>,
) -> Option<Segment> {
    let before = problems.len();
    let mut problem = |field: SegmentField, issue: Issue| {
        problems.push(Problem::Segment {
            segment: SegmentRef {
                index,
                title: raw.title.clone(),
            },
            field,
            issue,
        });
    };
    let title = raw.title.trim();
    if let Some(issue) = text_issue(title, MAX_TITLE_CHARS, true) {
        problem(SegmentField::Title, issue);
    }
    if let Some(issue) = text_issue(&raw.notes, MAX_NOTES_CHARS, false) {
        problem(SegmentField::Notes, issue);
    }
    let duration = match positive_duration(&raw.duration) {
        Ok(d) => Some(d),
        Err(issue) => {
            problem(SegmentField::Duration, issue);
            None
        }
    };
    let form = match raw.form.as_deref().map(Form::parse).transpose() {
        Ok(form) => Some(form.unwrap_or_default()),
        Err(err) => {
            problem(SegmentField::Form, err.into());
            None
        }
    };
    let density = match raw.density.as_deref().map(str::parse).transpose() {
        Ok(d) => Some(d.unwrap_or_default()),
        Err(text) => {
            problem(SegmentField::Density, Issue::UnknownDensity(text));
            None
        }
    };
    let end = match raw.end.as_deref().map(str::parse).transpose() {
        Ok(e) => Some(e.unwrap_or_default()),
        Err(text) => {
            problem(SegmentField::End, Issue::UnknownEnd(text));
            None
        }
    };
    let mut warnings = Vec::new();
    if raw.warnings.len() > MAX_WARNINGS {
        problem(
            SegmentField::Warnings,
            Issue::TooManyWarnings(raw.warnings.len()),
        );
    } else {
        for (i, text) in raw.warnings.iter().enumerate() {
            match positive_duration(text) {
                Err(issue) => problem(SegmentField::Warning(i), issue),
                Ok(warning) => {
                    if duration.is_some_and(|d| warning >= d) {
                        problem(
                            SegmentField::Warning(i),
                            Issue::WarningTooEarly {
                                warning,
                                duration: duration.unwrap_or_default(),
                            },
                        );
                    } else if warnings.contains(&warning) {
                        problem(SegmentField::Warning(i), Issue::DuplicateWarning(warning));
                    } else {
                        warnings.push(warning);
                    }
                }
            }
        }
    }
    let entries = names(
        &raw.entries,
        MAX_ENTRIES,
        SegmentField::Entries,
        SegmentField::Entry,
        &mut problem,
    );
    let rotation = names(
        &raw.rotation,
        MAX_ROTATION,
        SegmentField::Rotation,
        SegmentField::Person,
        &mut problem,
    );
    let draw = match raw.draw.as_deref().map(str::parse).transpose() {
        Ok(_) if raw.draw.is_some() && raw.entries.is_empty() => {
            problem(SegmentField::Draw, Issue::DrawWithoutEntries);
            None
        }
        Ok(d) => Some(d.unwrap_or_default()),
        Err(text) => {
            problem(SegmentField::Draw, Issue::UnknownDraw(text));
            None
        }
    };
    if problems.len() != before {
        return None;
    }
    let (duration, form, density, end, draw) = (duration?, form?, density?, end?, draw?);
    warnings.sort_unstable_by(|a, b| b.cmp(a));
    Some(Segment {
        title: title.to_owned(),
        duration,
        pattern: form.pattern(),
        form,
        density,
        end,
        warnings,
        notes: raw.notes.trim().to_owned(),
        entries,
        draw,
        rotation,
    })
}

/// A list of names (a wheel's entries, a rotation's people): each trimmed, none blank or
/// too long, no two the same, at most `max`. Problems are reported through `problem`.
fn names(
    raw: &[String],
    max: usize,
    whole: SegmentField,
    item: fn(usize) -> SegmentField,
    problem: &mut impl FnMut(SegmentField, Issue),
) -> Vec<String> {
    if raw.len() > max {
        problem(
            whole,
            Issue::TooMany {
                count: raw.len(),
                max,
            },
        );
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for (i, name) in raw.iter().enumerate() {
        let name = name.trim();
        if let Some(issue) = text_issue(name, MAX_TITLE_CHARS, true) {
            problem(item(i), issue);
        } else if out.iter().any(|seen| seen.eq_ignore_ascii_case(name)) {
            problem(item(i), Issue::Duplicate(name.to_owned()));
        } else {
            out.push(name.to_owned());
        }
    }
    out
}

/// The id of a plan: a template's file stem or a saved plan's name in the data directory.
///
/// Lowercase ASCII letters, digits and single hyphens, 1 to 64 characters, starting and
/// ending with a letter or digit (`wheel-of-misfortune`). Because it is used as a file name
/// and in URLs (`/v1/plans/{id}`), nothing else is allowed — no dots, slashes or spaces.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PlanId(String);

/// Why a string is not a [`PlanId`].
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error(
    "{0:?} is not a plan id: use 1–64 lowercase letters, digits and single hyphens, like \"wheel-of-misfortune\""
)]
pub struct PlanIdError(pub String);

impl PlanId {
    /// Checks `id` (see the type's docs).
    pub fn parse(id: &str) -> Result<PlanId, PlanIdError> {
        let ok = (1..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !id.starts_with('-')
            && !id.ends_with('-')
            && !id.contains("--");
        if ok {
            Ok(PlanId(id.to_owned()))
        } else {
            Err(PlanIdError(id.to_owned()))
        }
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PlanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for PlanId {
    type Err = PlanIdError;
    fn from_str(s: &str) -> Result<PlanId, PlanIdError> {
        PlanId::parse(s)
    }
}

impl TryFrom<String> for PlanId {
    type Error = PlanIdError;
    fn try_from(s: String) -> Result<PlanId, PlanIdError> {
        PlanId::parse(&s)
    }
}

impl From<PlanId> for String {
    fn from(id: PlanId) -> String {
        id.0
    }
}

#[cfg(test)]
mod test;
