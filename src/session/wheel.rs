//! The wheel a segment may carry (its `entries`): how a spin travels, as one pure function
//! of time that both the sound and the page follow, so the bonang run and the wheel on
//! screen slow down together and land, with the gong, on the entry the server picked.
//!
//! A spin of [`SPIN_LENGTH`] passes `steps` entries under the pointer with a constant
//! deceleration: after a fraction `x` of the spin it has travelled `steps·(1 − (1 − x)²)`
//! entries, so it starts fast and comes to rest exactly at the end. Each entry passing the
//! pointer is a bonang stroke (thinned where they would come closer than
//! [`MIN_STRIKE_GAP`]); the last one, on the picked entry, is struck with the gong.
//!
//! Also here: how a segment's [rotation](super::Segment::rotation) shares its time into
//! turns.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How long a spin lasts, from the first stroke of its run to the gong it lands with. Real
/// time, whatever the session's speed: a rehearsal at ×60 still shows the wheel turning.
pub const SPIN_LENGTH: Duration = Duration::from_secs(5);
/// The fewest entries a spin passes, so even a wheel of two turns a few times.
const MIN_STEPS: u32 = 16;
/// The closest two strokes of a spin's run come (a fast wheel passes entries quicker than
/// a bonang player strikes).
pub const MIN_STRIKE_GAP: Duration = Duration::from_millis(70);

/// How one spin travels: from the entry under the pointer to the picked one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpinPath {
    /// Entries on the wheel (at least 1).
    pub entries: u32,
    /// The entry under the pointer when the spin begins.
    pub from: u32,
    /// The entry it lands on.
    pub to: u32,
    /// How many entries pass the pointer (whole turns and then to `to`).
    pub steps: u32,
}

/// One stroke of a spin's run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpinStrike {
    /// When, as a fraction of [`SPIN_LENGTH`] (0 < x ≤ 1).
    pub at: f64,
    /// The entry that has just reached the pointer.
    pub entry: u32,
    /// Whether it is the last: the wheel stops here, on the picked entry.
    pub landing: bool,
}

impl SpinPath {
    /// A spin of a wheel of `entries` from `from` to `to` (both taken modulo `entries`).
    #[must_use]
    pub fn new(entries: usize, from: usize, to: usize) -> SpinPath {
        let entries = u32::try_from(entries.max(1)).unwrap_or(u32::MAX);
        let from = u32::try_from(from).unwrap_or(0) % entries;
        let to = u32::try_from(to).unwrap_or(0) % entries;
        let turns = MIN_STEPS.div_ceil(entries).max(1);
        let offset = (to + entries - from) % entries;
        SpinPath {
            entries,
            from,
            to,
            steps: turns.saturating_mul(entries).saturating_add(offset),
        }
    }

    /// How many entries have passed the pointer after fraction `x` of the spin
    /// (fractional: the wheel is between two).
    #[must_use]
    pub fn travelled(&self, x: f64) -> f64 {
        let x = x.clamp(0.0, 1.0);
        f64::from(self.steps) * (1.0 - (1.0 - x) * (1.0 - x))
    }

    /// The fraction of the spin at which the `k`-th entry reaches the pointer
    /// (`1 ≤ k ≤ steps`): the inverse of [`SpinPath::travelled`].
    #[must_use]
    pub fn step_at(&self, k: u32) -> f64 {
        let share = f64::from(k.min(self.steps)) / f64::from(self.steps.max(1));
        1.0 - (1.0 - share).sqrt()
    }

    /// The run's strokes, in order: an entry passing the pointer is struck unless it comes
    /// closer than `min_gap` (a fraction of the spin) after the last one struck; the
    /// landing is always struck.
    #[must_use]
    pub fn strikes(&self, min_gap: f64) -> Vec<SpinStrike> {
        let mut strikes: Vec<SpinStrike> = Vec::new();
        for k in 1..=self.steps {
            let at = self.step_at(k);
            let landing = k == self.steps;
            let spaced = strikes.last().is_none_or(|last| at - last.at >= min_gap);
            if !(spaced || landing) {
                continue;
            }
            if landing
                && let Some(last) = strikes.last()
                && at - last.at < min_gap
            {
                // Make room for the landing rather than crowd it.
                strikes.pop();
            }
            strikes.push(SpinStrike {
                at,
                entry: (self.from + k) % self.entries,
                landing,
            });
        }
        strikes
    }
}

/// Which turn of a rotation of `people` is current at `elapsed` frames into a run of
/// `length` frames: turns share the run's time equally, and the last turn holds on
/// through any overtime.
#[must_use]
pub fn turn_at(people: usize, elapsed: u64, length: u64) -> usize {
    if people == 0 || length == 0 {
        return 0;
    }
    let turn = u128::from(elapsed) * people as u128 / u128::from(length);
    usize::try_from(turn).unwrap_or(usize::MAX).min(people - 1)
}

/// Where turn `turn` of a rotation of `people` begins, in frames into a run of `length`:
/// the first frame [`turn_at`] places in it.
#[must_use]
pub fn turn_start(people: usize, turn: usize, length: u64) -> u64 {
    if people == 0 {
        return 0;
    }
    let start = (u128::from(length) * turn.min(people) as u128).div_ceil(people as u128);
    u64::try_from(start).unwrap_or(u64::MAX)
}

/// A random roll for a spin, for the edges that take a spin request (HTTP, chat,
/// links, the terminal): the core picks with it deterministically. From
/// the operating system; should it fail, the clock's nanoseconds are random enough for a
/// wheel.
#[must_use]
pub fn roll() -> u64 {
    getrandom::u64().unwrap_or_else(|_| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    })
}

#[cfg(test)]
mod test {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_spin_turns_at_least_sixteen_entries_and_lands_on_the_pick() {
        let path = SpinPath::new(5, 3, 1);
        // 4 whole turns (20 entries), then 3 → 4 → 0 → 1.
        assert_eq!(path.steps, 23);
        let strikes = path.strikes(0.0);
        assert_eq!(strikes.len(), 23);
        let last = strikes.last().unwrap();
        assert!(last.landing);
        assert_eq!(last.entry, 1);
        assert!((last.at - 1.0).abs() < 1e-12);
        assert_eq!(
            strikes[0].entry, 4,
            "the first entry to pass is the one after `from`"
        );
        assert_eq!(path.travelled(1.0), 23.0);
        assert_eq!(path.travelled(0.0), 0.0);
    }

    #[test]
    fn a_spin_slows_down() {
        let strikes = SpinPath::new(8, 0, 5).strikes(0.0);
        let gaps: Vec<f64> = strikes.windows(2).map(|w| w[1].at - w[0].at).collect();
        assert!(
            gaps.windows(2).all(|g| g[1] > g[0]),
            "every gap longer than the one before: {gaps:?}"
        );
    }

    #[test]
    fn a_crowded_run_is_thinned_but_still_lands() {
        let gap = MIN_STRIKE_GAP.as_secs_f64() / SPIN_LENGTH.as_secs_f64();
        let path = SpinPath::new(60, 10, 9);
        assert_eq!(path.steps, 119);
        let strikes = path.strikes(gap);
        assert!(strikes.len() < 119);
        assert!(strikes.windows(2).all(|w| w[1].at - w[0].at >= gap - 1e-12));
        let last = strikes.last().unwrap();
        assert!(last.landing && last.entry == 9);
    }

    #[test]
    fn turns_share_the_time_equally_and_the_last_holds() {
        let length = 600;
        assert_eq!(turn_at(3, 0, length), 0);
        assert_eq!(turn_at(3, 199, length), 0);
        assert_eq!(turn_at(3, 200, length), 1);
        assert_eq!(turn_at(3, 599, length), 2);
        assert_eq!(turn_at(3, 5_000, length), 2, "overtime is the last turn's");
        assert_eq!(turn_start(3, 2, length), 400);
        assert_eq!(turn_at(0, 10, length), 0);
    }

    proptest! {
        #[test]
        fn every_spin_lands_where_it_was_sent(entries in 1usize..80, from in 0usize..80, to in 0usize..80, gap in 0.0f64..0.05) {
            let path = SpinPath::new(entries, from, to);
            let strikes = path.strikes(gap);
            let last = strikes.last().unwrap();
            prop_assert!(last.landing);
            prop_assert_eq!(last.entry as usize, to % entries);
            prop_assert!(path.steps >= MIN_STEPS);
            prop_assert!((path.travelled(1.0) - f64::from(path.steps)).abs() < 1e-9);
            prop_assert!(strikes.windows(2).all(|w| w[0].at < w[1].at));
            // The wheel's position at each strike is the struck entry.
            for s in &strikes {
                let at = (f64::from(path.from) + path.travelled(s.at)).round() as u32 % path.entries;
                prop_assert_eq!(at, s.entry);
            }
        }

        #[test]
        fn a_turn_starts_where_turn_at_says(people in 1usize..20, length in 20u64..1_000_000, turn in 0usize..20) {
            let turn = turn % people;
            let start = turn_start(people, turn, length);
            prop_assert_eq!(turn_at(people, start, length), turn);
        }
    }
}
