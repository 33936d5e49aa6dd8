//! What a cue's caller is told: where and when its stroke will be heard.

use serde::Serialize;

use crate::audio::Frame;
use crate::session::cues::CueId;

/// The answer to a cue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CueReceipt {
    /// The cue's id (for a coalesced cue: the id of the identical cue it joined).
    pub id: CueId,
    /// The engine frame it is scheduled for, as the output's clock stands now.
    pub frame: Frame,
    /// Seconds from now until it is heard (the output's latency included).
    pub in_seconds: f64,
    /// When it will be heard, UTC (RFC 3339).
    pub heard_at: String,
    /// True when an identical cue inside the coalescing window already covers it: this
    /// request adds no stroke.
    pub coalesced: bool,
}
