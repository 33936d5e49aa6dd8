//! Against a real PulseAudio server: the one `scripts/test-pulse` starts (a null sink
//! named `gongan`), found through the variables it sets.
//!
//! Skipped only where no server is expected: outside CI, without `GONGAN_PULSE_DIR`
//! (`scripts/test-pulse run cargo test --lib audio::output::pulse` sets it). In CI a
//! missing server fails the test.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::audio::output::STARTUP;
use crate::audio::output::live::STOP_WAIT;
use crate::audio::{EngineEvent, Frame, Sound};

/// Whether a server is expected here.
fn server_expected() -> bool {
    std::env::var_os("GONGAN_PULSE_DIR").is_some() || std::env::var_os("CI").is_some()
}

/// Waits until `ready` gives a value, for at most `within`.
fn poll<T>(within: Duration, mut ready: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = ready() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn plays_to_the_server_and_measures_its_latency() {
    if !server_expected() {
        return;
    }
    let (controller, output) = PulseOutput::open(None, EngineConfig::default(), Latency::DEFAULT)
        .expect("a PulseAudio server to play to (scripts/test-pulse starts one)");
    assert_eq!(output.health(), OutputHealth::Playing { recovered: None });
    assert_eq!(output.fault(), None);
    assert_eq!(
        *output.watch().borrow(),
        OutputHealth::Playing { recovered: None }
    );
    assert!(!output.name().is_empty());
    poll(Duration::from_secs(2), || output.latency()).expect("a latency report within 2 s");
    // The server asks for audio and the engine renders it: its clock moves. An idle null
    // sink first finishes the long block it was rendering (up to 2 s).
    let moving = poll(STARTUP, || {
        (controller.now() > Frame(u64::from(DEFAULT_SAMPLE_RATE) / 10)).then_some(())
    });
    assert!(moving.is_some(), "the engine rendered nothing");
    // Once it plays, about the latency asked for is queued.
    let settled = poll(Duration::from_secs(1), || {
        output
            .latency()
            .filter(|latency| *latency <= Duration::from_millis(100))
    });
    assert!(
        settled.is_some(),
        "{:?} queued, for {} asked",
        output.latency(),
        Latency::DEFAULT
    );
    let dropped = Instant::now();
    drop(output);
    assert!(
        dropped.elapsed() < STOP_WAIT,
        "the output took long to stop"
    );
}

#[test]
fn a_sink_the_server_does_not_have_is_no_device() {
    if !server_expected() {
        return;
    }
    match PulseOutput::open(
        Some("gongan-no-such-sink"),
        EngineConfig::default(),
        Latency::DEFAULT,
    ) {
        Err(OutputError::NoDevice(what)) => assert!(what.contains("gongan-no-such-sink"), "{what}"),
        Err(other) => panic!("another error: {other}"),
        Ok(_) => panic!("opened a sink that does not exist"),
    }
}

#[test]
fn a_sound_scheduled_inside_the_queue_is_written_into_it() {
    if !server_expected() {
        return;
    }
    let (mut controller, output) =
        PulseOutput::open(None, EngineConfig::default(), Latency::DEFAULT)
            .expect("a PulseAudio server to play to (scripts/test-pulse starts one)");
    let rate = u64::from(DEFAULT_SAMPLE_RATE);
    poll(STARTUP, || {
        (controller.now() > Frame(rate / 10)).then_some(())
    })
    .expect("the engine rendered nothing");
    let click = Arc::new(Sound::mono(DEFAULT_SAMPLE_RATE, vec![0.5; 48]).expect("a sound"));
    // A millisecond before the last frame rendered: queued, far from the sink yet (about
    // 30 ms are queued), so it is written there rather than at the next block.
    let rendered = controller.now();
    let at = Frame(rendered.0 - rate / 1000);
    controller.play(click, at, 1.0).expect("scheduled");
    let started = poll(Duration::from_secs(1), || {
        controller
            .events()
            .into_iter()
            .find_map(|event| match event {
                EngineEvent::Started { frame, .. } => Some(frame),
                _ => None,
            })
    });
    assert_eq!(
        started,
        Some(at),
        "rendered up to {rendered} when scheduled"
    );
    assert_eq!(output.health(), OutputHealth::Playing { recovered: None });
}
