use super::*;

const RATE: u32 = PIPE_RATE;
/// Snapcast's default chunk: 20 ms.
const CHUNK: u64 = RATE as u64 / 50;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

/// A reader like snapserver's: reads a chunk every 20 ms from `first`, each read up to
/// `late` after its tick, and stamps its frames on its own stream clock.
struct Reader {
    first: Instant,
    late: fn(u64) -> Duration,
    /// Frames of silence it padded in, from which read on.
    padded: Option<(u64, u64)>,
}

impl Reader {
    /// Frames of ours consumed by `now`.
    fn consumed(&self, now: Instant) -> u64 {
        if now < self.first {
            return 0;
        }
        let mut read = 0;
        let mut k = 0;
        loop {
            let tick = self.first + Duration::from_millis(20 * k) + (self.late)(k);
            if tick > now {
                return read;
            }
            let mut take = CHUNK;
            if let Some((at, frames)) = self.padded
                && at == k
            {
                take -= frames;
            }
            read += take;
            k += 1;
        }
    }

    /// The true stamp of our frame `frame`: the first read's chunk began 20 ms before it.
    fn stamp(&self, frame: u64) -> Instant {
        let padding = match self.padded {
            Some((at, frames)) if frame >= at * CHUNK => frames,
            _ => 0,
        };
        self.first - ms(20)
            + Duration::from_nanos((frame + padding) * 1_000_000_000 / u64::from(RATE))
    }
}

fn apart(a: Instant, b: Instant) -> Duration {
    if a > b { a - b } else { b - a }
}

/// Observes `reader` every `every` from `start` for `length`, and returns the clock.
fn follow(reader: &Reader, start: Instant, every: Duration, length: Duration) -> ReaderClock {
    let mut clock = ReaderClock::new(RATE, start);
    let mut now = start;
    while now < start + length {
        clock.observe(now, reader.consumed(now));
        now += every;
    }
    clock
}

#[test]
fn the_reader_clock_finds_the_stamps_within_a_reading_interval() {
    let start = Instant::now();
    // Reads on time, then reads up to 3 ms late (its timer on a busy machine): the
    // stamps stay nominal, so the late reads must not move the estimate.
    for late in [(|_| Duration::ZERO) as fn(u64) -> Duration, |k| {
        us((k * 7919) % 3000)
    }] {
        let reader = Reader {
            first: start + us(7300),
            late,
            padded: None,
        };
        // Readings every 1 ms, each one 0–0.4 ms after the instant it claims (this
        // thread's own lateness: a reading taken late is an upper bound still).
        let clock = follow(&reader, start, us(1000), ms(2000));
        for frame in [0, 1, CHUNK, 90_000, 96_000] {
            let error = apart(clock.stamp(frame).unwrap(), reader.stamp(frame));
            assert!(error <= us(1000), "frame {frame}: {error:?} off");
        }
    }
}

#[test]
fn the_reader_clock_follows_a_jump_in_the_stamps() {
    let start = Instant::now();
    // At its 50th read the reader found only 5 ms of ours and padded 15 ms of silence:
    // everything after is stamped 15 ms later.
    let reader = Reader {
        first: start + ms(3),
        late: |_| Duration::ZERO,
        padded: Some((50, 720)),
    };
    let clock = follow(&reader, start, us(1000), ms(2000));
    let frame = 90_000;
    let error = apart(clock.stamp(frame).unwrap(), reader.stamp(frame));
    assert!(error <= us(1000), "{error:?} off after the jump");
    // Within the first window after the jump the estimate is the old one: early, by the
    // padding at most.
    let soon = follow(&reader, start, us(1000), ms(1000) + ms(100));
    let error = reader.stamp(frame) - soon.stamp(frame).unwrap();
    assert!(error <= ms(15) + us(1000), "{error:?}");
}

#[test]
fn the_reader_clock_says_how_long_nothing_was_read() {
    let start = Instant::now();
    let mut clock = ReaderClock::new(RATE, start);
    assert_eq!(
        clock.stamp(0),
        None,
        "nothing known before the first reading"
    );
    clock.observe(start, 0);
    clock.observe(start + ms(300), 0);
    assert_eq!(clock.idle(start + ms(300)), ms(300));
    clock.observe(start + ms(320), CHUNK);
    assert_eq!(clock.idle(start + ms(400)), ms(80));
}

#[test]
fn samples_become_16_bit_little_endian_clipped() {
    let mut bytes = Vec::new();
    encode(&[0.0, 1.0, -1.0, 0.5, 2.0, -3.0], &mut bytes);
    let values: Vec<i16> = bytes
        .chunks(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    assert_eq!(values, [0, 32767, -32767, 16384, 32767, -32767]);
}

#[test]
fn the_path_becomes_a_fifo_unless_it_is_something_else() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("snapfifo");
    prepare(&fifo).unwrap();
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    prepare(&fifo).expect("an existing FIFO is used as it is");

    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "keep me").unwrap();
    let err = prepare(&file).unwrap_err().to_string();
    assert!(err.contains("is not a FIFO"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");

    let nowhere = dir.path().join("missing/snapfifo");
    let err = prepare(&nowhere).unwrap_err().to_string();
    assert!(err.contains("cannot create it"), "{err}");
}

#[test]
fn the_pipe_opens_without_a_reader_and_keeps_what_it_holds_for_one() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("snapfifo");
    prepare(&fifo).unwrap();
    // No reader: still opens at once (a write-only open would fail or block).
    let mut pipe = open(&fifo).unwrap();
    pipe.write_all(&[1, 2, 3, 4]).unwrap();
    assert_eq!(rustix::io::ioctl_fionread(&pipe).unwrap(), 4);
    // A reader like snapserver's (non-blocking, read-only) finds it, and then no end of
    // file while we hold the pipe open: only "nothing yet".
    let mut reader = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    let mut got = [0u8; 8];
    assert_eq!(reader.read(&mut got).unwrap(), 4);
    assert_eq!(&got[..4], &[1, 2, 3, 4]);
    let err = reader.read(&mut got).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    assert_eq!(
        unread(&fifo, Duration::ZERO),
        format!(
            "nothing reads {} yet: start snapserver with a pipe source on it",
            fifo.display()
        )
    );
}
