//! Whether a PulseAudio stream still takes audio: a pure verdict from when the server last
//! asked for some, given the time.
//!
//! A playing stream is asked for audio every `minreq` (a quarter of the latency); a server
//! that stopped (SIGSTOP, a hung sink) or a connection that silently broke asks for
//! nothing. The patience is the sound card's ([`STALL`], [`STARTUP`]): a new stream, or
//! one that ran dry, may take its time to start, as a sink resuming from suspend does.

use std::time::Instant;

use crate::audio::output::{STALL, STARTUP};

/// Why a stream was given up on, for lack of requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Failure {
    /// It was asked for audio, then nothing for [`STALL`].
    Stalled,
    /// It was not asked for audio within [`STARTUP`] of opening (or of running dry).
    NeverStarted,
}

impl Failure {
    /// What happened, in words for the fault.
    pub(super) fn describe(self) -> &'static str {
        match self {
            Failure::Stalled => "PulseAudio stopped asking for audio",
            Failure::NeverStarted => {
                "PulseAudio asked for no audio after the stream was opened (or ran dry)"
            }
        }
    }
}

/// What the watchdog makes of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Opened or run dry, not asked for audio yet, still within its allowance.
    Starting,
    /// Asked for audio lately.
    Flowing,
    /// Give up on it.
    Failed(Failure),
}

/// Watches one stream's requests.
#[derive(Debug)]
pub(super) struct Watchdog {
    /// When the stream opened or last ran dry.
    phase_start: Instant,
    /// When the server last asked for audio (or the phase began).
    last_request: Instant,
    flowing: bool,
}

impl Watchdog {
    /// A stream opened at `now`.
    pub(super) fn new(now: Instant) -> Watchdog {
        Watchdog {
            phase_start: now,
            last_request: now,
            flowing: false,
        }
    }

    /// The server asked for audio at `now`.
    pub(super) fn requested(&mut self, now: Instant) {
        self.last_request = now;
        self.flowing = true;
    }

    /// The stream ran dry at `now` (the server's `Underflow`): it may pause again as a
    /// new stream does before the server asks for more.
    pub(super) fn ran_dry(&mut self, now: Instant) {
        self.phase_start = now;
        self.last_request = now;
        self.flowing = false;
    }

    /// The verdict at `now`.
    pub(super) fn verdict(&self, now: Instant) -> Verdict {
        let since = |then: Instant| now.saturating_duration_since(then);
        if self.flowing {
            if since(self.last_request) > STALL {
                Verdict::Failed(Failure::Stalled)
            } else {
                Verdict::Flowing
            }
        } else if since(self.phase_start) > STARTUP {
            Verdict::Failed(Failure::NeverStarted)
        } else {
            Verdict::Starting
        }
    }
}

#[cfg(test)]
mod test {
    use std::time::Duration;

    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_new_stream_has_its_startup_allowance() {
        let t0 = Instant::now();
        let watchdog = Watchdog::new(t0);
        assert_eq!(watchdog.verdict(t0 + ms(100)), Verdict::Starting);
        assert_eq!(watchdog.verdict(t0 + STARTUP), Verdict::Starting);
        assert_eq!(
            watchdog.verdict(t0 + STARTUP + ms(1)),
            Verdict::Failed(Failure::NeverStarted)
        );
    }

    #[test]
    fn a_flowing_stream_fails_only_after_a_long_silence() {
        let t0 = Instant::now();
        let mut watchdog = Watchdog::new(t0);
        watchdog.requested(t0 + ms(50));
        assert_eq!(watchdog.verdict(t0 + ms(60)), Verdict::Flowing);
        // Requests every 10 ms keep it flowing however long it plays.
        for n in 1..1000 {
            watchdog.requested(t0 + ms(50 + 10 * n));
        }
        let last = t0 + ms(50 + 10 * 999);
        assert_eq!(watchdog.verdict(last + STALL), Verdict::Flowing);
        assert_eq!(
            watchdog.verdict(last + STALL + ms(1)),
            Verdict::Failed(Failure::Stalled)
        );
    }

    #[test]
    fn running_dry_restarts_the_startup_allowance() {
        let t0 = Instant::now();
        let mut watchdog = Watchdog::new(t0);
        watchdog.requested(t0 + ms(50));
        watchdog.ran_dry(t0 + ms(400));
        // Longer than STALL without a request, but within STARTUP of running dry.
        assert_eq!(
            watchdog.verdict(t0 + ms(400) + STALL + ms(1)),
            Verdict::Starting
        );
        assert_eq!(
            watchdog.verdict(t0 + ms(400) + STARTUP + ms(1)),
            Verdict::Failed(Failure::NeverStarted)
        );
        watchdog.requested(t0 + ms(3000));
        assert_eq!(watchdog.verdict(t0 + ms(3001)), Verdict::Flowing);
    }
}
