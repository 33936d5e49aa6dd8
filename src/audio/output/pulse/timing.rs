//! Where the PulseAudio stream stands, in frames and in time: pure arithmetic, given the
//! server's latency reports and the time.
//!
//! A playback stream is a queue of bytes. We append at the *write index*; the sink takes
//! from the *read index*, and plays what it took after its own latency. Only the server
//! knows the read index, and only when asked (`GetPlaybackLatency`), so between replies it
//! is extrapolated: while the stream plays, the sink takes frames at the stream's rate.
//! From it follow both numbers the output needs: when a frame we write is heard (the
//! renderer's timing points), and the earliest frame still safe to overwrite (a rewrite).

use std::time::{Duration, Instant};

use crate::audio::Frame;

/// Bytes per frame of the stream: two channels of 32-bit float.
pub(super) const FRAME_BYTES: u64 = 8;

/// The whole frames in `bytes` of the stream.
pub(super) fn frames_in(bytes: u64) -> u64 {
    bytes / FRAME_BYTES
}

/// The bytes of `frames` frames of the stream.
pub(super) fn bytes_of(frames: u64) -> u64 {
    frames.saturating_mul(FRAME_BYTES)
}

/// The descriptor offset of a write that starts `frames` before the write index.
/// PulseAudio reads a memblock's offset as a signed 64-bit number (with seek mode
/// `PA_SEEK_RELATIVE`, the flags left empty) and the crate carries it as a `u64`: a seek
/// back is the two's complement of its length in bytes.
pub(super) fn seek_back(frames: u64) -> u64 {
    0u64.wrapping_sub(bytes_of(frames))
}

/// How long `frames` last at `rate`.
pub(super) fn duration_of(frames: u64, rate: u32) -> Duration {
    let nanos = u128::from(frames) * 1_000_000_000 / u128::from(rate.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// The whole frames that pass in `duration` at `rate`.
pub(super) fn frames_during(duration: Duration, rate: u32) -> u64 {
    let frames = duration.as_nanos() * u128::from(rate) / 1_000_000_000;
    u64::try_from(frames).unwrap_or(u64::MAX)
}

/// One answer to `GetPlaybackLatency`, in the stream's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Measurement {
    /// The server's read index when it answered.
    pub(super) read_offset: i64,
    /// The server's write index when it answered (what of ours had arrived).
    pub(super) write_offset: i64,
    /// Whether the sink was taking audio from the stream.
    pub(super) playing: bool,
    /// How long after the sink takes a frame it is heard (its buffer, and audio it took
    /// but has not mixed yet).
    pub(super) sink: Duration,
}

impl Measurement {
    /// How long a frame written when the server answered waits before it is heard: the
    /// queue ahead of it, then the sink.
    pub(super) fn latency(&self, rate: u32) -> Duration {
        let queued = self.write_offset.saturating_sub(self.read_offset).max(0);
        self.sink + duration_of(frames_in(queued.unsigned_abs()), rate)
    }
}

/// The server's read index, as last reported and extrapolated since.
#[derive(Debug, Clone, Copy)]
pub(super) struct ReadClock {
    rate: u32,
    /// Frames of the stream the sink had taken at `at`.
    read: u64,
    at: Instant,
    /// Whether the sink takes frames (it did at `at`, or started since).
    playing: bool,
    /// The sink's latency at `at`.
    sink: Duration,
    /// The sink latency the server configured for the stream: the guess while no report
    /// of a playing stream says better.
    configured: Duration,
}

impl ReadClock {
    /// A new stream at `now`: nothing read, not playing, and the sink's latency as the
    /// server `configured` it until it reports one.
    pub(super) fn new(rate: u32, configured: Duration, now: Instant) -> ReadClock {
        ReadClock {
            rate,
            read: 0,
            at: now,
            playing: false,
            sink: configured,
            configured,
        }
    }

    /// Takes the server's answer to a question sent at `sent` and answered at `received`.
    /// The server took its snapshot somewhere in between; the middle is the best guess,
    /// off by at most half the roundtrip (well under a millisecond on one machine).
    pub(super) fn measured(&mut self, answer: Measurement, sent: Instant, received: Instant) {
        self.at = sent + received.saturating_duration_since(sent) / 2;
        self.read = frames_in(answer.read_offset.max(0).unsigned_abs());
        self.playing = answer.playing;
        self.sink = answer.sink;
    }

    /// The sink started taking audio at `now` (the server's `Started`). A sink latency
    /// reported before is no guide now (an idle null sink reports the rest of its
    /// two-second block), so the configured one stands in until the next report.
    pub(super) fn started(&mut self, now: Instant) {
        self.read = self.read_unbounded(now);
        self.at = now;
        self.playing = true;
        self.sink = self.configured;
    }

    /// The stream ran dry at `now`, the sink's read index then at `read_offset` bytes when
    /// the server says (protocol 23 and later), else where we thought it was.
    pub(super) fn ran_dry(&mut self, read_offset: Option<i64>, now: Instant) {
        self.read = match read_offset {
            Some(offset) => frames_in(offset.max(0).unsigned_abs()),
            None => self.read_unbounded(now),
        };
        self.at = now;
        self.playing = false;
    }

    fn read_unbounded(&self, now: Instant) -> u64 {
        if self.playing {
            let since = now.saturating_duration_since(self.at);
            self.read.saturating_add(frames_during(since, self.rate))
        } else {
            self.read
        }
    }

    /// The frames of the stream the sink has taken by `now`, of the `written` we sent: it
    /// cannot take what is not there.
    pub(super) fn read_at(&self, now: Instant, written: u64) -> u64 {
        self.read_unbounded(now).min(written)
    }

    /// How long after `now` frame `frame` of the stream is heard, `written` frames having
    /// been sent: the queue ahead of it, then the sink's latency. Anchored on the server's
    /// last snapshot: while playing this is that snapshot's instant, plus its sink latency,
    /// plus the frames between its read index and `frame`.
    pub(super) fn heard_after(&self, frame: u64, now: Instant, written: u64) -> Duration {
        let queued = frame.saturating_sub(self.read_at(now, written));
        self.sink + duration_of(queued, self.rate)
    }
}

/// Where a stream's frames sit on the engine's frame clock. A stream opens with silence
/// (the queue the server asks for at once, before anything plays); the engine renders into
/// it from stream frame `stream_start` on, which is engine frame `engine_start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Alignment {
    pub(super) engine_start: Frame,
    pub(super) stream_start: u64,
}

impl Alignment {
    /// The engine frame at stream frame `frame`; before the engine's first one, that one:
    /// audio written before it was silence of our own, nothing the engine can change.
    pub(super) fn engine_frame(&self, frame: u64) -> Frame {
        Frame(self.engine_start.0 + frame.saturating_sub(self.stream_start))
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn bytes_frames_and_durations_convert() {
        assert_eq!(frames_in(1920 * 8), 1920);
        assert_eq!(frames_in(8 * 3 + 5), 3, "a partial frame is not a frame");
        assert_eq!(bytes_of(1920), 15_360);
        assert_eq!(bytes_of(u64::MAX), u64::MAX);
        assert_eq!(duration_of(480, 48_000), ms(10));
        assert_eq!(frames_during(ms(10), 48_000), 480);
        assert_eq!(duration_of(3, 1), Duration::from_secs(3));
        assert_eq!(frames_during(Duration::MAX, u32::MAX), u64::MAX);
    }

    #[test]
    fn a_seek_back_is_a_negative_byte_offset() {
        assert_eq!(seek_back(0), 0);
        assert_eq!(seek_back(1) as i64, -8);
        assert_eq!(seek_back(480) as i64, -3840);
        // As PulseAudio reads the descriptor: the high and low words of a signed number.
        let offset = seek_back(2);
        let (high, low) = ((offset >> 32) as u32, offset as u32);
        assert_eq!(((u64::from(high) << 32) | u64::from(low)) as i64, -16);
    }

    #[test]
    fn a_measurement_counts_the_queue_and_the_sink() {
        let answer = Measurement {
            read_offset: 8 * 480,
            write_offset: 8 * 1440,
            playing: true,
            sink: ms(10),
        };
        assert_eq!(answer.latency(48_000), ms(30));
        // A write index behind the read index (an underrun) queues nothing.
        let dry = Measurement {
            write_offset: 0,
            ..answer
        };
        assert_eq!(dry.latency(48_000), ms(10));
    }

    #[test]
    fn the_read_index_moves_only_while_playing() {
        let t0 = Instant::now();
        let mut clock = ReadClock::new(1000, ms(5), t0);
        // Before it starts, nothing is read, whatever the time.
        assert_eq!(clock.read_at(t0 + ms(500), 1000), 0);
        // A report from before the start: a sink latency of an idle sink's long block.
        clock.measured(
            Measurement {
                read_offset: 0,
                write_offset: 8 * 40,
                playing: false,
                sink: ms(1400),
            },
            t0 + ms(100),
            t0 + ms(100),
        );
        assert_eq!(clock.heard_after(40, t0 + ms(400), 40), ms(1440));
        clock.started(t0 + ms(500));
        // Once started, the configured latency stands in for it.
        assert_eq!(clock.heard_after(40, t0 + ms(500), 40), ms(45));
        assert_eq!(clock.read_at(t0 + ms(600), 1000), 100);
        // Never beyond what was written.
        assert_eq!(clock.read_at(t0 + ms(600), 40), 40);
        // A report replaces the estimate; the snapshot is placed mid-roundtrip.
        clock.measured(
            Measurement {
                read_offset: 8 * 90,
                write_offset: 8 * 200,
                playing: true,
                sink: ms(7),
            },
            t0 + ms(598),
            t0 + ms(602),
        );
        assert_eq!(clock.read_at(t0 + ms(600), 1000), 90);
        assert_eq!(clock.read_at(t0 + ms(610), 1000), 100);
        // A stream that ran dry stands still where the server says.
        clock.ran_dry(Some(8 * 150), t0 + ms(700));
        assert_eq!(clock.read_at(t0 + ms(900), 1000), 150);
        clock.started(t0 + ms(900));
        assert_eq!(clock.read_at(t0 + ms(950), 1000), 200);
        // Without the server's offset (an old server), it stands where we thought.
        clock.ran_dry(None, t0 + ms(960));
        assert_eq!(clock.read_at(t0 + ms(999), 1000), 210);
    }

    #[test]
    fn a_frame_is_heard_after_the_queue_ahead_of_it_and_the_sink() {
        let t0 = Instant::now();
        let rate = 48_000;
        let mut clock = ReadClock::new(rate, ms(10), t0);
        // Not started: everything written waits, and the sink's configured latency.
        assert_eq!(clock.heard_after(1920, t0, 1920), ms(50));
        clock.measured(
            Measurement {
                read_offset: 8 * 480,
                write_offset: 8 * 1920,
                playing: true,
                sink: ms(12),
            },
            t0,
            t0,
        );
        // 20 ms later the sink has taken 960 more frames: frame 1920 waits 10 ms more.
        assert_eq!(clock.heard_after(1920, t0 + ms(20), 1920), ms(22));
        // The same frame is heard at the same instant whenever asked.
        let heard_at = |now: Instant| now + clock.heard_after(2400, now, 2400);
        assert_eq!(heard_at(t0 + ms(5)), heard_at(t0 + ms(25)));
        // A frame the sink has taken already is heard within the sink's latency at most.
        assert_eq!(clock.heard_after(0, t0 + ms(20), 1920), ms(12));
    }

    #[test]
    fn stream_frames_map_onto_the_engine_clock() {
        let alignment = Alignment {
            engine_start: Frame(10_000),
            stream_start: 1920,
        };
        assert_eq!(alignment.engine_frame(1920), Frame(10_000));
        assert_eq!(alignment.engine_frame(2000), Frame(10_080));
        // The opening silence is before the engine's first frame here.
        assert_eq!(alignment.engine_frame(0), Frame(10_000));
    }
}
