//! [`History`]: the last frames of the mix as they were before the limiter, so that an
//! output able to overwrite audio it already handed on (PulseAudio's seek-relative writes)
//! can have a sound asked for "now" start inside that audio instead of after it.
//!
//! Starting a sound at an earlier frame means adding it to the mix there and limiting the
//! result again. The limiter has no look-ahead and its whole state is one envelope, and the
//! master gain's is a few numbers, so the history keeps the pre-limiter mix of every frame
//! and both states at the start of each block: from any block start the limiter (and the
//! gain ramp) can be run again over the kept mix, exactly as they ran the first time.

use super::MasterGain;
use crate::audio::limiter::Limiter;

/// The most block starts held: past it the oldest goes. Marks before the kept mix are
/// dropped anyway, so this bounds only blocks of a frame or two over a long history.
const MAX_MARKS_HELD: usize = 512;

/// The state of the stages after the mix at the start of one block.
#[derive(Clone)]
pub(super) struct Mark {
    pub(super) frame: u64,
    pub(super) limiter: Limiter,
    pub(super) master: MasterGain,
}

/// The pre-limiter mix of the last `capacity` frames, in a ring, with the [`Mark`]s of the
/// blocks inside it.
pub(super) struct History {
    capacity: usize,
    /// Interleaved stereo, `capacity` frames; frame `f` lives at `f % capacity`.
    mix: Vec<f32>,
    /// The frame after the last one recorded.
    end: u64,
    /// Oldest first; only those of blocks that start inside the kept mix (a rewrite can
    /// reach no further back), so a handful.
    marks: Vec<Mark>,
}

impl History {
    /// A history of `frames` frames, starting at frame `position`. Allocates.
    pub(super) fn new(frames: usize, position: u64) -> History {
        let capacity = frames.max(1);
        History {
            capacity,
            mix: vec![0.0; 2 * capacity],
            end: position,
            marks: Vec::with_capacity(capacity.min(MAX_MARKS_HELD)),
        }
    }

    /// The most frames a rewrite can cover (and `out` must hold, times two).
    pub(super) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Notes the state of the gain and limiter at the start of the block that begins at
    /// `frame`, before it is rendered.
    pub(super) fn mark(&mut self, frame: u64, limiter: &Limiter, master: &MasterGain) {
        let oldest_kept = self.oldest_kept();
        self.marks.retain(|m| m.frame >= oldest_kept);
        if self.marks.len() == self.marks.capacity() {
            self.marks.remove(0);
        }
        self.marks.push(Mark {
            frame,
            limiter: limiter.clone(),
            master: master.clone(),
        });
    }

    /// Keeps `block` (interleaved stereo, after the master gain, before the limiter) as the
    /// frames that follow the ones recorded so far.
    pub(super) fn record(&mut self, block: &[f32]) {
        for frame in block.chunks_exact(2) {
            let at = 2 * (self.end % self.capacity as u64) as usize;
            self.mix[at..at + 2].copy_from_slice(frame);
            self.end += 1;
        }
    }

    /// The first frame whose mix is still kept.
    fn oldest_kept(&self) -> u64 {
        self.end.saturating_sub(self.capacity as u64)
    }

    /// The latest mark at or before `frame` whose block is still wholly kept, if any.
    pub(super) fn mark_before(&self, frame: u64) -> Option<&Mark> {
        let oldest_kept = self.oldest_kept();
        self.marks
            .iter()
            .rev()
            .find(|m| m.frame <= frame)
            .filter(|m| m.frame >= oldest_kept)
    }

    /// The earliest frame a rewrite can start at.
    pub(super) fn earliest(&self) -> Option<u64> {
        let oldest_kept = self.oldest_kept();
        self.marks
            .iter()
            .find(|m| m.frame >= oldest_kept)
            .map(|m| m.frame)
    }

    /// Copies the kept mix of frames `[from, from + out.len() / 2)` into `out`.
    pub(super) fn read(&self, from: u64, out: &mut [f32]) {
        for (i, frame) in out.chunks_exact_mut(2).enumerate() {
            let at = 2 * ((from + i as u64) % self.capacity as u64) as usize;
            frame.copy_from_slice(&self.mix[at..at + 2]);
        }
    }

    /// Adds `extra` (interleaved stereo) to the kept mix from frame `from` on.
    pub(super) fn add(&mut self, from: u64, extra: &[f32]) {
        for (i, frame) in extra.chunks_exact(2).enumerate() {
            let at = 2 * ((from + i as u64) % self.capacity as u64) as usize;
            self.mix[at] += frame[0];
            self.mix[at + 1] += frame[1];
        }
    }

    /// After a rewrite from `frame`: the marks after it describe states that no longer
    /// happened, so they go, and `mark` (the state at `frame`) replaces them.
    pub(super) fn remark(&mut self, mark: Mark) {
        self.marks.retain(|m| m.frame < mark.frame);
        if self.marks.len() == self.marks.capacity() {
            self.marks.remove(0);
        }
        self.marks.push(mark);
    }
}
