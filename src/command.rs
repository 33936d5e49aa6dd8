//! [`Command`]: the one grammar (PRODUCT.md §7) that chat commands, links and mapping rules
//! speak — `gong`, `kenong 3`, `next`, `previous`, `pause`, `resume`, `stop`, `+2m` /
//! `extend 2m`, `start wheel-of-misfortune`, `status`, `help` — and [`Permission`], what a
//! link may do.
//!
//! Pure: parsing and printing only. Carrying a command out is the HTTP layer's
//! (`http::act`), so a Slack message, a stream deck's button and an alert all go the same
//! way.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use thiserror::Error;

use crate::session::{PlanId, SegmentDuration, SteerCommand};

/// The longest extension one command may ask for.
pub const MAX_EXTEND: Duration = Duration::from_secs(24 * 3600);
/// The longest instrument name taken (as `POST /v1/cues`).
const MAX_INSTRUMENT: usize = 64;
/// The most words a command has.
const MAX_TEXT: usize = 200;

/// One thing to do, from chat, a link or a mapping rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Strike an instrument now: `gong`, `kenong 3`.
    Cue {
        /// The instrument's name (any the active pack has).
        instrument: String,
        /// Its pitched variant, from 1.
        variant: Option<u32>,
    },
    /// Steer the running session: `next`, `pause`, `+2m`…
    Steer(SteerCommand),
    /// Start a session of a plan (a template or a saved plan).
    Start(PlanId),
    /// Spin the current segment's wheel (the server picks where it lands).
    Spin,
    /// Say how the session stands.
    Status,
    /// Say what can be done.
    Help,
}

/// Why a text is not a command. Displays as one line for the person who typed it.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum CommandError {
    /// Too long, or with control characters.
    #[error("that is not a command: try `help`")]
    Garbled,
    /// `start` without a plan, or with a name that cannot be a plan's.
    #[error("start needs a plan's id, like `start wheel-of-misfortune`")]
    Plan,
    /// `jump` without a segment number from 1.
    #[error("jump needs a segment's number from 1, like `jump 3`")]
    Segment,
    /// `extend` / `+` with a length that cannot be read or is out of range.
    #[error(
        "{0:?} is not a length of time to add: write it like `+2m`, `+30s` or `extend 1m30s` (at most 24h)"
    )]
    Length(String),
    /// An instrument's variant that is not a number from 1.
    #[error("{0:?} is not a variant: use a number from 1, like `kenong 3`")]
    Variant(String),
    /// Words after a command that takes none.
    #[error("`{command}` takes nothing after it (got {extra:?})")]
    Extra {
        /// The command.
        command: String,
        /// What followed it.
        extra: String,
    },
}

/// The words that are not instruments.
const KEYWORDS: [&str; 15] = [
    "next", "previous", "pause", "resume", "stop", "extend", "start", "status", "help", "cue",
    "shorten", "left", "jump", "goto", "spin",
];

impl Command {
    /// Reads a command as a person types it (case-insensitive, spaces trimmed). An empty
    /// text strikes the gong: `/gong` on its own does what it says.
    ///
    /// # Errors
    /// [`CommandError`] saying what to write instead.
    pub fn parse(text: &str) -> Result<Command, CommandError> {
        if text.len() > MAX_TEXT || text.chars().any(char::is_control) {
            return Err(CommandError::Garbled);
        }
        let text = text.trim().to_lowercase();
        let mut words = text.split_whitespace();
        let Some(first) = words.next() else {
            return Ok(Command::gong());
        };
        let rest: Vec<&str> = words.collect();
        let none_after = |command: Command| {
            if rest.is_empty() {
                Ok(command)
            } else {
                Err(CommandError::Extra {
                    command: first.to_owned(),
                    extra: rest.join(" "),
                })
            }
        };
        if let Some(length) = first.strip_prefix('+') {
            // `+2m`, and `+ 2m` as people type it too.
            let mut length = length.to_owned();
            length.extend(rest.iter().copied());
            return parse_length(&length).map(|l| Command::Steer(SteerCommand::Extend(l)));
        }
        if let Some(length) = first.strip_prefix('-') {
            // `-1m`: a minute less.
            let mut length = length.to_owned();
            length.extend(rest.iter().copied());
            return parse_length(&length).map(|l| Command::Steer(SteerCommand::Shorten(l)));
        }
        match first {
            "next" => none_after(Command::Steer(SteerCommand::Next)),
            "previous" | "prev" | "back" => none_after(Command::Steer(SteerCommand::Previous)),
            "pause" => none_after(Command::Steer(SteerCommand::Pause)),
            "resume" | "continue" => none_after(Command::Steer(SteerCommand::Resume)),
            "stop" | "end" => none_after(Command::Steer(SteerCommand::Stop)),
            "status" => none_after(Command::Status),
            "help" | "?" => Ok(Command::Help),
            "extend" => {
                parse_length(&rest.concat()).map(|l| Command::Steer(SteerCommand::Extend(l)))
            }
            "shorten" => {
                parse_length(&rest.concat()).map(|l| Command::Steer(SteerCommand::Shorten(l)))
            }
            "left" => parse_time_left(&rest.concat()),
            "jump" | "goto" => match rest.as_slice() {
                [number] => number
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .map(|segment| Command::Steer(SteerCommand::Jump(segment)))
                    .ok_or(CommandError::Segment),
                _ => Err(CommandError::Segment),
            },
            "spin" => none_after(Command::Spin),
            "start" => match rest.as_slice() {
                [plan] => PlanId::parse(plan)
                    .map(Command::Start)
                    .map_err(|_| CommandError::Plan),
                _ => Err(CommandError::Plan),
            },
            "cue" => match rest.split_first() {
                Some((instrument, variant)) => cue(instrument, variant),
                None => Ok(Command::gong()),
            },
            instrument => cue(instrument, &rest),
        }
    }

    /// The gong, struck now.
    #[must_use]
    pub fn gong() -> Command {
        Command::Cue {
            instrument: "gong".into(),
            variant: None,
        }
    }

    /// The permission a link needs to carry this command out.
    #[must_use]
    pub fn permission(&self) -> Permission {
        match self {
            Command::Cue { instrument, .. } => Permission::Cue(Some(instrument.clone())),
            Command::Steer(SteerCommand::Next) => Permission::Next,
            Command::Steer(SteerCommand::Previous) => Permission::Previous,
            Command::Steer(SteerCommand::Pause) => Permission::Pause,
            Command::Steer(SteerCommand::Resume) => Permission::Resume,
            Command::Steer(SteerCommand::Stop) => Permission::Stop,
            Command::Steer(SteerCommand::Extend(_)) => Permission::Extend,
            Command::Steer(SteerCommand::Shorten(_) | SteerCommand::SetLeft(_)) => Permission::Time,
            Command::Steer(SteerCommand::Jump(_)) => Permission::Jump,
            Command::Steer(SteerCommand::Spin(_)) | Command::Spin => Permission::Spin,
            Command::Start(_) => Permission::Start,
            Command::Status | Command::Help => Permission::Status,
        }
    }

    /// Whether carrying it out changes anything (so it is journaled with its actor).
    #[must_use]
    pub fn changes_state(&self) -> bool {
        !matches!(self, Command::Status | Command::Help)
    }
}

fn cue(instrument: &str, rest: &[&str]) -> Result<Command, CommandError> {
    if instrument.is_empty()
        || instrument.len() > MAX_INSTRUMENT
        || !instrument
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(CommandError::Garbled);
    }
    let variant = match rest {
        [] => None,
        [variant] => Some(
            variant
                .parse::<u32>()
                .ok()
                .filter(|v| *v >= 1)
                .ok_or_else(|| CommandError::Variant((*variant).to_owned()))?,
        ),
        more => {
            return Err(CommandError::Extra {
                command: instrument.to_owned(),
                extra: more.join(" "),
            });
        }
    };
    Ok(Command::Cue {
        instrument: instrument.to_owned(),
        variant,
    })
}

/// `2m`, `1m30s`, `90s`; a bare number is minutes (`+2` in chat means two minutes). More
/// than zero, at most [`MAX_EXTEND`].
fn parse_length(text: &str) -> Result<Duration, CommandError> {
    let length = read_length(text)?;
    if length.is_zero() {
        return Err(CommandError::Length(text.to_owned()));
    }
    Ok(length)
}

/// `left 5m`: the time left, zero (end the segment now) to [`MAX_EXTEND`].
fn parse_time_left(text: &str) -> Result<Command, CommandError> {
    read_length(text).map(|left| Command::Steer(SteerCommand::SetLeft(left)))
}

fn read_length(text: &str) -> Result<Duration, CommandError> {
    let wrong = || CommandError::Length(text.to_owned());
    let length = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let minutes: u64 = text.parse().map_err(|_| wrong())?;
        Duration::from_secs(minutes.checked_mul(60).ok_or_else(wrong)?)
    } else {
        text.parse::<SegmentDuration>().map_err(|_| wrong())?.get()
    };
    if length > MAX_EXTEND {
        return Err(wrong());
    }
    Ok(length)
}

impl fmt::Display for Command {
    /// The canonical text, which [`Command::parse`] reads back as the same command.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Cue {
                instrument,
                variant: None,
            } => f.write_str(instrument),
            Command::Cue {
                instrument,
                variant: Some(v),
            } => write!(f, "{instrument} {v}"),
            Command::Steer(SteerCommand::Extend(length)) => {
                write!(f, "extend {}", SegmentDuration::new(*length))
            }
            Command::Steer(SteerCommand::Shorten(length)) => {
                write!(f, "shorten {}", SegmentDuration::new(*length))
            }
            Command::Steer(SteerCommand::SetLeft(left)) => {
                write!(f, "left {}", SegmentDuration::new(*left))
            }
            Command::Steer(SteerCommand::Jump(segment)) => write!(f, "jump {}", segment + 1),
            Command::Steer(SteerCommand::Spin(_)) | Command::Spin => f.write_str("spin"),
            Command::Steer(steer) => f.write_str(steer.name()),
            Command::Start(plan) => write!(f, "start {plan}"),
            Command::Status => f.write_str("status"),
            Command::Help => f.write_str("help"),
        }
    }
}

impl FromStr for Command {
    type Err = CommandError;
    fn from_str(text: &str) -> Result<Command, CommandError> {
        Command::parse(text)
    }
}

/// What the grammar offers, for `help` in chat.
pub const HELP: &str = "\
`gong` or `kenong 3`: strike an instrument now
`next` · `previous` · `pause` · `resume` · `stop`: steer the session
`+2m` or `extend 2m`: give the current segment more time; `-1m`: a minute less
`left 5m`: set the current segment's time left · `jump 3`: go to segment 3
`spin`: spin the segment's wheel
`start wheel-of-misfortune`: start a session of a plan
`status`: where the session is
`help`: this";

/// What a link may do: one word each, `next,pause,resume,cue:gong`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Strike this instrument (`cue:gong`), or any (`cue`).
    Cue(Option<String>),
    /// `next`.
    Next,
    /// `previous`.
    Previous,
    /// `pause`.
    Pause,
    /// `resume`.
    Resume,
    /// `stop`.
    Stop,
    /// `extend`.
    Extend,
    /// `shorten` and `left`: take time off, set the time left.
    Time,
    /// `jump` to any segment.
    Jump,
    /// `spin` the wheel.
    Spin,
    /// `start` a session of any plan.
    Start,
    /// `status` (and `help`).
    Status,
    /// Watch and hear the session (a listener link: `/listen/SECRET`).
    Listen,
    /// See the segments' notes too, on a listener link (they are the facilitator's,
    /// hidden from listeners unless shared).
    Notes,
}

/// Not a permission.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error(
    "{0:?} is not something a link may do: use next, previous, pause, resume, stop, extend, \
     time, jump, spin, start, status, listen, notes, cue (any instrument) or cue:INSTRUMENT"
)]
pub struct PermissionError(pub String);

impl Permission {
    /// Reads one permission.
    ///
    /// # Errors
    /// [`PermissionError`] naming it.
    pub fn parse(text: &str) -> Result<Permission, PermissionError> {
        let text = text.trim().to_lowercase();
        let wrong = || PermissionError(text.clone());
        Ok(match text.as_str() {
            "cue" => Permission::Cue(None),
            "next" => Permission::Next,
            "previous" => Permission::Previous,
            "pause" => Permission::Pause,
            "resume" => Permission::Resume,
            "stop" => Permission::Stop,
            "extend" => Permission::Extend,
            "time" => Permission::Time,
            "jump" => Permission::Jump,
            "spin" => Permission::Spin,
            "start" => Permission::Start,
            "status" => Permission::Status,
            "listen" => Permission::Listen,
            "notes" => Permission::Notes,
            other => match other.strip_prefix("cue:") {
                Some(instrument) => match cue(instrument, &[]) {
                    Ok(_) if !KEYWORDS.contains(&instrument) => {
                        Permission::Cue(Some(instrument.to_owned()))
                    }
                    _ => return Err(wrong()),
                },
                None => return Err(wrong()),
            },
        })
    }

    /// Reads a comma-separated list, `next,pause,cue:gong`, without repeats, in order.
    ///
    /// # Errors
    /// The first entry that is not a permission, or an empty list.
    pub fn parse_list(text: &str) -> Result<Vec<Permission>, PermissionError> {
        let mut list = Vec::new();
        for part in text.split(',').filter(|p| !p.trim().is_empty()) {
            let permission = Permission::parse(part)?;
            if !list.contains(&permission) {
                list.push(permission);
            }
        }
        if list.is_empty() {
            return Err(PermissionError(text.to_owned()));
        }
        list.sort();
        Ok(list)
    }

    /// Whether holding `self` allows `needed`: `cue` allows every `cue:X`.
    #[must_use]
    pub fn allows(&self, needed: &Permission) -> bool {
        match (self, needed) {
            (Permission::Cue(None), Permission::Cue(_)) => true,
            (held, needed) => held == needed,
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Permission::Cue(None) => f.write_str("cue"),
            Permission::Cue(Some(instrument)) => write!(f, "cue:{instrument}"),
            Permission::Next => f.write_str("next"),
            Permission::Previous => f.write_str("previous"),
            Permission::Pause => f.write_str("pause"),
            Permission::Resume => f.write_str("resume"),
            Permission::Stop => f.write_str("stop"),
            Permission::Extend => f.write_str("extend"),
            Permission::Time => f.write_str("time"),
            Permission::Jump => f.write_str("jump"),
            Permission::Spin => f.write_str("spin"),
            Permission::Start => f.write_str("start"),
            Permission::Status => f.write_str("status"),
            Permission::Listen => f.write_str("listen"),
            Permission::Notes => f.write_str("notes"),
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn steer(command: SteerCommand) -> Command {
        Command::Steer(command)
    }

    #[test]
    fn the_grammar_of_product_section_7() {
        let cases = [
            ("gong", Command::gong()),
            ("", Command::gong()),
            ("  GONG ", Command::gong()),
            (
                "kenong 3",
                Command::Cue {
                    instrument: "kenong".into(),
                    variant: Some(3),
                },
            ),
            (
                "cue airhorn",
                Command::Cue {
                    instrument: "airhorn".into(),
                    variant: None,
                },
            ),
            ("next", steer(SteerCommand::Next)),
            ("previous", steer(SteerCommand::Previous)),
            ("pause", steer(SteerCommand::Pause)),
            ("resume", steer(SteerCommand::Resume)),
            ("stop", steer(SteerCommand::Stop)),
            ("+2m", steer(SteerCommand::Extend(Duration::from_secs(120)))),
            (
                "+ 30s",
                steer(SteerCommand::Extend(Duration::from_secs(30))),
            ),
            ("+2", steer(SteerCommand::Extend(Duration::from_secs(120)))),
            (
                "extend 1m30s",
                steer(SteerCommand::Extend(Duration::from_secs(90))),
            ),
            (
                "start wheel-of-misfortune",
                Command::Start(PlanId::parse("wheel-of-misfortune").unwrap()),
            ),
            ("status", Command::Status),
            ("help", Command::Help),
        ];
        for (text, expected) in cases {
            assert_eq!(Command::parse(text), Ok(expected), "{text:?}");
        }
    }

    #[test]
    fn what_is_not_a_command_says_what_to_write() {
        for (text, expected) in [
            ("+0m", CommandError::Length("0m".into())),
            ("+25h", CommandError::Length("25h".into())),
            ("extend soon", CommandError::Length("soon".into())),
            ("extend", CommandError::Length(String::new())),
            ("kenong 0", CommandError::Variant("0".into())),
            ("kenong three", CommandError::Variant("three".into())),
            ("start", CommandError::Plan),
            ("start Bad/Plan", CommandError::Plan),
            (
                "next please",
                CommandError::Extra {
                    command: "next".into(),
                    extra: "please".into(),
                },
            ),
            ("gong\u{1b}[2J", CommandError::Garbled),
            ("../etc", CommandError::Garbled),
        ] {
            assert_eq!(Command::parse(text), Err(expected), "{text:?}");
        }
        assert!(Command::parse(&"x".repeat(500)).is_err());
    }

    #[test]
    fn a_command_prints_as_text_that_reads_back_the_same() {
        for text in [
            "gong",
            "kenong 3",
            "next",
            "previous",
            "pause",
            "resume",
            "stop",
            "extend 2m",
            "extend 1h30s",
            "start game-day",
            "status",
            "help",
        ] {
            let command = Command::parse(text).unwrap();
            assert_eq!(command.to_string(), text);
            assert_eq!(Command::parse(&command.to_string()), Ok(command));
        }
    }

    #[test]
    fn time_jumps_and_the_wheel_have_their_words() {
        let steer = |text: &str| Command::parse(text).unwrap();
        assert_eq!(
            steer("-1m"),
            Command::Steer(SteerCommand::Shorten(Duration::from_secs(60)))
        );
        assert_eq!(
            steer("- 2"),
            Command::Steer(SteerCommand::Shorten(Duration::from_secs(120)))
        );
        assert_eq!(
            steer("shorten 30s"),
            Command::Steer(SteerCommand::Shorten(Duration::from_secs(30)))
        );
        assert_eq!(
            steer("left 5m"),
            Command::Steer(SteerCommand::SetLeft(Duration::from_secs(300)))
        );
        assert_eq!(
            steer("left 0s"),
            Command::Steer(SteerCommand::SetLeft(Duration::ZERO))
        );
        assert_eq!(steer("jump 3"), Command::Steer(SteerCommand::Jump(2)));
        assert_eq!(steer("goto 1"), Command::Steer(SteerCommand::Jump(0)));
        assert_eq!(steer("Spin"), Command::Spin);
        for (bad, error) in [
            ("jump 0", CommandError::Segment),
            ("jump", CommandError::Segment),
            ("jump two", CommandError::Segment),
            ("-0m", CommandError::Length("0m".into())),
            ("left 25h", CommandError::Length("25h".into())),
        ] {
            assert_eq!(Command::parse(bad), Err(error), "{bad}");
        }
        assert!(matches!(
            Command::parse("spin now"),
            Err(CommandError::Extra { .. })
        ));
        for text in ["shorten 1m", "left 5m", "jump 3", "spin"] {
            assert_eq!(steer(text).to_string(), text);
        }
        assert_eq!(steer("-1m").permission(), Permission::Time);
        assert_eq!(steer("jump 2").permission(), Permission::Jump);
        assert_eq!(steer("spin").permission(), Permission::Spin);
    }

    #[test]
    fn permissions_read_as_a_list_and_cue_allows_every_instrument() {
        let list = Permission::parse_list("next, pause,cue:gong,next").unwrap();
        assert_eq!(
            list,
            [
                Permission::Cue(Some("gong".into())),
                Permission::Next,
                Permission::Pause
            ]
        );
        let gong = Command::gong().permission();
        let kenong = Command::parse("kenong 2").unwrap().permission();
        assert!(list.iter().any(|p| p.allows(&gong)));
        assert!(!list.iter().any(|p| p.allows(&kenong)));
        assert!(Permission::Cue(None).allows(&kenong));
        assert!(!Permission::Next.allows(&Permission::Pause));
        for bad in ["", "leap", "cue:", "cue:next", "cue:spin", "cue:../x", ","] {
            assert!(Permission::parse_list(bad).is_err(), "{bad:?}");
        }
        for permission in &list {
            assert_eq!(
                Permission::parse(&permission.to_string()).as_ref(),
                Ok(permission)
            );
        }
    }
}
