//! A [`Voice`]: one sound playing in the renderer.

use std::sync::Arc;

use super::engine::VoiceId;
use super::sound::Sound;

/// Why a voice is fading out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FadeReason {
    /// Made room for a new voice under the voice cap.
    Stolen,
    /// The control side cancelled it.
    Cancelled,
}

#[derive(Debug)]
struct Fade {
    remaining: u32,
    total: u32,
    reason: FadeReason,
}

/// How a voice's rendering of one block ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VoiceEnd {
    /// Still sounding after this block.
    Playing,
    /// Played to the end of its sound; silent from this frame of the block on.
    Finished(usize),
    /// A fade-out reached silence at this frame of the block.
    Faded(usize, FadeReason),
}

/// One sound being played: a cursor into the sound, a gain, and maybe a fade-out.
#[derive(Debug)]
pub(crate) struct Voice {
    pub(crate) id: VoiceId,
    pub(crate) sound: Arc<Sound>,
    cursor: usize,
    gain: f32,
    /// The engine frame of the voice's first sample (for "oldest" when stealing).
    pub(crate) started: u64,
    /// Frames of the current block to skip before the voice starts (mid-block onsets).
    delay: usize,
    fade: Option<Fade>,
}

impl Voice {
    pub(crate) fn new(
        id: VoiceId,
        sound: Arc<Sound>,
        gain: f32,
        started: u64,
        delay: usize,
    ) -> Voice {
        Voice {
            id,
            sound,
            cursor: 0,
            gain,
            started,
            delay,
            fade: None,
        }
    }

    /// Starts a linear fade to silence over `frames` (a few milliseconds: quick, no click).
    pub(crate) fn fade_out(&mut self, frames: u32, reason: FadeReason) {
        if self.fade.is_none() {
            let frames = frames.max(1);
            self.fade = Some(Fade {
                remaining: frames,
                total: frames,
                reason,
            });
        }
    }

    pub(crate) fn is_fading(&self) -> bool {
        self.fade.is_some()
    }

    /// Frames of fade left (`u32::MAX` when not fading), to pick the voice nearest silence.
    pub(crate) fn fade_remaining(&self) -> u32 {
        self.fade.as_ref().map_or(u32::MAX, |f| f.remaining)
    }

    /// A cheap estimate of how loud the voice is now.
    pub(crate) fn level(&self) -> f32 {
        self.sound.level_at(self.cursor) * self.gain
    }

    /// Mixes this voice into an interleaved stereo block.
    #[inline]
    pub(crate) fn render(&mut self, block: &mut [f32]) -> VoiceEnd {
        let frames = block.len() / 2;
        let start = std::mem::take(&mut self.delay).min(frames);
        let sound = &*self.sound;
        let available = sound.frames() - self.cursor;
        let mut count = (frames - start).min(available);
        let mut faded = None;
        if let Some(fade) = &self.fade
            && (fade.remaining as usize) <= count
        {
            count = fade.remaining as usize;
            faded = Some(fade.reason);
        }
        let out = &mut block[2 * start..2 * (start + count)];
        match (&mut self.fade, sound.channels()) {
            (None, 1) => {
                let src = &sound.samples()[self.cursor..self.cursor + count];
                for (frame, s) in out.chunks_exact_mut(2).zip(src) {
                    let v = s * self.gain;
                    frame[0] += v;
                    frame[1] += v;
                }
            }
            (None, _) => {
                let src = &sound.samples()[2 * self.cursor..2 * (self.cursor + count)];
                for (o, s) in out.iter_mut().zip(src) {
                    *o += s * self.gain;
                }
            }
            (Some(fade), _) => {
                let total = fade.total as f32;
                for (i, frame) in out.chunks_exact_mut(2).enumerate() {
                    let g = self.gain * (fade.remaining as f32 / total);
                    let (l, r) = sound.frame(self.cursor + i);
                    frame[0] += l * g;
                    frame[1] += r * g;
                    fade.remaining -= 1;
                }
            }
        }
        self.cursor += count;
        let end = start + count;
        if let Some(reason) = faded {
            VoiceEnd::Faded(end, reason)
        } else if self.cursor >= sound.frames() {
            VoiceEnd::Finished(end)
        } else {
            VoiceEnd::Playing
        }
    }
}
