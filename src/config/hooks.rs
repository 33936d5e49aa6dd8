//! The settings of the integrations (PRODUCT.md §7): each receiver's secret, the mapping
//! rules from other tools' payloads to commands, and the notification targets.
//!
//! In the config file:
//!
//! ```toml
//! [hooks]
//! slack_signing_secret = "8f742231b10e8888abcd99yyyzzz85a5"   # GONGAN_SLACK_SIGNING_SECRET
//! mattermost_token = "xr3j5x3p4pfk7kbexj8ykqtk8c"            # GONGAN_MATTERMOST_TOKEN
//! token = "the-bearer-alertmanager-and-grafana-send"        # GONGAN_HOOK_TOKEN
//! grafana_hmac_secret = "…"                                  # GONGAN_GRAFANA_HMAC_SECRET
//! pagerduty_secret = "…"                                     # GONGAN_PAGERDUTY_SECRET
//! github_secret = "…"                                        # GONGAN_GITHUB_SECRET
//!
//! [[hooks.rules]]
//! source = "alertmanager"
//! match = { status = "firing", "commonLabels.severity" = "critical" }
//! action = "stop"
//!
//! [[notify]]
//! name = "team-chat"
//! url = "https://hooks.slack.com/services/T000/B000/XXXX"
//! format = "slack"            # slack | mattermost | json
//! events = ["started", "segment", "warning", "deadline", "overtime", "finished"]
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::ConfigError;
use crate::command::Command;

/// The tools gongan has a receiver for, as named in URLs (`/hooks/{source}`) and rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Slack slash commands.
    Slack,
    /// Mattermost slash commands.
    Mattermost,
    /// Prometheus Alertmanager webhooks (v4).
    Alertmanager,
    /// Grafana webhook contact points.
    Grafana,
    /// PagerDuty v3 webhooks.
    Pagerduty,
    /// GitHub webhooks.
    Github,
}

impl Source {
    /// Every receiver, in the order `gongan hooks` lists them.
    pub const ALL: [Source; 6] = [
        Source::Slack,
        Source::Mattermost,
        Source::Alertmanager,
        Source::Grafana,
        Source::Pagerduty,
        Source::Github,
    ];

    /// The name in URLs, rules and actors (`alertmanager:HighLatency`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Source::Slack => "slack",
            Source::Mattermost => "mattermost",
            Source::Alertmanager => "alertmanager",
            Source::Grafana => "grafana",
            Source::Pagerduty => "pagerduty",
            Source::Github => "github",
        }
    }

    /// The source named `name`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A shared secret (a signing secret, a token). Its `Debug` never shows it; comparisons
/// take constant time.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A secret from its text; `None` when empty (an unset variable).
    #[must_use]
    pub fn new(text: &str) -> Option<Secret> {
        let text = text.trim();
        (!text.is_empty()).then(|| Secret(text.to_owned()))
    }

    /// Whether `candidate` is this secret, in time that does not depend on where they
    /// differ.
    #[must_use]
    pub fn matches(&self, candidate: &[u8]) -> bool {
        self.0.as_bytes().ct_eq(candidate).into()
    }

    /// The secret's bytes, to key an HMAC with.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The `[hooks]` table as written (and the `GONGAN_*` variables).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHooks {
    /// Slack's signing secret.
    pub slack_signing_secret: Option<String>,
    /// The token Mattermost sends with each slash command.
    pub mattermost_token: Option<String>,
    /// The bearer token (or basic-auth password) Alertmanager and Grafana send.
    pub token: Option<String>,
    /// Grafana's HMAC signing secret.
    pub grafana_hmac_secret: Option<String>,
    /// PagerDuty's webhook subscription secret.
    pub pagerduty_secret: Option<String>,
    /// GitHub's webhook secret.
    pub github_secret: Option<String>,
    /// Mapping rules, tried in order before the defaults.
    #[serde(default)]
    pub rules: Vec<RawRule>,
}

/// The variable each secret may come from instead of the file.
pub const SECRET_VARIABLES: [(&str, Source); 6] = [
    ("GONGAN_SLACK_SIGNING_SECRET", Source::Slack),
    ("GONGAN_MATTERMOST_TOKEN", Source::Mattermost),
    ("GONGAN_HOOK_TOKEN", Source::Alertmanager),
    ("GONGAN_GRAFANA_HMAC_SECRET", Source::Grafana),
    ("GONGAN_PAGERDUTY_SECRET", Source::Pagerduty),
    ("GONGAN_GITHUB_SECRET", Source::Github),
];

impl RawHooks {
    /// The secrets set in `GONGAN_*` variables (no rules: they live in the file).
    #[must_use]
    pub fn from_env() -> RawHooks {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        RawHooks {
            slack_signing_secret: var("GONGAN_SLACK_SIGNING_SECRET"),
            mattermost_token: var("GONGAN_MATTERMOST_TOKEN"),
            token: var("GONGAN_HOOK_TOKEN"),
            grafana_hmac_secret: var("GONGAN_GRAFANA_HMAC_SECRET"),
            pagerduty_secret: var("GONGAN_PAGERDUTY_SECRET"),
            github_secret: var("GONGAN_GITHUB_SECRET"),
            rules: Vec::new(),
        }
    }

    /// `self` with every unset secret taken from `lower`; rules add up (`self`'s first).
    #[must_use]
    pub fn or(self, lower: RawHooks) -> RawHooks {
        let mut rules = self.rules;
        rules.extend(lower.rules);
        RawHooks {
            slack_signing_secret: self.slack_signing_secret.or(lower.slack_signing_secret),
            mattermost_token: self.mattermost_token.or(lower.mattermost_token),
            token: self.token.or(lower.token),
            grafana_hmac_secret: self.grafana_hmac_secret.or(lower.grafana_hmac_secret),
            pagerduty_secret: self.pagerduty_secret.or(lower.pagerduty_secret),
            github_secret: self.github_secret.or(lower.github_secret),
            rules,
        }
    }
}

/// A mapping rule as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// The receiver it applies to: `alertmanager`, `grafana`, `pagerduty`, `github`.
    pub source: String,
    /// Fields of the payload (dotted paths, `commonLabels.severity`) and the text each must
    /// equal; all must match. Empty matches every delivery of the source.
    #[serde(default, rename = "match")]
    pub matches: BTreeMap<String, String>,
    /// What to do, in the command grammar (`gong`, `kenong 3`, `next`, `start game-day`),
    /// or `ignore`.
    pub action: String,
}

/// What a rule does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleAction {
    /// Carry out a command.
    Run(Command),
    /// Do nothing (and say so): a way to silence a default.
    Ignore,
}

/// A checked mapping rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Its receiver.
    pub source: Source,
    /// Dotted field paths and the text each must equal.
    pub matches: BTreeMap<String, String>,
    /// What it does.
    pub action: RuleAction,
}

/// How a notification target wants its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyFormat {
    /// A Slack incoming webhook: `{"text": …}`.
    Slack,
    /// A Mattermost incoming webhook: `{"text": …, "username": "gongan"}`.
    Mattermost,
    /// gongan's own JSON event, signed with `X-Gongan-Signature: sha256=…` when a secret is set.
    Json,
}

/// The session events a target can hear about.
pub const NOTIFY_EVENTS: [&str; 9] = [
    "started", "segment", "warning", "deadline", "overtime", "finished", "turn", "spin", "resumed",
];

/// A notification target as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotify {
    /// Its name, for `gongan hooks test NAME` and the logs.
    pub name: String,
    /// Where to POST.
    pub url: String,
    /// `slack`, `mattermost` or `json` (default `json`).
    pub format: Option<NotifyFormat>,
    /// The signing secret of a `json` target.
    pub secret: Option<String>,
    /// Which events (default: all but `resumed`).
    pub events: Option<Vec<String>>,
}

/// A checked notification target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyTarget {
    /// Its name (lowercase letters, digits, hyphens).
    pub name: String,
    /// An `http://` or `https://` URL.
    pub url: String,
    /// The message format.
    pub format: NotifyFormat,
    /// Signs `json` messages.
    pub secret: Option<Secret>,
    /// The events it hears about, from [`NOTIFY_EVENTS`].
    pub events: Vec<String>,
}

/// The checked integration settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hooks {
    /// Slack's signing secret.
    pub slack_signing_secret: Option<Secret>,
    /// Mattermost's token.
    pub mattermost_token: Option<Secret>,
    /// The bearer token of Alertmanager and Grafana.
    pub token: Option<Secret>,
    /// Grafana's HMAC secret.
    pub grafana_hmac_secret: Option<Secret>,
    /// PagerDuty's secret.
    pub pagerduty_secret: Option<Secret>,
    /// GitHub's secret.
    pub github_secret: Option<Secret>,
    /// Mapping rules, in order.
    pub rules: Vec<Rule>,
    /// Notification targets.
    pub notify: Vec<NotifyTarget>,
}

impl Hooks {
    /// Checks the `[hooks]` table and the `[[notify]]` targets.
    ///
    /// # Errors
    /// The first rule or target that is wrong, saying which and why.
    pub fn validate(raw: RawHooks, notify: Vec<RawNotify>) -> Result<Hooks, ConfigError> {
        let secret = |s: Option<String>| s.as_deref().and_then(Secret::new);
        let mut rules = Vec::new();
        for (i, rule) in raw.rules.into_iter().enumerate() {
            let wrong = |why: String| ConfigError::Hooks(format!("rule {}: {why}", i + 1));
            let source = Source::from_name(rule.source.trim())
                .filter(|s| !matches!(s, Source::Slack | Source::Mattermost))
                .ok_or_else(|| {
                    wrong(format!(
                        "source {:?} has no rules: use alertmanager, grafana, pagerduty or github",
                        rule.source
                    ))
                })?;
            let action = if rule.action.trim() == "ignore" {
                RuleAction::Ignore
            } else {
                RuleAction::Run(
                    Command::parse(&rule.action)
                        .map_err(|e| wrong(format!("action {:?}: {e}", rule.action)))?,
                )
            };
            rules.push(Rule {
                source,
                matches: rule.matches,
                action,
            });
        }
        let mut targets: Vec<NotifyTarget> = Vec::new();
        for target in notify {
            let wrong =
                |why: String| ConfigError::Hooks(format!("notify {:?}: {why}", target.name));
            if crate::session::PlanId::parse(&target.name).is_err() {
                return Err(wrong(
                    "the name must be lowercase letters, digits and hyphens".into(),
                ));
            }
            if targets.iter().any(|t| t.name == target.name) {
                return Err(wrong("the name is used twice".into()));
            }
            let url = target.url.trim();
            let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
            if !scheme_ok || url.len() > 2048 || url.chars().any(char::is_whitespace) {
                return Err(wrong(format!("url {url:?} is not an http(s) URL")));
            }
            let events = match target.events {
                None => NOTIFY_EVENTS
                    .iter()
                    .filter(|e| **e != "resumed")
                    .map(|e| (*e).to_owned())
                    .collect(),
                Some(events) => {
                    for event in &events {
                        if !NOTIFY_EVENTS.contains(&event.as_str()) {
                            return Err(wrong(format!(
                                "event {event:?} is not one of {}",
                                NOTIFY_EVENTS.join(", ")
                            )));
                        }
                    }
                    events
                }
            };
            targets.push(NotifyTarget {
                name: target.name,
                url: url.to_owned(),
                format: target.format.unwrap_or(NotifyFormat::Json),
                secret: secret(target.secret),
                events,
            });
        }
        Ok(Hooks {
            slack_signing_secret: secret(raw.slack_signing_secret),
            mattermost_token: secret(raw.mattermost_token),
            token: secret(raw.token),
            grafana_hmac_secret: secret(raw.grafana_hmac_secret),
            pagerduty_secret: secret(raw.pagerduty_secret),
            github_secret: secret(raw.github_secret),
            rules,
            notify: targets,
        })
    }

    /// Whether the receiver for `source` has what it needs to check a delivery (without
    /// it, its route answers 404).
    #[must_use]
    pub fn configured(&self, source: Source) -> bool {
        match source {
            Source::Slack => self.slack_signing_secret.is_some(),
            Source::Mattermost => self.mattermost_token.is_some(),
            Source::Alertmanager => self.token.is_some(),
            Source::Grafana => self.token.is_some() || self.grafana_hmac_secret.is_some(),
            Source::Pagerduty => self.pagerduty_secret.is_some(),
            Source::Github => self.github_secret.is_some(),
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn rule(source: &str, action: &str) -> RawRule {
        RawRule {
            source: source.into(),
            matches: BTreeMap::new(),
            action: action.into(),
        }
    }

    #[test]
    fn rules_are_checked_against_the_grammar() {
        let raw = RawHooks {
            rules: vec![rule("alertmanager", "kenong 2"), rule("github", "ignore")],
            ..RawHooks::default()
        };
        let hooks = Hooks::validate(raw, Vec::new()).unwrap();
        assert_eq!(hooks.rules[0].source, Source::Alertmanager);
        assert_eq!(
            hooks.rules[0].action,
            RuleAction::Run(Command::parse("kenong 2").unwrap())
        );
        assert_eq!(hooks.rules[1].action, RuleAction::Ignore);
        for (source, action, says) in [
            ("slack", "gong", "has no rules"),
            ("nagios", "gong", "has no rules"),
            ("grafana", "kenong zero", "rule 1: action"),
        ] {
            let raw = RawHooks {
                rules: vec![rule(source, action)],
                ..RawHooks::default()
            };
            let error = Hooks::validate(raw, Vec::new()).unwrap_err().to_string();
            assert!(error.contains(says), "{error}");
        }
    }

    #[test]
    fn a_receiver_is_configured_by_its_secret() {
        let raw = RawHooks {
            token: Some("bearer-for-alerts".into()),
            github_secret: Some("  ".into()),
            ..RawHooks::default()
        };
        let hooks = Hooks::validate(raw, Vec::new()).unwrap();
        assert!(hooks.configured(Source::Alertmanager));
        assert!(hooks.configured(Source::Grafana));
        assert!(!hooks.configured(Source::Github), "a blank secret is none");
        assert!(!hooks.configured(Source::Slack));
        assert_eq!(format!("{:?}", hooks.token), "Some(Secret(…))");
    }

    #[test]
    fn notify_targets_are_checked() {
        let target = |name: &str, url: &str, events: Option<Vec<&str>>| RawNotify {
            name: name.into(),
            url: url.into(),
            format: None,
            secret: None,
            events: events.map(|e| e.into_iter().map(str::to_owned).collect()),
        };
        let hooks = Hooks::validate(
            RawHooks::default(),
            vec![target("chat", "https://hooks.slack.com/services/x", None)],
        )
        .unwrap();
        assert_eq!(hooks.notify[0].format, NotifyFormat::Json);
        assert_eq!(
            hooks.notify[0].events,
            [
                "started", "segment", "warning", "deadline", "overtime", "finished", "turn", "spin"
            ],
            "every event but resumed"
        );
        for (bad, says) in [
            (target("Chat", "http://x", None), "lowercase"),
            (target("chat", "ftp://x", None), "not an http(s) URL"),
            (target("chat", "http://x", Some(vec!["gong"])), "event"),
        ] {
            let error = Hooks::validate(RawHooks::default(), vec![bad])
                .unwrap_err()
                .to_string();
            assert!(error.contains(says), "{error}");
        }
        let twice = vec![target("a", "http://x", None), target("a", "http://y", None)];
        assert!(Hooks::validate(RawHooks::default(), twice).is_err());
    }
}
