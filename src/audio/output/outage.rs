//! What a live output does while it cannot play (a sound card lost, a pipe nobody reads):
//! how often it tries again, and which of its errors it logs.

use std::time::Duration;

/// The first pause before reopening a failed output; it doubles up to [`REOPEN_MAX`].
const REOPEN_FIRST: Duration = Duration::from_millis(250);

/// The longest pause between reopen attempts: a sound server that comes back is found
/// within a second, and an attempt against a missing one costs a few milliseconds.
const REOPEN_MAX: Duration = Duration::from_secs(1);

/// Distinct messages logged per episode; past this, new ones are not logged.
const MAX_DISTINCT_MESSAGES: usize = 32;

/// How long to wait before reopen attempt `attempt` (0 is the first): 250 ms, 500 ms,
/// then every second — quick after a hiccup, cheap during a long outage, and never more
/// than a second late for a sound server that came back.
pub(super) fn reopen_delay(attempt: u32) -> Duration {
    REOPEN_FIRST
        .saturating_mul(1 << attempt.min(16))
        .min(REOPEN_MAX)
}

/// The messages already logged in one episode — the life of a healthy stream, or one
/// outage with all its reopen attempts — so that each distinct error is logged once per
/// episode, however often the output repeats it (a dead device reports thousands a
/// second) and however many times reopening it fails the same way.
#[derive(Debug, Default)]
pub(super) struct Episode {
    seen: Vec<String>,
}

impl Episode {
    /// Whether `message` is new in this episode (and should be logged); remembers it.
    pub(super) fn first_time(&mut self, message: &str) -> bool {
        if self.seen.iter().any(|seen| seen == message) {
            return false;
        }
        if self.seen.len() >= MAX_DISTINCT_MESSAGES {
            return false;
        }
        self.seen.push(message.to_owned());
        true
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn reopening_backs_off_to_once_a_second() {
        let delays: Vec<_> = (0..6).map(reopen_delay).collect();
        assert_eq!(
            delays,
            [ms(250), ms(500), ms(1000), ms(1000), ms(1000), ms(1000)]
        );
        assert_eq!(reopen_delay(u32::MAX), REOPEN_MAX);
    }

    #[test]
    fn each_distinct_error_is_logged_once_per_episode() {
        let mut episode = Episode::default();
        let storm = ["EIO", "EIO", "refused", "EIO", "refused", "refused"];
        let logged: Vec<_> = storm.iter().filter(|m| episode.first_time(m)).collect();
        assert_eq!(logged, [&"EIO", &"refused"]);
        // The next outage logs them again, once.
        let mut next = Episode::default();
        assert!(next.first_time("refused"));
        assert!(!next.first_time("refused"));
        // A device that invents a new message each time cannot flood the log either.
        let mut wild = Episode::default();
        let new = (0..1000)
            .filter(|i| wild.first_time(&format!("error {i}")))
            .count();
        assert_eq!(new, MAX_DISTINCT_MESSAGES);
    }
}
