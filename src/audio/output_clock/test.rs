//! A simulated sound card drives the mapping: exact, fast, slow, jittery, stalling.

use proptest::prelude::*;

use super::*;

const RATE: u32 = 48_000;
/// Frames per callback: 10 ms.
const PERIOD: u64 = 480;

/// A sound card whose frame `f` is truly heard at `start + f / rate + shift` (shift grows
/// with every stall), reporting each period with some jitter.
struct Device {
    rate: f64,
    start_ns: f64,
    shift_ns: f64,
    frame: u64,
    jitter_ns: f64,
    seed: u64,
}

impl Device {
    fn new(rate_error: f64, jitter: Duration) -> Device {
        Device {
            rate: f64::from(RATE) * (1.0 + rate_error),
            start_ns: 5e9,
            shift_ns: 0.0,
            frame: 0,
            jitter_ns: jitter.as_nanos() as f64,
            seed: 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// When `frame` is really heard.
    fn truth(&self, frame: Frame) -> f64 {
        self.start_ns + frame.0 as f64 * 1e9 / self.rate + self.shift_ns
    }

    fn noise(&mut self) -> f64 {
        // xorshift: deterministic, so a failing case can be replayed.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        ((self.seed % 2001) as f64 / 1000.0 - 1.0) * self.jitter_ns
    }

    /// The next callback's report.
    fn report(&mut self) -> TimingPoint {
        let frame = Frame(self.frame);
        let heard = (self.truth(frame) + self.noise()).max(0.0) as u64;
        self.frame += PERIOD;
        TimingPoint {
            frame,
            heard: HostTime::from_nanos(heard),
        }
    }

    /// The card stops taking audio for `stall`: its frames are heard that much later.
    fn stall(&mut self, stall: Duration) {
        self.shift_ns += stall.as_nanos() as f64;
    }

    /// Runs `seconds` of callbacks through `clock`, returning what they observed.
    fn run(&mut self, clock: &mut OutputClock, seconds: f64) -> Vec<Observation> {
        let n = (seconds * f64::from(RATE) / PERIOD as f64) as usize;
        (0..n).map(|_| clock.observe(self.report())).collect()
    }
}

/// How far from `planned` the frame the mapping picks for it is really heard, in ms.
fn error_ms(clock: &OutputClock, device: &Device, planned_ns: f64) -> f64 {
    let frame = clock
        .frame_at(HostTime::from_nanos(planned_ns as u64))
        .unwrap();
    (device.truth(frame) - planned_ns) / 1e6
}

/// An instant `ahead` after the device's newest frame is heard (a stroke scheduled with
/// the look-ahead the conductor uses).
fn ahead(device: &Device, ahead: Duration) -> f64 {
    device.truth(Frame(device.frame)) + ahead.as_nanos() as f64
}

#[test]
fn before_any_report_time_is_frames() {
    let clock = OutputClock::new(RATE);
    assert_eq!(
        clock.heard_at(Frame(48_000)),
        HostTime::from_nanos(1_000_000_000)
    );
    assert_eq!(
        clock.frame_at(HostTime::from_nanos(500_000_000)),
        Some(Frame(24_000))
    );
    // An offline render's round trip is exact for every frame.
    for f in [0, 1, 7, 47_999, 48_000 * 3600 * 4 + 1] {
        assert_eq!(clock.frame_at(clock.heard_at(Frame(f))), Some(Frame(f)));
    }
}

#[test]
fn an_exact_device_maps_exactly() {
    let mut clock = OutputClock::new(RATE);
    let mut device = Device::new(0.0, Duration::ZERO);
    let seen = device.run(&mut clock, 3.0);
    assert_eq!(seen[0], Observation::Anchored);
    assert!(seen[1..].iter().all(|o| *o == Observation::Tracking));
    let planned = ahead(&device, Duration::from_millis(100));
    assert!(error_ms(&clock, &device, planned).abs() < 0.03);
}

#[test]
fn a_device_a_tenth_of_a_percent_off_is_followed() {
    for rate_error in [0.001, -0.001] {
        let mut clock = OutputClock::new(RATE);
        let mut device = Device::new(rate_error, Duration::ZERO);
        device.run(&mut clock, 10.0);
        let measured = clock.measured_rate() / f64::from(RATE) - 1.0;
        assert!((measured - rate_error).abs() < 1e-5, "{measured}");
        // Even a stroke a second ahead lands within a few microseconds.
        let planned = ahead(&device, Duration::from_secs(1));
        let error = error_ms(&clock, &device, planned);
        assert!(error.abs() < 0.05, "{rate_error}: {error} ms");
        assert_eq!(clock.reanchors(), 0);
    }
}

#[test]
fn jitter_is_averaged_away() {
    let mut clock = OutputClock::new(RATE);
    let mut device = Device::new(0.0003, Duration::from_millis(2));
    let seen = device.run(&mut clock, 8.0);
    assert_eq!(clock.reanchors(), 0, "{seen:?}");
    for ms in [50, 150, 400] {
        let error = error_ms(&clock, &device, ahead(&device, Duration::from_millis(ms)));
        assert!(error.abs() < 0.5, "{ms} ms ahead: {error} ms");
    }
}

#[test]
fn a_stall_reanchors_on_the_second_callback_and_the_next_strokes_land_on_time() {
    let mut clock = OutputClock::new(RATE);
    let mut device = Device::new(0.0, Duration::from_micros(300));
    device.run(&mut clock, 2.0);
    device.stall(Duration::from_millis(1500));
    assert_eq!(clock.observe(device.report()), Observation::Tracking);
    let seen = clock.observe(device.report());
    let Observation::Reanchored { jump } = seen else {
        panic!("{seen:?}");
    };
    assert!((jump - 1_500_000_000).abs() < 1_000_000, "{jump}");
    let error = error_ms(&clock, &device, ahead(&device, Duration::from_millis(100)));
    assert!(error.abs() < 0.5, "{error} ms");
}

#[test]
fn a_short_underrun_reanchors_after_a_few_callbacks_but_one_late_callback_does_not() {
    let mut clock = OutputClock::new(RATE);
    let mut device = Device::new(0.0, Duration::ZERO);
    device.run(&mut clock, 2.0);
    // One report 10 ms off, then back on the line: an outlier.
    let mut late = device.report();
    late.heard = late.heard + Duration::from_millis(10);
    assert_eq!(clock.observe(late), Observation::Tracking);
    device.run(&mut clock, 0.5);
    assert_eq!(clock.reanchors(), 0);
    // Reports far off the line by different amounts (a sound server's latency estimate
    // jumping about on a busy machine) are noise, not a stall.
    for off_ms in [70i64, -30, 45, -60, 50] {
        let mut noisy = device.report();
        noisy.heard = if off_ms > 0 {
            noisy.heard + Duration::from_millis(off_ms as u64)
        } else {
            noisy.heard - Duration::from_millis(off_ms.unsigned_abs())
        };
        assert_eq!(clock.observe(noisy), Observation::Tracking);
    }
    device.run(&mut clock, 0.5);
    assert_eq!(clock.reanchors(), 0);
    // A 10 ms underrun moves every later frame: re-anchored within three callbacks.
    device.stall(Duration::from_millis(10));
    let seen = device.run(&mut clock, 0.03);
    assert!(
        matches!(seen.last(), Some(Observation::Reanchored { .. })),
        "{seen:?}"
    );
    let error = error_ms(&clock, &device, ahead(&device, Duration::from_millis(100)));
    assert!(error.abs() < 0.05, "{error} ms");
}

#[test]
fn instants_before_frame_zero_have_no_frame() {
    let mut clock = OutputClock::new(RATE);
    let mut device = Device::new(0.0, Duration::ZERO);
    device.run(&mut clock, 0.1);
    assert_eq!(clock.frame_at(HostTime::from_nanos(1)), None);
    assert_eq!(
        clock.heard_at(Frame(0)),
        HostTime::from_nanos(5_000_000_000)
    );
}

proptest! {
    /// Whatever the crystal's error, jitter and stalls, a stroke scheduled a little ahead
    /// after the mapping has seen a few callbacks since the last stall is heard within a
    /// millisecond of its planned instant.
    #[test]
    fn strokes_land_on_time_through_stalls(
        rate_error in -0.002f64..0.002,
        jitter_us in 0u64..800,
        stalls in prop::collection::vec((0.3f64..3.0, 15u64..5000), 0..4),
    ) {
        let mut clock = OutputClock::new(RATE);
        let mut device = Device::new(rate_error, Duration::from_micros(jitter_us));
        device.run(&mut clock, 3.0);
        for (after, stall_ms) in stalls {
            device.run(&mut clock, after);
            device.stall(Duration::from_millis(stall_ms));
            device.run(&mut clock, 0.05);
            let error = error_ms(&clock, &device, ahead(&device, Duration::from_millis(100)));
            prop_assert!(error.abs() < 1.0, "after a {} ms stall: {} ms", stall_ms, error);
        }
        device.run(&mut clock, 2.0);
        let error = error_ms(&clock, &device, ahead(&device, Duration::from_millis(300)));
        prop_assert!(error.abs() < 1.0, "{} ms", error);
    }
}
