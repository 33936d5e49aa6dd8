//! Cues: one stroke struck now, at an instant, or on the running form's next beat or gong.
//!
//! The [`CueBook`] is the conductor's record of cues it has accepted and not yet heard. It
//! is bounded: a cue far ahead waits here, not in the engine, and only enters the engine's
//! schedule once it is inside the look-ahead, so no number of future cues can crowd out a
//! "now" cue or a session stroke. Identical cues inside a short window of *real* time are
//! one stroke (the [`Coalescer`]): a pager storm rings once, and a sound card that stalls
//! cannot make distinct cues look identical.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::audio::{Frame, HostTime, Sound, VoiceId};
use crate::session::record::Actor;

/// When a cue should sound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CueTime {
    /// As soon as possible: the next block the output renders.
    Now,
    /// When the engine's frame `Frame` is heard (for clients that analyse audio).
    AtFrame(Frame),
    /// This long from now.
    After(Duration),
    /// On the next beat of the running session's form.
    NextBeat,
    /// On the next gong of the running session's form.
    NextGong,
}

/// A request to strike an instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    /// The pack's instrument.
    pub instrument: String,
    /// Its variant (from 1), for pitched instruments.
    pub variant: Option<u32>,
    /// Level relative to the pack's, in dB.
    pub gain_db: f32,
    /// When.
    pub at: CueTime,
}

/// Identifies a cue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CueId(pub u64);

/// What makes two cues the same stroke.
#[derive(Debug, Clone, PartialEq)]
pub struct CueKey {
    /// The instrument.
    pub instrument: String,
    /// Its variant.
    pub variant: Option<u32>,
    /// Its level.
    pub gain_db: f32,
}

/// Identical cues planned within `window` of each other are one stroke, so two strokes of
/// the same cue are never closer than the window. Pure: time comes in as arguments.
#[derive(Debug, Clone)]
pub struct Coalescer {
    window: Duration,
    /// (key, id, planned instant) of the strokes that may still absorb a cue.
    recent: VecDeque<(CueKey, CueId, HostTime)>,
}

impl Coalescer {
    /// A coalescer with this window of real time.
    #[must_use]
    pub fn new(window: Duration) -> Coalescer {
        Coalescer {
            window,
            recent: VecDeque::new(),
        }
    }

    /// The earlier cue that a cue `key` asked for at `now`, to be heard at `planned`,
    /// joins, if any: its id and planned instant.
    pub fn joins(
        &mut self,
        key: &CueKey,
        now: HostTime,
        planned: HostTime,
    ) -> Option<(CueId, HostTime)> {
        // A stroke heard more than a window ago can absorb nothing asked for from now on.
        self.recent.retain(|(_, _, at)| *at + self.window >= now);
        let window = self.window.as_nanos() as i128;
        self.recent
            .iter()
            .find(|(k, _, at)| {
                k == key
                    && (i128::from(at.as_nanos()) - i128::from(planned.as_nanos())).abs() <= window
            })
            .map(|(_, id, at)| (*id, *at))
    }

    /// Remembers a cue that was accepted as a stroke of its own.
    pub fn accepted(&mut self, key: CueKey, id: CueId, planned: HostTime) {
        self.recent.push_back((key, id, planned));
    }
}

/// A cue accepted and not yet heard.
#[derive(Debug, Clone)]
pub struct PendingCue {
    /// Its id.
    pub id: CueId,
    /// The instrument.
    pub instrument: String,
    /// Its variant.
    pub variant: Option<u32>,
    /// The sound to play.
    pub sound: Arc<Sound>,
    /// Linear gain (the pack's and the cue's).
    pub gain: f32,
    /// When it is to be heard; `None` for "now" cues, which never count as late.
    pub at: Option<HostTime>,
    /// Who cued it (told when it plays, so the page's log says who struck what).
    pub by: Actor,
}

/// A pending cue as `GET /v1/cues` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CueListing {
    /// Its id (for `DELETE /v1/cues/{id}`).
    pub id: CueId,
    /// The instrument.
    pub instrument: String,
    /// Its variant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<u32>,
    /// Seconds from now until it is heard.
    pub in_seconds: f64,
    /// Whether it has been handed to the engine already (inside the look-ahead).
    pub scheduled: bool,
}

/// Why a cue could not be added to the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookFull {
    /// The bound.
    pub capacity: usize,
}

/// The cues accepted and not yet heard: waiting for the look-ahead, or in the engine.
#[derive(Debug)]
pub struct CueBook {
    capacity: usize,
    /// Not yet in the engine, in no particular order (the book is small).
    waiting: Vec<PendingCue>,
    /// In the engine, not started yet.
    in_flight: HashMap<VoiceId, PendingCue>,
    /// Withdrawn from the engine after its clock re-anchored, until the engine confirms.
    withdrawn: HashMap<VoiceId, PendingCue>,
}

impl CueBook {
    /// A book that holds at most `capacity` timed cues waiting for the look-ahead.
    #[must_use]
    pub fn new(capacity: usize) -> CueBook {
        CueBook {
            capacity,
            waiting: Vec::new(),
            in_flight: HashMap::new(),
            withdrawn: HashMap::new(),
        }
    }

    /// Keeps `cue` until it is inside the look-ahead; refused when the book is full.
    pub fn wait(&mut self, cue: PendingCue) -> Result<(), BookFull> {
        if self.waiting.len() >= self.capacity {
            return Err(BookFull {
                capacity: self.capacity,
            });
        }
        self.waiting.push(cue);
        Ok(())
    }

    /// Takes out the waiting cues due before `until` (and any the engine gave back), to
    /// be sent to the engine.
    pub fn due(&mut self, until: HostTime) -> Vec<PendingCue> {
        let (due, keep) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|c| c.at.is_none_or(|at| at < until));
        self.waiting = keep;
        due
    }

    /// Records that `cue` was handed to the engine as `voice`.
    pub fn sent(&mut self, voice: VoiceId, cue: PendingCue) {
        self.in_flight.insert(voice, cue);
    }

    /// Puts a cue back to wait (the engine's queue was full, or it must be placed again).
    pub fn requeue(&mut self, cue: PendingCue) {
        self.waiting.push(cue);
    }

    /// The voice started: the cue is done. Returns it.
    pub fn started(&mut self, voice: VoiceId) -> Option<PendingCue> {
        self.in_flight
            .remove(&voice)
            .or_else(|| self.withdrawn.remove(&voice))
    }

    /// The engine gave the voice back (withdrawn, or missed after a stall): place it again.
    pub fn returned(&mut self, voice: VoiceId) -> bool {
        match self
            .in_flight
            .remove(&voice)
            .or_else(|| self.withdrawn.remove(&voice))
        {
            Some(cue) => {
                self.waiting.push(cue);
                true
            }
            None => false,
        }
    }

    /// The voice is gone (cancelled, rejected): forget it.
    pub fn forget(&mut self, voice: VoiceId) {
        self.in_flight.remove(&voice);
        self.withdrawn.remove(&voice);
    }

    /// The timed cues in the engine, to be withdrawn after the output's clock re-anchored
    /// ("now" cues stay: they have no instant to miss). The caller withdraws each voice.
    pub fn withdraw_timed(&mut self) -> Vec<VoiceId> {
        let timed: Vec<VoiceId> = self
            .in_flight
            .iter()
            .filter(|(_, c)| c.at.is_some())
            .map(|(v, _)| *v)
            .collect();
        for voice in &timed {
            if let Some(cue) = self.in_flight.remove(voice) {
                self.withdrawn.insert(*voice, cue);
            }
        }
        timed
    }

    /// Removes cue `id`: `Some(None)` if it was waiting, `Some(Some(voice))` if it is in
    /// the engine (the caller cancels that voice), `None` if there is no such pending cue.
    pub fn cancel(&mut self, id: CueId) -> Option<Option<VoiceId>> {
        if let Some(i) = self.waiting.iter().position(|c| c.id == id) {
            self.waiting.swap_remove(i);
            return Some(None);
        }
        let voice = self
            .in_flight
            .iter()
            .find(|(_, c)| c.id == id)
            .map(|(v, _)| *v)?;
        self.in_flight.remove(&voice);
        Some(Some(voice))
    }

    /// Every pending cue, soonest first, with `in_seconds` measured from `now`.
    #[must_use]
    pub fn listing(&self, now: HostTime) -> Vec<CueListing> {
        let entry = |c: &PendingCue, scheduled: bool| CueListing {
            id: c.id,
            instrument: c.instrument.clone(),
            variant: c.variant,
            in_seconds: c
                .at
                .map_or(0.0, |at| at.signed_nanos_since(now).max(0) as f64 / 1e9),
            scheduled,
        };
        let mut all: Vec<CueListing> = self
            .waiting
            .iter()
            .map(|c| entry(c, false))
            .chain(self.in_flight.values().map(|c| entry(c, true)))
            .chain(self.withdrawn.values().map(|c| entry(c, true)))
            .collect();
        all.sort_by(|a, b| {
            a.in_seconds
                .total_cmp(&b.in_seconds)
                .then(a.id.0.cmp(&b.id.0))
        });
        all
    }

    /// How many timed cues are waiting for the look-ahead.
    #[must_use]
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn key(instrument: &str) -> CueKey {
        CueKey {
            instrument: instrument.into(),
            variant: None,
            gain_db: 0.0,
        }
    }

    fn ms(ms: u64) -> HostTime {
        HostTime::from_nanos(ms * 1_000_000)
    }

    #[test]
    fn identical_cues_inside_the_window_are_one_stroke() {
        let mut c = Coalescer::new(Duration::from_millis(150));
        assert_eq!(c.joins(&key("gong"), ms(1000), ms(1000)), None);
        c.accepted(key("gong"), CueId(1), ms(1000));
        assert_eq!(
            c.joins(&key("gong"), ms(1100), ms(1100)),
            Some((CueId(1), ms(1000)))
        );
        // Another instrument, or the same one planned far apart, is its own stroke.
        assert_eq!(c.joins(&key("kenong"), ms(1100), ms(1100)), None);
        assert_eq!(c.joins(&key("gong"), ms(1100), ms(5000)), None);
    }

    /// Issue 8: the window is real time. Two cues 1.7 s and 1.95 s after the previous one
    /// were once swallowed because a stalled sound card's frames stood still.
    #[test]
    fn the_window_is_real_time() {
        let mut c = Coalescer::new(Duration::from_millis(150));
        c.accepted(key("gong"), CueId(1), ms(0));
        assert_eq!(c.joins(&key("gong"), ms(1700), ms(1700)), None);
        c.accepted(key("gong"), CueId(2), ms(1700));
        assert_eq!(c.joins(&key("gong"), ms(1950), ms(1950)), None);
    }

    fn cue(id: u64, at: Option<u64>) -> PendingCue {
        PendingCue {
            id: CueId(id),
            instrument: "gong".into(),
            variant: None,
            sound: Arc::new(Sound::mono(48_000, vec![0.5; 4]).unwrap()),
            by: Actor::unnamed(),
            gain: 1.0,
            at: at.map(ms),
        }
    }

    #[test]
    fn the_book_is_bounded_and_releases_cues_as_they_come_due() {
        let mut book = CueBook::new(2);
        book.wait(cue(1, Some(5000))).unwrap();
        book.wait(cue(2, Some(1000))).unwrap();
        assert_eq!(book.wait(cue(3, Some(2000))), Err(BookFull { capacity: 2 }));
        let due = book.due(ms(1500));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].id, CueId(2));
        book.sent(VoiceId(7), due.into_iter().next().unwrap());
        let listing = book.listing(ms(500));
        assert_eq!(
            listing
                .iter()
                .map(|c| (c.id.0, c.scheduled))
                .collect::<Vec<_>>(),
            vec![(2, true), (1, false)]
        );
        assert_eq!(listing[0].in_seconds, 0.5);
        assert_eq!(book.cancel(CueId(1)), Some(None));
        assert_eq!(book.cancel(CueId(2)), Some(Some(VoiceId(7))));
        assert_eq!(book.cancel(CueId(2)), None);
        assert!(book.listing(ms(0)).is_empty());
    }

    #[test]
    fn withdrawn_cues_come_back_to_be_placed_again_or_finish_if_they_started() {
        let mut book = CueBook::new(4);
        book.sent(VoiceId(1), cue(1, Some(100)));
        book.sent(VoiceId(2), cue(2, None));
        assert_eq!(book.withdraw_timed(), vec![VoiceId(1)]);
        assert!(book.returned(VoiceId(1)));
        assert_eq!(book.due(ms(200)).len(), 1);
        book.sent(VoiceId(3), cue(3, Some(100)));
        book.withdraw_timed();
        // Too late to withdraw: it started, and it is done.
        assert_eq!(book.started(VoiceId(3)).map(|c| c.id), Some(CueId(3)));
        assert!(!book.returned(VoiceId(3)));
    }
}
