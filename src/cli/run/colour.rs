//! Colour on the terminal view: whether to use any, and which one tells how the current
//! segment stands. Colour only repeats what the words already say (`PAUSED`, `+1:05 over`),
//! so a view without it loses nothing.

use std::ffi::OsStr;

use crossterm::style::Color;
use gongan::session::State;

/// Whether the view may colour its text: only on a terminal, unless the user asked for
/// none (`NO_COLOR` set and not empty, <https://no-color.org>) or the terminal says it
/// cannot show any (`TERM=dumb`).
#[must_use]
pub fn use_colour(is_tty: bool, no_color: Option<&OsStr>, term: Option<&str>) -> bool {
    is_tty && no_color.is_none_or(OsStr::is_empty) && term != Some("dumb")
}

/// How the current segment stands, as its clock's colour shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Text that is not about the time, the opening phrase, the end: no colour.
    Plain,
    /// Running with time to spare.
    OnTime,
    /// Running, and a warning has sounded or the last minute has begun.
    Closing,
    /// Past the deadline, holding until the facilitator moves on.
    Over,
    /// Paused.
    Paused,
}

/// Plan seconds left from which a segment is closing even when its plan has no warnings.
const LAST_MINUTE: f64 = 60.0;

impl Tone {
    /// The tone of a segment in `state` with `left` plan seconds to go, `warned` the
    /// longest lead (plan seconds) of the warnings it has sounded. Seconds are compared as
    /// the clock shows them, rounded: the clock turns when it reads `1:00`.
    #[must_use]
    pub fn of(state: State, left: f64, warned: Option<f64>) -> Tone {
        let lead = warned.unwrap_or(0.0).max(LAST_MINUTE);
        match state {
            State::Buka | State::Finished => Tone::Plain,
            State::Paused => Tone::Paused,
            State::Overtime => Tone::Over,
            State::Running if left.round() <= lead => Tone::Closing,
            State::Running => Tone::OnTime,
        }
    }

    /// The foreground colour of the tone; the 16-colour palette's, which light and dark
    /// themes both keep readable.
    #[must_use]
    pub fn colour(self) -> Option<Color> {
        match self {
            Tone::Plain => None,
            Tone::OnTime => Some(Color::DarkGreen),
            Tone::Closing => Some(Color::DarkYellow),
            Tone::Over => Some(Color::Red),
            Tone::Paused => Some(Color::Blue),
        }
    }
}

#[cfg(test)]
mod test;
