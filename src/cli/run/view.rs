//! What `gongan run` shows, as pure functions of the session's numbers: times in plan time
//! (a rehearsal at ×60 shows the plan's own minutes, and `+` adds one of them), overtime
//! counted up, an elapsed time that stands still while paused, notes wrapped at word
//! boundaries, and `q` that asks before it ends a session.

use super::Key;
use crate::cli::render::clock;

/// The time left of a segment, or how far past its deadline a waiting segment is, in plan
/// time: `12:34 left`, `+1:05 over`.
pub fn time_left(
    overtime: bool,
    remaining_seconds: f64,
    overtime_seconds: f64,
    speed: f64,
) -> String {
    let word = if overtime { "over" } else { "left" };
    format!(
        "{} {word}",
        countdown(overtime, remaining_seconds, overtime_seconds, speed)
    )
}

/// [`time_left`] without its word, as the large clock shows it: `12:34`, `+1:05`.
pub fn countdown(
    overtime: bool,
    remaining_seconds: f64,
    overtime_seconds: f64,
    speed: f64,
) -> String {
    if overtime {
        format!("+{}", clock(overtime_seconds * speed))
    } else {
        clock(remaining_seconds * speed)
    }
}

/// The session's elapsed plan time, pauses left out: the snapshot's elapsed time runs on
/// through a pause (it is real time since the start), the facilitator's clock does not.
#[derive(Debug, Default)]
pub struct Elapsed {
    /// The snapshot's elapsed seconds when the current pause began.
    paused_at: Option<f64>,
    /// Seconds spent in earlier pauses.
    paused: f64,
}

impl Elapsed {
    /// The elapsed plan seconds to show for a snapshot taken `elapsed_seconds` into the
    /// session, `paused` or not.
    pub fn shown(&mut self, paused: bool, elapsed_seconds: f64, speed: f64) -> f64 {
        if paused {
            self.paused_at.get_or_insert(elapsed_seconds);
        } else if let Some(began) = self.paused_at.take() {
            self.paused += (elapsed_seconds - began).max(0.0);
        }
        let running = self.paused_at.unwrap_or(elapsed_seconds) - self.paused;
        running.max(0.0) * speed
    }
}

/// `text` in lines of at most `width` characters, broken between words (a word longer
/// than a line is cut); the text's own line breaks are kept.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let mut word: Vec<char> = word.chars().collect();
            while word.len() > width {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                lines.push(word.drain(..width).collect());
            }
            let word: String = word.into_iter().collect();
            let len = line.chars().count();
            if len > 0 && len + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&word);
        }
        lines.push(line);
    }
    lines
}

/// What a key press does once the stop confirmation is taken into account.
#[derive(Debug, PartialEq)]
pub enum Press {
    /// Act on the key.
    Act(Key),
    /// `q` once: ask before stopping.
    AskToStop,
    /// `q` again: stop.
    Stop,
}

/// The question `q` asks.
pub const STOP_QUESTION: &str = "stop the session? press q again to stop, any other key to go on";

/// `q` stops a session only when pressed twice in a row: one stray key must not end a
/// drill for the whole room. Any other key answers "no" and does what it does.
#[derive(Debug, Default)]
pub struct StopGuard {
    asked: bool,
}

impl StopGuard {
    /// Whether `q` was pressed once and the question is waiting for its answer.
    pub fn asking(&self) -> bool {
        self.asked
    }

    pub fn press(&mut self, key: Key) -> Press {
        let asked = std::mem::take(&mut self.asked);
        match key {
            Key::Quit if asked => Press::Stop,
            Key::Quit => {
                self.asked = true;
                Press::AskToStop
            }
            other => Press::Act(other),
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn overtime_counts_up_and_times_are_plan_time() {
        assert_eq!(time_left(false, 5.0, 0.0, 60.0), "5:00 left");
        assert_eq!(time_left(true, 0.0, 65.0, 1.0), "+1:05 over");
        assert_eq!(time_left(true, 0.0, 1.0, 60.0), "+1:00 over");
        assert_eq!(countdown(false, 5.0, 0.0, 60.0), "5:00");
        assert_eq!(countdown(true, 0.0, 65.0, 1.0), "+1:05");
    }

    #[test]
    fn elapsed_stands_still_while_paused() {
        let mut elapsed = Elapsed::default();
        assert_eq!(elapsed.shown(false, 10.0, 1.0), 10.0);
        assert_eq!(elapsed.shown(true, 12.0, 1.0), 12.0);
        assert_eq!(elapsed.shown(true, 30.0, 1.0), 12.0);
        // Resumed after 20 s of pause: the clock goes on from 12.
        assert_eq!(elapsed.shown(false, 32.0, 1.0), 12.0);
        assert_eq!(elapsed.shown(false, 35.0, 1.0), 15.0);
        // At ×60 the plan's minutes.
        let mut fast = Elapsed::default();
        assert_eq!(fast.shown(false, 2.0, 60.0), 120.0);
    }

    #[test]
    fn notes_wrap_between_words() {
        assert_eq!(
            wrap("Ask who is on call. Then page them, twice.", 16),
            ["Ask who is on", "call. Then page", "them, twice."]
        );
        assert_eq!(wrap("one\ntwo", 40), ["one", "two"]);
        assert_eq!(
            wrap("https://runbooks.example.org/x", 10),
            ["https://ru", "nbooks.exa", "mple.org/x"]
        );
        for line in wrap(&"word ".repeat(100), 23) {
            assert!(line.chars().count() <= 23, "{line}");
        }
    }

    #[test]
    fn q_stops_only_when_pressed_twice_in_a_row() {
        let mut guard = StopGuard::default();
        assert_eq!(guard.press(Key::Quit), Press::AskToStop);
        assert_eq!(guard.press(Key::Next), Press::Act(Key::Next));
        assert_eq!(guard.press(Key::Quit), Press::AskToStop);
        assert_eq!(guard.press(Key::Quit), Press::Stop);
        assert_eq!(guard.press(Key::Quit), Press::AskToStop);
    }
}
