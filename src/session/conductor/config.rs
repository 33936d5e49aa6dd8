//! How a conductor paces itself, and the fixed resolution of a live session.

use std::time::Duration;

/// Session frames per second: the resolution of a live session's timeline. It is the
/// session clock's, fixed, and has nothing to do with the output's sample rate.
pub const SESSION_RATE: u32 = 48_000;

/// How the conductor paces itself.
#[derive(Debug, Clone, Copy)]
pub struct ConductorConfig {
    /// How far ahead of the earliest instant the output can make it heard (now plus the
    /// output's latency) a stroke is sent to the engine: more than a tick and a late
    /// wake-up, so nothing arrives after its frame is rendered.
    pub lookahead: Duration,
    /// How often the conductor wakes to send strokes and read the engine's reports.
    pub tick: Duration,
    /// Identical cues inside this window of real time play once (a pager storm is one
    /// stroke).
    pub coalesce_window: Duration,
    /// The furthest ahead a cue may be scheduled, quantised ones included.
    pub max_cue_delay: Duration,
    /// Timed cues that may wait for their instant at once. Beyond this, new future cues
    /// are refused (429); "now" cues and session strokes always play, since waiting cues
    /// enter the engine's schedule only inside the look-ahead.
    pub max_pending_cues: usize,
    /// How far ahead of now a facilitator's command takes effect, at least: its strokes
    /// (a suwuk, the next segment's first beat) must reach the engine before their frame
    /// is rendered. It grows with the output's measured latency.
    pub steer_ahead: Duration,
    /// Events kept for subscribers that fall behind; past this a slow subscriber loses
    /// the oldest and is told how many (the event stream then sends a `resync`).
    pub event_buffer: usize,
}

impl Default for ConductorConfig {
    fn default() -> Self {
        ConductorConfig {
            lookahead: Duration::from_millis(300),
            tick: Duration::from_millis(10),
            coalesce_window: Duration::from_millis(150),
            max_cue_delay: Duration::from_secs(3600),
            max_pending_cues: 256,
            steer_ahead: Duration::from_millis(50),
            event_buffer: 1024,
        }
    }
}
