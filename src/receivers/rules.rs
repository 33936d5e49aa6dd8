//! [`Delivery`]: one tool's webhook, normalised — where it came from, its delivery id (for
//! [`dedup`](super::dedup)), who sent it (the actor), what happened, and the payload — and
//! [`map`]: what gongan does about it, by the config file's mapping rules first (the first
//! that matches wins) and then the defaults.
//!
//! The defaults, which work with no rules at all:
//!
//! | source | event | command |
//! |---|---|---|
//! | alertmanager, grafana | `firing` | `gong` |
//! | alertmanager, grafana | `resolved` | `kenong` |
//! | pagerduty | `incident.triggered` | `gong` |
//! | pagerduty | `incident.acknowledged` | `kenong` |
//! | pagerduty | `incident.resolved` | `suwukan` |
//! | github | `workflow_run` completed, `success` | `kenong` |
//! | github | `workflow_run` completed, `failure`, `timed_out` or `startup_failure` | `gong` |
//!
//! Anything else maps to nothing, and says why ([`Mapping::Ignore`]).
//!
//! A rule's `match` names payload fields by dotted paths (`commonLabels.severity`,
//! `event.data.urgency`, `workflow_run.head_branch`, `alerts.0.labels.team` — a number
//! indexes an array), each compared with the text of the field: a string as it is, a
//! number or a boolean as JSON writes it (`truncatedAlerts = "0"`). A missing field never
//! matches. The path [`EVENT_FIELD`] (`$event`) is the delivery's event: the status of an
//! alert group, PagerDuty's `event_type`, GitHub's `X-GitHub-Event` (which is not in
//! GitHub's payload).

use serde_json::Value;
use thiserror::Error;

use crate::command::Command;
use crate::config::{Rule, RuleAction, Source};
use crate::session::Actor;
use crate::session::record::MAX_ACTOR_CHARS;

/// The match path that names the delivery's event rather than a payload field.
pub const EVENT_FIELD: &str = "$event";

/// One delivery from a tool, checked and read.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The tool.
    pub source: Source,
    /// What identifies this delivery among the tool's retries and repeats: the same for
    /// a retry of one delivery, different for a new one (see each tool's module).
    pub id: String,
    /// A short name for what the delivery is about (an alert's name, an incident's title,
    /// a repository), for the actor: `alertmanager:{subject}`.
    pub subject: String,
    /// What happened: `firing` / `resolved` (Alertmanager, Grafana), PagerDuty's
    /// `event_type` (`incident.triggered`), GitHub's event (`workflow_run`).
    pub event: String,
    /// The whole payload, for the rules to match on.
    pub payload: Value,
}

/// Why a delivery was not taken. Nothing is played.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DeliveryError {
    /// The signature or token is missing or does not match the configured secret.
    #[error("{0}")]
    BadSignature(String),
    /// Signed, but with a timestamp outside the tool's replay window.
    #[error("{0}")]
    Stale(String),
    /// Not the tool's format: not JSON, a missing field, another version.
    #[error("{0}")]
    Unknown(String),
}

impl DeliveryError {
    /// A format error from serde, saying which tool's format it is not.
    #[must_use]
    pub fn shape(tool: &str, error: &serde_json::Error) -> DeliveryError {
        DeliveryError::Unknown(format!("this is not a webhook from {tool}: {error}"))
    }
}

/// Reads a JSON body, or says it is not JSON.
///
/// # Errors
/// [`DeliveryError::Unknown`] naming the tool.
pub fn parse_json(tool: &str, body: &[u8]) -> Result<Value, DeliveryError> {
    serde_json::from_slice(body).map_err(|error| DeliveryError::shape(tool, &error))
}

/// Why a command was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Because {
    /// The config file's rule of this number (from 1, in file order).
    Rule(usize),
    /// The built-in default for the event.
    Default,
}

impl std::fmt::Display for Because {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Because::Rule(n) => write!(f, "rule {n}"),
            Because::Default => f.write_str("default"),
        }
    }
}

/// What to do about a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapping {
    /// Carry out this command.
    Run {
        /// The command.
        command: Command,
        /// Which rule chose it.
        because: Because,
    },
    /// Nothing, and why (for the answer and the log).
    Ignore {
        /// A sentence saying what was ignored and why.
        why: String,
    },
}

/// The first of `rules` for the delivery's source whose every match holds, else the
/// default for the event.
#[must_use]
pub fn map(delivery: &Delivery, rules: &[Rule]) -> Mapping {
    let chosen = rules
        .iter()
        .enumerate()
        .filter(|(_, rule)| rule.source == delivery.source)
        .find(|(_, rule)| {
            rule.matches
                .iter()
                .all(|(path, wanted)| field(delivery, path).as_deref() == Some(wanted.as_str()))
        });
    if let Some((index, rule)) = chosen {
        let because = Because::Rule(index + 1);
        return match &rule.action {
            RuleAction::Run(command) => Mapping::Run {
                command: command.clone(),
                because,
            },
            RuleAction::Ignore => Mapping::Ignore {
                why: format!(
                    "{} {} ignored: {because} of the config file says ignore",
                    delivery.source, delivery.event
                ),
            },
        };
    }
    match default(delivery) {
        Some(command) => Mapping::Run {
            command,
            because: Because::Default,
        },
        None => Mapping::Ignore {
            why: format!(
                "{} {} ignored: no rule matches it and there is no default for it ({})",
                delivery.source,
                describe(delivery),
                defaults_cover(delivery.source)
            ),
        },
    }
}

/// What a source's defaults cover.
fn defaults_cover(source: Source) -> &'static str {
    match source {
        Source::Alertmanager | Source::Grafana => "the defaults play firing and resolved",
        Source::Pagerduty => {
            "the defaults play incident.triggered, incident.acknowledged and incident.resolved"
        }
        Source::Github => "the defaults play a completed workflow_run that succeeded or failed",
        Source::Slack | Source::Mattermost => "chat commands are not mapped",
    }
}

/// The event, with GitHub's action and conclusion when there are any.
fn describe(delivery: &Delivery) -> String {
    let text = |path: &str| field(delivery, path).filter(|t| !t.is_empty() && t != "null");
    match delivery.source {
        Source::Github => {
            let mut out = delivery.event.clone();
            if let Some(action) = text("action") {
                out = format!("{out} {action}");
            }
            if let Some(conclusion) = text("workflow_run.conclusion") {
                out = format!("{out} ({conclusion})");
            }
            out
        }
        _ => delivery.event.clone(),
    }
}

fn default(delivery: &Delivery) -> Option<Command> {
    let name = match (delivery.source, delivery.event.as_str()) {
        (Source::Alertmanager | Source::Grafana, "firing") => "gong",
        (Source::Alertmanager | Source::Grafana, "resolved") => "kenong",
        (Source::Pagerduty, "incident.triggered") => "gong",
        (Source::Pagerduty, "incident.acknowledged") => "kenong",
        (Source::Pagerduty, "incident.resolved") => "suwukan",
        (Source::Github, "workflow_run")
            if field(delivery, "action").as_deref() == Some("completed") =>
        {
            match field(delivery, "workflow_run.conclusion").as_deref() {
                Some("success") => "kenong",
                // A run that timed out or could not start failed as surely as one whose
                // step failed.
                Some("failure" | "timed_out" | "startup_failure") => "gong",
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(Command::Cue {
        instrument: name.to_owned(),
        variant: None,
    })
}

/// The text of the field at a dotted `path` (or the event, for [`EVENT_FIELD`]).
#[must_use]
pub fn field(delivery: &Delivery, path: &str) -> Option<String> {
    if path == EVENT_FIELD {
        return Some(delivery.event.clone());
    }
    let mut value = &delivery.payload;
    for step in path.split('.') {
        value = match value {
            Value::Object(map) => map.get(step)?,
            Value::Array(items) => items.get(step.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(_) | Value::Bool(_) | Value::Null => Some(value.to_string()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// The actor a delivery acts as: `{source}:{subject}`, with control characters and runs
/// of spaces made one space and cut to the longest an actor may be, so any subject a
/// tool sends makes a valid actor.
#[must_use]
pub fn actor(source: Source, subject: &str) -> Actor {
    let mut name = format!("{}:", source.name());
    let mut chars = name.chars().count();
    let mut space = false;
    for c in subject.trim().chars() {
        if chars >= MAX_ACTOR_CHARS {
            break;
        }
        if c.is_control() || c.is_whitespace() {
            space = true;
            continue;
        }
        if space {
            // A space only between words: not when no word can follow it.
            if chars + 2 > MAX_ACTOR_CHARS {
                break;
            }
            name.push(' ');
            chars += 1;
        }
        space = false;
        name.push(c);
        chars += 1;
    }
    if name.ends_with(':') {
        name.push_str("unnamed");
    }
    // Every character is printable and there are at most MAX_ACTOR_CHARS: valid.
    Actor::new(&name).unwrap_or_else(|_| Actor::unnamed())
}

/// The first text of `candidates` that is there and not blank.
#[must_use]
pub fn first_text<'a>(candidates: impl IntoIterator<Item = Option<&'a str>>) -> String {
    candidates
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|t| !t.is_empty())
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod test {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    fn delivery(source: Source, event: &str, payload: Value) -> Delivery {
        Delivery {
            source,
            id: "id".into(),
            subject: "subject".into(),
            event: event.into(),
            payload,
        }
    }

    fn rule(source: Source, matches: &[(&str, &str)], action: &str) -> Rule {
        Rule {
            source,
            matches: matches
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            action: if action == "ignore" {
                RuleAction::Ignore
            } else {
                RuleAction::Run(Command::parse(action).unwrap())
            },
        }
    }

    fn runs(mapping: &Mapping) -> Option<(String, Because)> {
        match mapping {
            Mapping::Run { command, because } => Some((command.to_string(), *because)),
            Mapping::Ignore { .. } => None,
        }
    }

    #[test]
    fn the_defaults_need_no_rules() {
        let cases = [
            (Source::Alertmanager, "firing", json!({}), Some("gong")),
            (Source::Alertmanager, "resolved", json!({}), Some("kenong")),
            (Source::Grafana, "firing", json!({}), Some("gong")),
            (Source::Grafana, "resolved", json!({}), Some("kenong")),
            (
                Source::Pagerduty,
                "incident.triggered",
                json!({}),
                Some("gong"),
            ),
            (
                Source::Pagerduty,
                "incident.acknowledged",
                json!({}),
                Some("kenong"),
            ),
            (
                Source::Pagerduty,
                "incident.resolved",
                json!({}),
                Some("suwukan"),
            ),
            (
                Source::Pagerduty,
                "incident.priority_updated",
                json!({}),
                None,
            ),
            (
                Source::Github,
                "workflow_run",
                json!({"action": "completed", "workflow_run": {"conclusion": "success"}}),
                Some("kenong"),
            ),
            (
                Source::Github,
                "workflow_run",
                json!({"action": "completed", "workflow_run": {"conclusion": "failure"}}),
                Some("gong"),
            ),
            (
                Source::Github,
                "workflow_run",
                json!({"action": "completed", "workflow_run": {"conclusion": "timed_out"}}),
                Some("gong"),
            ),
            (
                Source::Github,
                "workflow_run",
                json!({"action": "completed", "workflow_run": {"conclusion": "cancelled"}}),
                None,
            ),
            (
                Source::Github,
                "workflow_run",
                json!({"action": "requested", "workflow_run": {"conclusion": null}}),
                None,
            ),
            (
                Source::Github,
                "push",
                json!({"ref": "refs/heads/main"}),
                None,
            ),
        ];
        for (source, event, payload, expected) in cases {
            let mapping = map(&delivery(source, event, payload), &[]);
            assert_eq!(
                runs(&mapping).map(|(c, _)| c).as_deref(),
                expected,
                "{source} {event}: {mapping:?}"
            );
        }
    }

    #[test]
    fn what_maps_to_nothing_says_what_and_why() {
        let ignored = map(
            &delivery(
                Source::Github,
                "workflow_run",
                json!({"action": "completed", "workflow_run": {"conclusion": "cancelled"}}),
            ),
            &[],
        );
        let Mapping::Ignore { why } = ignored else {
            panic!("{ignored:?}")
        };
        assert!(why.contains("workflow_run completed (cancelled)"), "{why}");
        assert!(why.contains("no rule matches"), "{why}");
    }

    #[test]
    fn the_first_matching_rule_wins_over_later_rules_and_the_defaults() {
        let payload = json!({
            "status": "firing",
            "truncatedAlerts": 0,
            "commonLabels": {"severity": "critical", "team": "db"},
            "alerts": [{"labels": {"instance": "db-1"}}]
        });
        let firing = delivery(Source::Alertmanager, "firing", payload);
        let rules = [
            rule(Source::Grafana, &[], "stop"),
            rule(
                Source::Alertmanager,
                &[("commonLabels.severity", "warning")],
                "kenong 1",
            ),
            rule(
                Source::Alertmanager,
                &[
                    ("commonLabels.severity", "critical"),
                    (EVENT_FIELD, "firing"),
                    ("truncatedAlerts", "0"),
                    ("alerts.0.labels.instance", "db-1"),
                ],
                "kenong 2",
            ),
            rule(Source::Alertmanager, &[], "stop"),
        ];
        assert_eq!(
            runs(&map(&firing, &rules)),
            Some(("kenong 2".into(), Because::Rule(3)))
        );
        // A field that is missing never matches: the catch-all rule 4 takes it.
        let other = delivery(
            Source::Alertmanager,
            "resolved",
            json!({"status": "resolved"}),
        );
        assert_eq!(
            runs(&map(&other, &rules)),
            Some(("stop".into(), Because::Rule(4)))
        );
        // Rules of other sources never apply: Grafana's catch-all does not touch PagerDuty.
        let incident = delivery(Source::Pagerduty, "incident.triggered", json!({}));
        assert_eq!(
            runs(&map(&incident, &rules)),
            Some(("gong".into(), Because::Default))
        );
    }

    #[test]
    fn an_ignore_rule_silences_a_default() {
        let rules = [rule(
            Source::Pagerduty,
            &[("event.data.urgency", "low")],
            "ignore",
        )];
        let low = delivery(
            Source::Pagerduty,
            "incident.triggered",
            json!({"event": {"data": {"urgency": "low"}}}),
        );
        let Mapping::Ignore { why } = map(&low, &rules) else {
            panic!()
        };
        assert!(why.contains("rule 1"), "{why}");
        let high = delivery(
            Source::Pagerduty,
            "incident.triggered",
            json!({"event": {"data": {"urgency": "high"}}}),
        );
        assert_eq!(
            runs(&map(&high, &rules)),
            Some(("gong".into(), Because::Default))
        );
    }

    #[test]
    fn fields_read_as_text() {
        let d = delivery(
            Source::Github,
            "push",
            json!({"a": {"b": [true, 2.5, null, "x", {"c": 1}]}}),
        );
        assert_eq!(field(&d, "a.b.0").as_deref(), Some("true"));
        assert_eq!(field(&d, "a.b.1").as_deref(), Some("2.5"));
        assert_eq!(field(&d, "a.b.2").as_deref(), Some("null"));
        assert_eq!(field(&d, "a.b.3").as_deref(), Some("x"));
        assert_eq!(field(&d, "a.b.4.c").as_deref(), Some("1"));
        assert_eq!(field(&d, "a.b.4"), None, "an object is not text");
        assert_eq!(field(&d, "a.b.9"), None);
        assert_eq!(field(&d, "a.b.x"), None);
        assert_eq!(field(&d, "a.b.3.deeper"), None);
        assert_eq!(field(&d, EVENT_FIELD).as_deref(), Some("push"));
    }

    #[test]
    fn any_subject_makes_a_valid_actor() {
        assert_eq!(
            actor(Source::Alertmanager, "ProbeFailure").as_str(),
            "alertmanager:ProbeFailure"
        );
        assert_eq!(
            actor(Source::Grafana, "[FIRING:2]  (blue)").as_str(),
            "grafana:[FIRING:2] (blue)"
        );
        assert_eq!(
            actor(Source::Github, "evil\u{1b}[2J\nname").as_str(),
            "github:evil [2J name"
        );
        assert_eq!(actor(Source::Pagerduty, "  ").as_str(), "pagerduty:unnamed");
        let long = actor(Source::Pagerduty, &"é".repeat(500));
        assert_eq!(long.as_str().chars().count(), MAX_ACTOR_CHARS);
        let spaced = actor(Source::Pagerduty, &format!("{} b", "a".repeat(89)));
        assert!(!spaced.as_str().ends_with(' '), "{spaced}");
        assert!(Actor::new(spaced.as_str()).is_ok());
    }

    #[test]
    fn first_text_skips_what_is_missing_or_blank() {
        assert_eq!(first_text([None, Some("  "), Some(" b "), Some("c")]), "b");
        assert_eq!(first_text([None, None]), "");
    }
}
