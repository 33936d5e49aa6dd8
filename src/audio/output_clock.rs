//! [`OutputClock`]: where an output's frames are heard, on the host's clock.
//!
//! An output tells the engine, block by block, at which host instant the block's first
//! frame will be heard (a [`TimingPoint`]: the sound card from cpal's playback timestamps,
//! the null output from its pacer). Those reports jitter with scheduling and the sound
//! server's latency estimates, and a sound card's crystal runs a little fast or slow, so
//! the control side fits a line through a window of recent points (Ableton Link's
//! `HostTimeFilter` is the pattern) and maps both ways with it: the frame to schedule a
//! stroke at so that it is heard at a planned instant, and the instant a frame is heard.
//!
//! A stall (an underrun, a sound server that stops taking audio for seconds, a process
//! that was stopped) breaks the line: the frame clock stood still while real time went on.
//! Points off the line that *agree with each other* — two in a row far off by the same
//! amount, or a few somewhat off by about the same amount — re-anchor the fit on them; the
//! session side then re-sends what it had scheduled, so strokes still to come land on time
//! and the ones whose moment passed are reported as missed. A single point off the line is
//! not evidence: a sound server's latency estimate (PulseAudio's, interpolated between
//! polls) can be tens of milliseconds off for one callback on a busy machine, and moving
//! the clock on it would misplace strokes, or miss them.

use std::collections::VecDeque;
use std::time::Duration;

use super::frame::Frame;
use super::host_time::HostTime;

/// One report from an output: frame `frame` is heard at `heard`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimingPoint {
    /// A frame of the engine's clock (the first of a block).
    pub frame: Frame,
    /// When it reaches the listener's ears (the output's latency included).
    pub heard: HostTime,
}

/// What one [`TimingPoint`] did to the mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// The first point: the mapping now follows the output.
    Anchored,
    /// The point fits (or is an outlier held back for now).
    Tracking,
    /// The output jumped (a stall, a restart): the mapping starts again from this point.
    /// `jump` is how much later (positive) or earlier its frames are now heard.
    Reanchored {
        /// Nanoseconds the mapping moved at this point.
        jump: i64,
    },
}

/// Points kept for the fit: a few seconds of callbacks, enough to see a crystal that is
/// 0.1 % off and to average away milliseconds of scheduling jitter.
const WINDOW: usize = 256;
/// Points this far off the line are a stall or a restart once [`STALL_RUN`] in a row
/// agree on how far.
const STALL: Duration = Duration::from_millis(40);
const STALL_RUN: usize = 2;
/// A point this far off the line is suspect; [`SUSPECT_RUN`] of them in a row that agree
/// mean the output moved (a short underrun) rather than a few late callbacks.
const SUSPECT: Duration = Duration::from_millis(4);
const SUSPECT_RUN: usize = 3;
/// Off-line points agree when their offsets from the line are this close to each other.
const AGREE: Duration = Duration::from_millis(4);
/// Slopes are kept within this fraction of the nominal rate: no sound card is further
/// off, and a fit over a short noisy window must not run away.
const MAX_RATE_ERROR: f64 = 0.005;
/// Below this span of frames the window is too short to estimate a slope; the last
/// measured rate (at first the nominal one) is kept and only the offset is fitted.
const MIN_SPAN_SECONDS: f64 = 0.5;

/// A straight line from frames to host nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Line {
    frame: u64,
    heard: f64,
    ns_per_frame: f64,
}

impl Line {
    fn heard(&self, frame: Frame) -> f64 {
        self.heard + (frame.0 as f64 - self.frame as f64) * self.ns_per_frame
    }
}

/// The mapping between an output's frames and the host instants they are heard at.
#[derive(Debug, Clone)]
pub struct OutputClock {
    nominal: f64,
    sample_rate: u32,
    points: VecDeque<TimingPoint>,
    line: Line,
    /// The crystal's rate as last measured over a long enough window (ns per frame); it
    /// survives a re-anchor, since a stall does not change the crystal.
    slope: f64,
    anchored: bool,
    /// The latest points in a row off the line, with their offsets (ns): the evidence for
    /// a jump.
    suspects: Vec<(TimingPoint, f64)>,
    reanchors: u64,
}

impl OutputClock {
    /// A mapping at `sample_rate` that, until an output reports, reads frames as pure time
    /// from the epoch: frame `n` is heard at `n / rate` seconds. That is exactly an offline
    /// render's clock, where time *is* frames.
    #[must_use]
    pub fn new(sample_rate: u32) -> OutputClock {
        let nominal = 1e9 / f64::from(sample_rate.max(1));
        OutputClock {
            nominal,
            sample_rate: sample_rate.max(1),
            points: VecDeque::with_capacity(WINDOW),
            line: Line {
                frame: 0,
                heard: 0.0,
                ns_per_frame: nominal,
            },
            slope: nominal,
            anchored: false,
            suspects: Vec::with_capacity(SUSPECT_RUN),
            reanchors: 0,
        }
    }

    /// Whether an output has reported at least once.
    #[must_use]
    pub fn is_anchored(&self) -> bool {
        self.anchored
    }

    /// How many times the mapping has re-anchored after a jump.
    #[must_use]
    pub fn reanchors(&self) -> u64 {
        self.reanchors
    }

    /// The fitted rate in frames per second of host time.
    #[must_use]
    pub fn measured_rate(&self) -> f64 {
        1e9 / self.line.ns_per_frame
    }

    /// Takes one report into the mapping.
    pub fn observe(&mut self, point: TimingPoint) -> Observation {
        if !self.anchored {
            self.anchored = true;
            self.restart(point);
            return Observation::Anchored;
        }
        if self
            .points
            .back()
            .is_some_and(|last| point.frame <= last.frame)
        {
            // The same block reported twice, or a clock going backwards: nothing to learn.
            return Observation::Tracking;
        }
        let residual = point.heard.as_nanos() as f64 - self.line.heard(point.frame);
        if residual.abs() > SUSPECT.as_nanos() as f64 {
            // Evidence of a jump only while the points off the line agree on its size.
            let agrees = self
                .suspects
                .last()
                .is_none_or(|(_, r)| (r - residual).abs() <= AGREE.as_nanos() as f64);
            if !agrees {
                self.suspects.clear();
            }
            self.suspects.push((point, residual));
            let needed = if residual.abs() > STALL.as_nanos() as f64 {
                STALL_RUN
            } else {
                SUSPECT_RUN
            };
            if self.suspects.len() >= needed {
                return self.reanchor();
            }
            return Observation::Tracking;
        }
        self.suspects.clear();
        if self.points.len() == WINDOW {
            self.points.pop_front();
        }
        self.points.push_back(point);
        self.fit();
        Observation::Tracking
    }

    /// Starts the line again through the agreeing points off it (their mean offset, so
    /// one noisy report among them does not set the new line).
    fn reanchor(&mut self) -> Observation {
        let suspects = std::mem::take(&mut self.suspects);
        let jump = suspects.iter().map(|(_, r)| r).sum::<f64>() / suspects.len().max(1) as f64;
        self.reanchors += 1;
        self.points.clear();
        self.points.extend(suspects.iter().map(|(p, _)| *p));
        self.fit();
        Observation::Reanchored {
            jump: jump.round() as i64,
        }
    }

    fn restart(&mut self, point: TimingPoint) {
        self.points.clear();
        self.points.push_back(point);
        self.suspects.clear();
        self.line = Line {
            frame: point.frame.0,
            heard: point.heard.as_nanos() as f64,
            ns_per_frame: self.slope,
        };
    }

    /// Least squares through the window, relative to the newest point so the numbers stay
    /// small enough for `f64` to keep nanoseconds.
    fn fit(&mut self) {
        let Some(last) = self.points.back().copied() else {
            return;
        };
        let n = self.points.len() as f64;
        let xy: Vec<(f64, f64)> = self
            .points
            .iter()
            .map(|p| {
                (
                    p.frame.0 as f64 - last.frame.0 as f64,
                    p.heard.as_nanos() as f64 - last.heard.as_nanos() as f64,
                )
            })
            .collect();
        let mean_x = xy.iter().map(|p| p.0).sum::<f64>() / n;
        let mean_y = xy.iter().map(|p| p.1).sum::<f64>() / n;
        let span = -xy.first().map_or(0.0, |p| p.0);
        if span >= MIN_SPAN_SECONDS * f64::from(self.sample_rate) {
            let sxx: f64 = xy.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
            let sxy: f64 = xy.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
            self.slope = (sxy / sxx).clamp(
                self.nominal * (1.0 - MAX_RATE_ERROR),
                self.nominal * (1.0 + MAX_RATE_ERROR),
            );
        }
        let slope = self.slope;
        self.line = Line {
            frame: last.frame.0,
            heard: last.heard.as_nanos() as f64 + mean_y - slope * mean_x,
            ns_per_frame: slope,
        };
    }

    /// When `frame` is heard.
    #[must_use]
    pub fn heard_at(&self, frame: Frame) -> HostTime {
        let nanos = self.line.heard(frame).round();
        HostTime::from_nanos(if nanos <= 0.0 {
            0
        } else if nanos >= u64::MAX as f64 {
            u64::MAX
        } else {
            nanos as u64
        })
    }

    /// The frame heard at `instant`, or `None` if that is before frame 0 (or beyond the
    /// frame clock's range).
    #[must_use]
    pub fn frame_at(&self, instant: HostTime) -> Option<Frame> {
        let frames = self.line.frame as f64
            + (instant.as_nanos() as f64 - self.line.heard) / self.line.ns_per_frame;
        let frames = frames.round();
        (frames.is_finite() && frames >= 0.0 && frames < u64::MAX as f64)
            .then_some(Frame(frames as u64))
    }
}

#[cfg(test)]
mod test;
