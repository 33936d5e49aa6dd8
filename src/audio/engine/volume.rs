//! [`Volume`]: the master level every sound goes out at — a level in dB and a mute — and the
//! value types that keep it in range.
//!
//! Mute is not a level: a muted engine keeps its level, so unmuting brings back what the
//! room heard before. Both are the control side's to decide; the renderer only ever sees
//! the linear gain, [`Volume::gain`].

use serde::Serialize;
use thiserror::Error;

/// A master level in dB relative to the pack's normalised loudness, within
/// [`VolumeDb::MIN`]..=[`VolumeDb::MAX`]. Parse it at the boundary (config, HTTP); the
/// engine trusts it.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct VolumeDb(f32);

/// A level out of range (or not a number).
#[derive(Debug, Error, PartialEq)]
#[error(
    "volume_db {0} is out of range: use {min} to {max} dB",
    min = VolumeDb::MIN.0,
    max = VolumeDb::MAX.0
)]
pub struct VolumeError(pub f32);

impl VolumeDb {
    /// The quietest level: −60 dB is as good as silent over a room's background noise,
    /// yet still a level (mute is separate).
    pub const MIN: VolumeDb = VolumeDb(-60.0);
    /// The loudest: +6 dB over the packs' normalised loudness. Louder would only drive
    /// the limiter harder (flattening the gong's swell), not be heard as louder.
    pub const MAX: VolumeDb = VolumeDb(6.0);
    /// The packs as normalised, unchanged.
    pub const UNITY: VolumeDb = VolumeDb(0.0);

    /// A level, if it is a number within range.
    ///
    /// # Errors
    /// [`VolumeError`] naming the value and the range.
    pub fn new(db: f32) -> Result<VolumeDb, VolumeError> {
        if (VolumeDb::MIN.0..=VolumeDb::MAX.0).contains(&db) {
            Ok(VolumeDb(db))
        } else {
            Err(VolumeError(db))
        }
    }

    /// The level in dB.
    #[must_use]
    pub fn db(self) -> f32 {
        self.0
    }

    /// The same as a linear gain: 1 at 0 dB.
    #[must_use]
    pub fn gain(self) -> f32 {
        10f32.powf(self.0 / 20.0)
    }
}

/// The master volume: a level and whether it is muted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Volume {
    /// The level, kept while muted.
    #[serde(rename = "volume_db")]
    pub level: VolumeDb,
    /// Muted: everything renders silent (sessions keep time; strokes still happen).
    pub muted: bool,
}

impl Default for Volume {
    fn default() -> Self {
        Volume {
            level: VolumeDb::UNITY,
            muted: false,
        }
    }
}

impl Volume {
    /// The linear gain the renderer applies: the level's, or 0 when muted.
    #[must_use]
    pub fn gain(self) -> f32 {
        if self.muted { 0.0 } else { self.level.gain() }
    }

    /// This volume with `change` applied: what it names changes, the rest stays.
    #[must_use]
    pub fn with(self, change: VolumeChange) -> Volume {
        Volume {
            level: change.level.unwrap_or(self.level),
            muted: change.muted.unwrap_or(self.muted),
        }
    }
}

/// A change to the volume: the level, the mute, both or (to read it) neither. Applied by
/// the one owner of the engine, so two changes at once cannot lose each other's half.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct VolumeChange {
    /// A new level.
    pub level: Option<VolumeDb>,
    /// Mute or unmute.
    pub muted: Option<bool>,
}

impl VolumeChange {
    /// Whether it changes nothing.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.level.is_none() && self.muted.is_none()
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn levels_outside_the_range_or_not_numbers_are_refused() {
        assert_eq!(VolumeDb::new(-60.0).unwrap().db(), -60.0);
        assert_eq!(VolumeDb::new(6.0).unwrap().db(), 6.0);
        for bad in [-60.1, 6.01, f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            assert!(VolumeDb::new(bad).is_err(), "{bad}");
        }
        assert_eq!(
            VolumeDb::new(7.0).unwrap_err().to_string(),
            "volume_db 7 is out of range: use -60 to 6 dB"
        );
    }

    #[test]
    fn mute_silences_without_forgetting_the_level() {
        let quiet = Volume::default().with(VolumeChange {
            level: Some(VolumeDb::new(-6.0).unwrap()),
            muted: None,
        });
        assert!((quiet.gain() - 0.501).abs() < 0.001, "{}", quiet.gain());
        let muted = quiet.with(VolumeChange {
            level: None,
            muted: Some(true),
        });
        assert_eq!(muted.gain(), 0.0);
        assert_eq!(muted.level.db(), -6.0);
        let back = muted.with(VolumeChange {
            level: None,
            muted: Some(false),
        });
        assert_eq!(back, quiet);
        assert_eq!(Volume::default().gain(), 1.0);
        assert_eq!(
            serde_json::to_value(muted).unwrap(),
            serde_json::json!({"volume_db": -6.0, "muted": true})
        );
    }
}
