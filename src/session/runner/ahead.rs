//! What a session will play next, and on which of the pack's sounds: the voicing the
//! engine gets, and the same strokes ahead of time for a listener's browser, which plays
//! them itself at the same instants (issue 13's listener links).

use std::sync::Arc;

use serde::Serialize;

use super::Runner;
use crate::audio::{HostTime, Sound};
use crate::pack::Pack;
use crate::session::timeline::Stroke;

/// How a stroke sounds on a pack: the instrument that plays it, which of its sounds, and
/// at what gain.
pub(crate) struct Voicing<'p> {
    /// The pack's instrument: a role the pack remaps is played by its instrument,
    /// anything else by the instrument the timeline strikes.
    pub instrument: &'p str,
    /// Which of the instrument's sounds, from 1.
    pub variant: u32,
    /// That sound.
    pub sound: &'p Arc<Sound>,
    /// The instrument's gain times the stroke's own (a softer kempyang, an accent).
    pub gain: f32,
}

impl<'p> Voicing<'p> {
    /// How `stroke` sounds on `pack`.
    ///
    /// # Errors
    /// The name of the instrument the pack lacks (its strokes are silent).
    pub fn of(stroke: &'p Stroke, pack: &'p Pack) -> Result<Voicing<'p>, &'p str> {
        let name = stroke
            .roles()
            .iter()
            .find_map(|role| pack.role(*role))
            .unwrap_or(stroke.instrument.name());
        let instrument = pack.instrument(name).ok_or(name)?;
        // A pack with fewer pitches than the timeline uses wraps around them, so the
        // rising kenong still rises where it can and nothing goes silent.
        let count = instrument.variant_count().max(1) as u32;
        let variant = stroke
            .variant
            .map_or(1, |v| (u32::from(v).max(1) - 1) % count + 1);
        let sound = instrument.sound(Some(variant)).ok_or(name)?;
        Ok(Voicing {
            instrument: instrument.name(),
            variant,
            sound,
            gain: instrument.gain() * 10f32.powf(stroke.gain_db / 20.0),
        })
    }
}

/// A stroke still to come, as a listener's browser plays it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrokeAhead {
    /// The host instant it is heard at (the server's clock, as `GET /v1/time` gives it).
    pub at: HostTime,
    /// The pack's instrument that plays it.
    pub instrument: String,
    /// Which of its sounds, from 1.
    pub variant: u32,
    /// Linear gain.
    pub gain: f32,
}

impl Runner {
    /// The strokes heard from `from` until `until` (host instants), voiced on `pack`;
    /// none while paused, none after the end. Strokes of instruments the pack lacks are
    /// left out, as they are silent on the sound card too.
    #[must_use]
    pub fn ahead(&self, from: HostTime, until: HostTime, pack: &Pack) -> Vec<StrokeAhead> {
        let (from, until) = (self.session_frame(from), self.session_frame(until));
        self.timeline
            .strokes_between(from, until)
            .iter()
            .filter_map(|stroke| {
                let voicing = Voicing::of(stroke, pack).ok()?;
                Some(StrokeAhead {
                    at: self.clock.instant_of(stroke.frame),
                    instrument: voicing.instrument.to_owned(),
                    variant: voicing.variant,
                    gain: voicing.gain,
                })
            })
            .collect()
    }
}
