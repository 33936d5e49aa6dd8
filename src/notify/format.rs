//! Notices to message bodies, for each [`NotifyFormat`]: pure functions, so each body is
//! tested byte for byte.
//!
//! - `slack`: a Slack incoming webhook, `{"text": …}`.
//! - `mattermost`: a Mattermost incoming webhook, `{"text": …, "username": "gongan"}`.
//! - `json`: gongan's own event, `{"event": …, "session": …, "plan": …, "at": …, …}`,
//!   signed by [`signature`] when the target has a secret.
//!
//! Plan names, segment titles and actors come from users: control characters (and the
//! invisible characters that reorder text) are removed everywhere, and in chat messages
//! the markup that would notify people is neutralised — Slack's `<!channel>`, `<@U123>`
//! and `<url|label>` by Slack's own escaping (`&amp;`, `&lt;`, `&gt;`), Mattermost's
//! `@channel` and `@name` by a zero-width space after the `@`.

use serde::Serialize;

use super::notice::{Notice, SegmentRef, What};
use crate::config::{NotifyFormat, Secret};
use crate::receivers::verify::hmac_sha256;

/// The header that carries the body's signature: `sha256=` and 64 lowercase hex digits.
pub const SIGNATURE_HEADER: &str = "X-Gongan-Signature";
/// The header that names the event (`started`, `segment`…).
pub const EVENT_HEADER: &str = "X-Gongan-Event";
/// The header that carries the delivery id, the same on every retry of a message.
pub const DELIVERY_HEADER: &str = "X-Gongan-Delivery";

/// A message ready to POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The event's name.
    pub event: &'static str,
    /// The exact body (JSON).
    pub body: String,
}

/// The message for `notice` in `format`.
#[must_use]
pub fn message(notice: &Notice, format: NotifyFormat) -> Message {
    #[derive(Serialize)]
    struct Chat<'a> {
        text: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        username: Option<&'a str>,
    }
    let body = match format {
        NotifyFormat::Slack => to_json(&Chat {
            text: text(notice, Markup::Slack),
            username: None,
        }),
        NotifyFormat::Mattermost => to_json(&Chat {
            text: text(notice, Markup::Mattermost),
            username: Some("gongan"),
        }),
        NotifyFormat::Json => json(notice),
    };
    Message {
        event: notice.what.event(),
        body,
    }
}

/// `sha256=` and the lowercase hex of HMAC-SHA256(`secret`, `body`): the value of
/// [`SIGNATURE_HEADER`]. A receiver computes the same over the raw body it received and
/// compares in constant time.
#[must_use]
pub fn signature(secret: &Secret, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.expose().as_bytes(), &[body]))
    )
}

/// Where a text is shown, and so which markup must be neutralised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markup {
    /// As is (the `text` of a JSON event).
    Plain,
    /// Slack's mrkdwn.
    Slack,
    /// Mattermost's Markdown.
    Mattermost,
}

/// The one-line text of `notice`, e.g. `Segment 2/5 "Investigate" — 20m`.
#[must_use]
pub fn text(notice: &Notice, markup: Markup) -> String {
    let user = |s: &str| neutralise(&plain(s), markup);
    let plan = user(&notice.plan);
    let title = |segment: &SegmentRef| user(&segment.title);
    match &notice.what {
        What::Started { by, .. } => format!("▶ \"{plan}\" started (by {})", user(by)),
        What::Segment { segment, seconds } => format!(
            "Segment {}/{} \"{}\" — {}",
            segment.number,
            segment.of,
            title(segment),
            span(*seconds)
        ),
        What::Warning {
            segment,
            left_seconds,
        } => format!("⚠ {} left in \"{}\"", left(*left_seconds), title(segment)),
        What::Deadline { segment } => format!("Deadline: \"{}\"", title(segment)),
        What::Overtime { segment } => format!("Overtime in \"{}\"", title(segment)),
        What::Turn {
            segment,
            person,
            next,
        } => {
            let then = next
                .as_deref()
                .map(|n| format!(", then {}", user(n)))
                .unwrap_or_default();
            format!("{}'s turn in \"{}\"{then}", user(person), title(segment))
        }
        What::Spin { segment, entry, by } => format!(
            "The wheel in \"{}\" landed on \"{}\" (spun by {})",
            title(segment),
            user(entry),
            user(by)
        ),
        What::Finished {
            elapsed_seconds,
            planned_seconds,
            stopped_by,
        } => {
            let ended = match stopped_by {
                Some(by) => format!("stopped by {}", user(by)),
                None => "finished".to_owned(),
            };
            let against = planned_seconds
                .map(|planned| format!(", {}", against_plan(*elapsed_seconds - planned)))
                .unwrap_or_default();
            format!("■ \"{plan}\" {ended} — {}{against}", span(*elapsed_seconds))
        }
        What::Resumed {
            by,
            down_seconds: Some(down),
        } => format!(
            "▶ \"{plan}\" resumed (by {}, after the server was down for {})",
            user(by),
            span(*down)
        ),
        What::Resumed {
            by,
            down_seconds: None,
        } => format!("▶ \"{plan}\" resumed (by {})", user(by)),
    }
}

/// gongan's JSON event: the common fields, then the event's own, then the text.
fn json(notice: &Notice) -> String {
    #[derive(Serialize)]
    struct Body<'a> {
        event: &'static str,
        session: String,
        plan: String,
        at: &'a str,
        #[serde(flatten)]
        details: Details,
        text: String,
    }
    #[derive(Serialize)]
    #[serde(untagged)]
    enum Details {
        Started {
            by: String,
            segments: usize,
            #[serde(skip_serializing_if = "Option::is_none")]
            planned_seconds: Option<f64>,
        },
        Segment {
            segment: usize,
            of: usize,
            title: String,
            #[serde(skip_serializing_if = "Option::is_none")]
            seconds: Option<f64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            left_seconds: Option<f64>,
        },
        Finished {
            elapsed_seconds: f64,
            #[serde(skip_serializing_if = "Option::is_none")]
            planned_seconds: Option<f64>,
            ending: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            stopped_by: Option<String>,
        },
        Resumed {
            by: String,
            #[serde(skip_serializing_if = "Option::is_none")]
            down_seconds: Option<f64>,
        },
        Turn {
            segment: usize,
            of: usize,
            title: String,
            person: String,
            next: Option<String>,
        },
        Spin {
            segment: usize,
            of: usize,
            title: String,
            entry: String,
            by: String,
        },
    }
    let segment =
        |s: &SegmentRef, seconds: Option<f64>, left_seconds: Option<f64>| Details::Segment {
            segment: s.number,
            of: s.of,
            title: plain(&s.title),
            seconds: seconds.map(millis),
            left_seconds: left_seconds.map(millis),
        };
    let details = match &notice.what {
        What::Started {
            by,
            segments,
            planned_seconds,
        } => Details::Started {
            by: plain(by),
            segments: *segments,
            planned_seconds: planned_seconds.map(millis),
        },
        What::Segment {
            segment: s,
            seconds,
        } => segment(s, Some(*seconds), None),
        What::Warning {
            segment: s,
            left_seconds,
        } => segment(s, None, Some(*left_seconds)),
        What::Deadline { segment: s } | What::Overtime { segment: s } => segment(s, None, None),
        What::Finished {
            elapsed_seconds,
            planned_seconds,
            stopped_by,
        } => Details::Finished {
            elapsed_seconds: millis(*elapsed_seconds),
            planned_seconds: planned_seconds.map(millis),
            ending: if stopped_by.is_some() {
                "stopped"
            } else {
                "completed"
            },
            stopped_by: stopped_by.as_deref().map(plain),
        },
        What::Turn {
            segment: s,
            person,
            next,
        } => Details::Turn {
            segment: s.number,
            of: s.of,
            title: plain(&s.title),
            person: plain(person),
            next: next.as_deref().map(plain),
        },
        What::Spin {
            segment: s,
            entry,
            by,
        } => Details::Spin {
            segment: s.number,
            of: s.of,
            title: plain(&s.title),
            entry: plain(entry),
            by: plain(by),
        },
        What::Resumed { by, down_seconds } => Details::Resumed {
            by: plain(by),
            down_seconds: down_seconds.map(millis),
        },
    };
    to_json(&Body {
        event: notice.what.event(),
        session: plain(&notice.session),
        plan: plain(&notice.plan),
        at: &notice.at,
        details,
        text: text(notice, Markup::Plain),
    })
}

fn to_json(value: &impl Serialize) -> String {
    // Strings, numbers and options only: serde_json cannot fail on them (a NaN becomes
    // `null`).
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned())
}

/// `seconds` rounded to milliseconds.
fn millis(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// `text` without control characters and without the invisible characters that reorder
/// text (bidirectional overrides and isolates).
#[must_use]
pub fn plain(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

/// `text` with the markup that `markup` would act on made inert.
fn neutralise(text: &str, markup: Markup) -> String {
    match markup {
        Markup::Plain => text.to_owned(),
        // Slack's own rule: these three are the control characters of its formatting.
        Markup::Slack => text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;"),
        Markup::Mattermost => {
            let mut out = String::with_capacity(text.len());
            let mut chars = text.chars().peekable();
            while let Some(c) = chars.next() {
                out.push(c);
                if c == '@' && chars.peek().is_some_and(|n| n.is_alphanumeric()) {
                    out.push('\u{200B}');
                }
            }
            out
        }
    }
}

/// A length of time: `45s`, `20m`, `2m30s`, `1h02m`.
#[must_use]
pub fn span(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, m, _) => format!("{h}h{m:02}m"),
    }
}

/// Time left, in words where it is round: `2 minutes`, `1 minute`, `30 seconds`, `2m30s`.
fn left(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match total {
        0..60 => plural(total, "second"),
        _ if total % 60 == 0 && total < 3600 => plural(total / 60, "minute"),
        _ => span(seconds),
    }
}

/// How a session's length compares with its plan: `on plan`, `2 min over plan`,
/// `5 min under plan` (to the nearest minute; the buka's seconds are not news).
fn against_plan(over_seconds: f64) -> String {
    let minutes = (over_seconds.abs() / 60.0).round() as u64;
    match minutes {
        0 => "on plan".to_owned(),
        m if over_seconds > 0.0 => format!("{m} min over plan"),
        m => format!("{m} min under plan"),
    }
}

#[cfg(test)]
mod test;
