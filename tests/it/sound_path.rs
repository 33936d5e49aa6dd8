//! The real sound path: cpal → ALSA → PulseAudio null sink, recorded from its monitor.
//!
//! These tests run against the tests' own PulseAudio (`tests/it/pulse.rs`,
//! `scripts/test-pulse`), one at a time and after the rest of the suite (`make test-sound`).
//! They fail — never skip — without it: the sound path is part of what gongan promises.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gongan::audio::output::{
    DeviceOutput, Latency, OutputError, OutputHealth, OutputKind, OutputSpec, PulseOutput,
    RunningOutput, STARTUP, start,
};
use gongan::audio::{
    Controller, DEFAULT_SAMPLE_RATE, EngineConfig, EngineEvent, Frame, HostTime, Sound,
};

use crate::pulse::{ExtraSink, SINK, exclusive_pulse, pull_the_plug, require_null_sink};
use crate::recorder::{RATE, Recording, click, click_starts, dropouts};

/// Waits (on the engine's own reports) until `id`'s sound has been fully rendered,
/// then until the frame clock is `tail` seconds past it, so the device has played it out.
pub fn wait_until_played(controller: &mut Controller, tail: f64) -> Frame {
    let deadline = Instant::now() + Duration::from_secs(20);
    let finished = loop {
        let done = controller.events().into_iter().find_map(|e| match e {
            EngineEvent::Finished { frame, .. } => Some(frame),
            _ => None,
        });
        if let Some(frame) = done {
            break frame;
        }
        assert!(
            Instant::now() < deadline,
            "the stroke never finished playing"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    let until = finished + Frame::from_seconds(tail, controller.sample_rate());
    while controller.now() < until {
        assert!(Instant::now() < deadline, "the frame clock stopped");
        std::thread::sleep(Duration::from_millis(5));
    }
    finished
}

/// The first frame whose level passes `threshold`.
pub fn onset(samples: &[f32], threshold: f32) -> Option<usize> {
    samples
        .iter()
        .position(|s| s.abs() > threshold)
        .map(|i| i / 2)
}

/// A 1 kHz tone burst: a stroke that is easy to find and measure in a recording.
fn burst(rate: u32) -> Arc<Sound> {
    let frames = rate as usize / 5;
    let samples = (0..frames)
        .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / rate as f32 + 0.5).sin())
        .collect();
    Arc::new(Sound::mono(rate, samples).unwrap())
}

#[test]
fn a_stroke_played_through_the_sound_card_is_recorded() {
    let _pulse = exclusive_pulse();
    require_null_sink();
    let recording = Recording::start();
    let (mut controller, output) = DeviceOutput::open(None, EngineConfig::default())
        .expect("the default ALSA device (PulseAudio) opens");
    let rate = controller.sample_rate();
    let sound = burst(rate);
    let at = controller.now() + Frame::from_seconds(0.2, rate);
    controller.play(sound, at, 1.0).unwrap();
    wait_until_played(&mut controller, 0.5);
    assert_eq!(output.fault(), None);
    drop(output);
    let samples = recording.stop().samples;

    let start = onset(&samples, 0.1).expect("the stroke is in the recording");
    let end = samples.len() / 2 - onset(&reversed(&samples), 0.1).unwrap();
    let length = (end - start) as f64 / f64::from(RATE);
    assert!(
        (0.19..0.21).contains(&length),
        "burst lasted {length} s; gaps of silence inside it (first frame, frames): {:?}",
        dropouts(&samples[2 * start..2 * end], 48)
    );
    let peak = samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    assert!((0.4..=0.55).contains(&peak), "peak {peak}");
    // Its pitch survived the trip: about 1000 Hz from the zero crossings of the left side.
    let left: Vec<f32> = samples[2 * start..2 * end]
        .iter()
        .step_by(2)
        .copied()
        .collect();
    let crossings = left
        .windows(2)
        .filter(|w| w[0] < 0.0 && w[1] >= 0.0)
        .count();
    let hz = crossings as f64 / length;
    assert!(
        (990.0..1010.0).contains(&hz),
        "{hz} Hz; gaps of silence inside the burst (first frame, frames): {:?}",
        dropouts(&samples[2 * start..2 * end], 48)
    );
}

/// With a PulseAudio server, the default output speaks its protocol (and rewrites its
/// queue for a cue asked for now); a device named is opened through cpal.
#[test]
fn the_default_output_is_pulseaudio_s_protocol_when_a_server_answers() {
    let _pulse = exclusive_pulse();
    require_null_sink();
    let (controller, output) = start(&OutputSpec::Device(None), EngineConfig::default()).unwrap();
    assert!(
        matches!(output, RunningOutput::Pulse(_)),
        "{}",
        output.describe()
    );
    assert_eq!(output.describe(), format!("pulse:{SINK}"));
    assert_eq!(output.kind(), OutputKind::Device);
    assert_clock_runs(&controller);
    drop(output);

    let named = OutputSpec::Device(Some(SINK.into()));
    let (controller, output) = start(&named, EngineConfig::default()).unwrap();
    assert!(
        matches!(output, RunningOutput::Device(_)),
        "{}",
        output.describe()
    );
    assert_clock_runs(&controller);
}

/// Waits for the output's clock to pass a tenth of a second of frames.
fn assert_clock_runs(controller: &Controller) {
    let target = Frame::from_seconds(0.1, controller.sample_rate());
    let deadline = Instant::now() + Duration::from_secs(5);
    while controller.now() < target {
        assert!(
            Instant::now() < deadline,
            "the output's clock does not advance"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn reversed(samples: &[f32]) -> Vec<f32> {
    samples.chunks_exact(2).rev().flatten().copied().collect()
}

/// A sound server that dies mid-play is reported — once, in one clear line — and the
/// command ends with an error instead of crashing or flooding the log. The server is the
/// tests' own; it is started again afterwards exactly as `make test` starts it. Through the
/// default output (PulseAudio's protocol), whose messages start with `PulseAudio output: `.
#[test]
fn a_vanishing_sound_card_is_reported_not_a_crash() {
    vanishing_sound_card(&[], "PulseAudio output: ");
}

/// The same through cpal, whose messages say `sound card error: `.
#[test]
fn a_vanishing_sound_card_is_reported_not_a_crash_through_cpal() {
    vanishing_sound_card(
        &["--output", &format!("device:{SINK}")],
        "sound card error: ",
    );
}

fn vanishing_sound_card(output: &[&str], logged: &str) {
    let _pulse = exclusive_pulse();
    require_null_sink();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gongan"))
        .args(["pack", "play", "--only", "gong,kenong", "--gap", "2"])
        .args(output)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Pull the plug once it is playing (its first stroke is printed).
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    if !first.contains("kenong 1") {
        let out = child.wait_with_output().unwrap();
        panic!(
            "no first stroke: {first} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let unplugged = pull_the_plug();
    let out = child.wait_with_output().unwrap();
    drop(unplugged);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "it should fail: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("gongan: the sound card failed")),
        "{stderr}"
    );
    // Each distinct error is logged once, not once per failed call (thousands a second).
    let errors: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.split(logged).nth(1))
        .collect();
    assert!(!errors.is_empty(), "no '{logged}' line: {stderr}");
    let distinct: std::collections::HashSet<_> = errors.iter().collect();
    assert_eq!(errors.len(), distinct.len(), "{stderr}");
}

/// With no sound card to open (here: no sound server where ALSA looks), the default
/// output falls back to the paced null output with a warning, and the strokes still play
/// on its clock.
#[test]
fn without_a_sound_card_the_null_output_takes_over() {
    // Only where the default ALSA device is the pulse plugin does a missing server mean a
    // missing sound card: the tests' PulseAudio environment makes sure of that.
    require_null_sink();
    let out = Command::new(env!("CARGO_BIN_EXE_gongan"))
        .args(["pack", "play", "--only", "ketuk"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PULSE_SERVER", "unix:/nonexistent/gongan-test")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("playing to the null output instead"),
        "{stderr}"
    );
    assert!(stderr.contains("playing to null"), "{stderr}");
    assert!(stdout.contains("ketuk"), "{stdout}");
}

/// The recorder's clock (`tests/it/recorder.rs`) against clicks written at known instants
/// into a `pacat` stream: no click may be placed before it was written, and they land a
/// fraction of a millisecond after (the transfer to the server; the sink plays a stream
/// that returns from an underrun at once). `paplay` of a WAV file is timed the same way,
/// from the request to the sound: the reference the HTTP cue → heard delay is held to
/// (PRODUCT.md §8).
#[test]
fn the_recorder_places_a_click_after_it_was_written_and_within_a_millisecond() {
    const CLICKS: usize = 30;
    const PLAYS: usize = 10;
    let _pulse = exclusive_pulse();
    require_null_sink();
    let dir = tempfile::tempdir().unwrap();
    let click = click();
    let wav = dir.path().join("click.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(&wav, spec).unwrap();
    for &s in &click {
        writer.write_sample(s).unwrap();
        writer.write_sample(s).unwrap();
    }
    writer.finalize().unwrap();
    let bytes: Vec<u8> = click
        .iter()
        .flat_map(|s| [s.to_le_bytes(), s.to_le_bytes()])
        .flatten()
        .collect();

    let recording = Recording::start();
    let mut pacat = Command::new("pacat")
        .args([
            "--playback",
            "--raw",
            "--format=float32le",
            "--rate=48000",
            "--channels=2",
            "--latency-msec=2",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .expect("pacat (pulseaudio-utils) must be installed; `make test` installs it");
    let mut stdin = pacat.stdin.take().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut written = Vec::new();
    for k in 0..CLICKS {
        // 120–190 ms apart, at no fixed phase of the sink's blocks.
        std::thread::sleep(Duration::from_micros(120_000 + 7_919 * (k as u64 % 9)));
        let at = Instant::now();
        stdin.write_all(&bytes).unwrap();
        written.push(at);
    }
    std::thread::sleep(Duration::from_millis(200));
    drop(stdin);
    assert!(pacat.wait().unwrap().success());
    let mut requested = Vec::new();
    for _ in 0..PLAYS {
        std::thread::sleep(Duration::from_millis(150));
        requested.push(Instant::now());
        let played = Command::new("paplay").arg(&wav).status().unwrap();
        assert!(played.success());
    }
    std::thread::sleep(Duration::from_millis(200));
    let recorded = recording.stop();

    // Each click sent is the first one found from 5 ms before it was sent on. A player
    // that stalled plays clicks back to back, and a rewind can leave a click twice in the
    // monitor: the extra copies are not matched to anything.
    let found = click_starts(&recorded.samples);
    let clock = recorded.clock;
    let mut next = 0;
    // (frame it was sent at, frame it was heard at), for each click sent.
    let mut heard = |sent: &[Instant]| -> Vec<(f64, f64)> {
        sent.iter()
            .map(|&sent| {
                let at = clock.frame_at(sent);
                let from = at - f64::from(RATE) * 0.005;
                let k = next
                    + found[next..]
                        .iter()
                        .position(|&frame| frame >= from)
                        .unwrap_or_else(|| panic!("no click heard after {from:.0}: {found:?}"));
                next = k + 1;
                (at, found[k])
            })
            .collect()
    };
    let clicked = heard(&written);
    let played = heard(&requested);
    let delays = |pairs: &[(f64, f64)]| -> Vec<f64> {
        let mut ms: Vec<f64> = pairs
            .iter()
            .map(|(sent, heard)| (heard - sent) / f64::from(RATE) * 1e3)
            .collect();
        ms.sort_by(f64::total_cmp);
        ms
    };
    let clicks = delays(&clicked);
    let plays = delays(&played);
    println!(
        "recorder ({}): pacat write -> heard min {:.3} / median {:.3} / max {:.3} ms \
         ({CLICKS} clicks); paplay request -> heard min {:.2} / median {:.2} / max {:.2} ms \
         ({PLAYS}); {} clicks found in all",
        clock.describe(),
        clicks[0],
        clicks[CLICKS / 2],
        clicks[CLICKS - 1],
        plays[0],
        plays[PLAYS / 2],
        plays[PLAYS - 1],
        found.len(),
    );
    // Causality holds under any load: a late reader only moves the clock later.
    assert!(
        clicks[0] > -0.25,
        "a click was placed {:.3} ms before it was written: the recorder's clock runs \
         early ({}; all: {clicks:?}; (written, heard) at frames {clicked:?}; found: {found:?})",
        -clicks[0],
        clock.describe()
    );
    assert!(plays[0] > 0.0, "paplay heard before asked: {plays:?}");
    // And it is not off by a whole click: most are heard at once.
    assert!(
        clicks[CLICKS / 2] < 20.0,
        "pacat write -> heard, median {:.3} ms: {clicks:?}",
        clicks[CLICKS / 2]
    );
}

/// Keeps the control side of `controller` current for `how_long`, as the conductor does:
/// the output's timing reports into the clock mapping, the renderer's reports taken.
fn keep_up(controller: &mut Controller, how_long: Duration) {
    let until = Instant::now() + how_long;
    while Instant::now() < until {
        controller.sync_clock();
        controller.events();
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Through PulseAudio's own protocol a cue asked for now is written into the audio already
/// queued: heard within a few milliseconds, long before the 40 ms queue has played out,
/// whole, and when the engine said it would be.
#[test]
fn a_cue_asked_for_now_through_pulse_is_heard_before_the_queue_plays_out() {
    const CUES: usize = 12;
    let _pulse = exclusive_pulse();
    require_null_sink();
    let recording = Recording::start();
    let (mut controller, output) = open_pulse();
    let click = Arc::new(Sound::mono(controller.sample_rate(), click()).unwrap());
    keep_up(&mut controller, Duration::from_millis(500));
    assert_eq!(output.fault(), None);
    let queued = output.latency().expect("the output reports its latency");
    let mut asked = Vec::new();
    for k in 0..CUES {
        // 150–220 ms apart, at no fixed phase of the stream's requests.
        keep_up(
            &mut controller,
            Duration::from_micros(150_000 + 7_919 * (k as u64 % 9)),
        );
        let now = Instant::now();
        // As the server schedules a cue asked for now.
        let at = controller.earliest_frame();
        let promised = controller.output_clock().heard_at(at);
        controller.play(click.clone(), at, 1.0).unwrap();
        asked.push((now, promised.saturating_since(HostTime::now())));
    }
    keep_up(&mut controller, Duration::from_millis(300));
    drop(output);
    let recorded = recording.stop();

    let found = click_starts(&recorded.samples);
    assert_eq!(found.len(), CUES, "clicks heard: {found:?}");
    let delays: Vec<f64> = asked
        .iter()
        .zip(&found)
        .map(|((sent, _), heard)| (heard - recorded.clock.frame_at(*sent)) / f64::from(RATE) * 1e3)
        .collect();
    let promised: Vec<f64> = asked.iter().map(|(_, p)| p.as_secs_f64() * 1e3).collect();
    println!(
        "pulse: queue {:.1} ms; asked -> heard {delays:.2?} ms; promised {promised:.2?} ms",
        queued.as_secs_f64() * 1e3
    );
    let worst = delays.iter().copied().fold(f64::MIN, f64::max);
    assert!(
        delays.iter().all(|d| *d > -0.5) && worst < queued.as_secs_f64() * 1e3 / 2.0,
        "heard {delays:?} ms after being asked, with {queued:?} queued"
    );
    // What the engine promised is what happened, within a couple of milliseconds.
    for (d, p) in delays.iter().zip(&promised) {
        assert!(
            (d - p).abs() < 3.0,
            "heard after {d:.2} ms, promised {p:.2} ms"
        );
    }
}

/// Waits (keeping the control side current) until `output`'s health passes `test`.
fn wait_for_health(
    controller: &mut Controller,
    output: &PulseOutput,
    what: &str,
    test: impl Fn(&OutputHealth) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !test(&output.health()) {
        assert!(
            Instant::now() < deadline,
            "not {what} after 10 s: {:?}",
            output.health()
        );
        keep_up(controller, Duration::from_millis(10));
    }
}

/// The sound server stopped and started again under a pulse output: it says it is down,
/// reconnects by itself, and a cue asked for now afterwards is heard at once again.
#[test]
fn a_pulse_output_comes_back_with_its_sound_server() {
    let _pulse = exclusive_pulse();
    require_null_sink();
    let (mut controller, output) = open_pulse();
    wait_for_health(&mut controller, &output, "playing", |h| h.fault().is_none());
    let unplugged = pull_the_plug();
    wait_for_health(&mut controller, &output, "degraded", |h| {
        h.fault().is_some()
    });
    let rendered_while_down = controller.now();
    drop(unplugged);
    wait_for_health(&mut controller, &output, "playing again", |h| {
        matches!(h, OutputHealth::Playing { recovered: Some(_) })
    });
    // The frame clock goes on from where it was: the same engine plays the new stream.
    assert!(controller.now() >= rendered_while_down);

    let recording = Recording::start();
    keep_up(&mut controller, Duration::from_millis(300));
    let click = Arc::new(Sound::mono(controller.sample_rate(), click()).unwrap());
    let asked = Instant::now();
    let at = controller.earliest_frame();
    controller.play(click, at, 1.0).unwrap();
    keep_up(&mut controller, Duration::from_millis(300));
    assert_eq!(output.fault(), None);
    drop(output);
    let recorded = recording.stop();
    let found = click_starts(&recorded.samples);
    assert_eq!(found.len(), 1, "clicks heard: {found:?}");
    let delay = (found[0] - recorded.clock.frame_at(asked)) / f64::from(RATE) * 1e3;
    assert!(
        (0.0..20.0).contains(&delay),
        "heard {delay:.2} ms after being asked"
    );
}

/// A pulse output on the tests' server's default sink, at the default latency.
fn open_pulse() -> (Controller, PulseOutput) {
    PulseOutput::open(None, EngineConfig::default(), Latency::DEFAULT)
        .expect("a PulseAudio server to play to (scripts/test-pulse starts one)")
}

/// Waits until `ready` gives a value, for at most `within`.
fn poll_for<T>(within: Duration, mut ready: impl FnMut() -> Option<T>) -> Option<T> {
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
fn a_pulse_output_plays_to_the_server_and_measures_its_latency() {
    let _pulse = exclusive_pulse();
    require_null_sink();
    let (controller, output) = open_pulse();
    assert_eq!(output.health(), OutputHealth::Playing { recovered: None });
    assert_eq!(output.fault(), None);
    assert_eq!(
        *output.watch().borrow(),
        OutputHealth::Playing { recovered: None }
    );
    assert!(!output.name().is_empty());
    poll_for(Duration::from_secs(2), || output.latency()).expect("a latency report within 2 s");
    // The server asks for audio and the engine renders it: its clock moves. An idle null
    // sink first finishes the long block it was rendering (up to 2 s).
    let moving = poll_for(STARTUP, || {
        (controller.now() > Frame(u64::from(DEFAULT_SAMPLE_RATE) / 10)).then_some(())
    });
    assert!(moving.is_some(), "the engine rendered nothing");
    // Once it plays, about the latency asked for is queued.
    let settled = poll_for(Duration::from_secs(1), || {
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
        dropped.elapsed() < Duration::from_secs(3),
        "the output took long to stop"
    );
}

#[test]
fn a_pulse_sink_the_server_does_not_have_is_no_device() {
    let _pulse = exclusive_pulse();
    require_null_sink();
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

/// The server moves gongan's stream to another sink, as a user does in a mixer: the output
/// (and so `/healthz`) names the sink it plays to now.
#[test]
fn a_pulse_output_moved_to_another_sink_says_where_it_plays() {
    let _pulse = exclusive_pulse();
    require_null_sink();
    let _other = ExtraSink::load("gongan-moved-to");
    let (_controller, output) = open_pulse();
    assert_eq!(output.name(), SINK);
    let inputs = Command::new("pactl")
        .args(["list", "short", "sink-inputs"])
        .output()
        .expect("pactl runs");
    let inputs = String::from_utf8_lossy(&inputs.stdout);
    // The output's stream is the only one playing (the recorder's would be a record stream).
    let ours: Vec<&str> = inputs
        .lines()
        .filter_map(|l| l.split('\t').next())
        .collect();
    assert_eq!(ours.len(), 1, "{inputs}");
    let moved = Command::new("pactl")
        .args(["move-sink-input", ours[0], "gongan-moved-to"])
        .status()
        .expect("pactl runs");
    assert!(moved.success());
    poll_for(Duration::from_secs(5), || {
        (output.name() == "gongan-moved-to").then_some(())
    })
    .unwrap_or_else(|| panic!("still says it plays to {}", output.name()));
    assert_eq!(
        RunningOutput::Pulse(output).describe(),
        "pulse:gongan-moved-to"
    );
}

#[test]
fn a_sound_scheduled_inside_the_pulse_queue_is_written_into_it() {
    let _pulse = exclusive_pulse();
    require_null_sink();
    let (mut controller, output) = open_pulse();
    let rate = u64::from(DEFAULT_SAMPLE_RATE);
    poll_for(STARTUP, || {
        (controller.now() > Frame(rate / 10)).then_some(())
    })
    .expect("the engine rendered nothing");
    let click = Arc::new(Sound::mono(DEFAULT_SAMPLE_RATE, vec![0.5; 48]).expect("a sound"));
    // A millisecond before the last frame rendered: queued, far from the sink yet (about
    // 30 ms are queued), so it is written there rather than at the next block.
    let rendered = controller.now();
    let at = Frame(rendered.0 - rate / 1000);
    controller.play(click, at, 1.0).expect("scheduled");
    let started = poll_for(Duration::from_secs(1), || {
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
