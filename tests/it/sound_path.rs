//! The real sound path: cpal → ALSA → PulseAudio null sink, recorded from its monitor.
//!
//! `make test` starts PulseAudio with a null sink named `gongan`. These tests fail — never
//! skip — when it is not running: the sound path is part of what gongan promises.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gongan::audio::output::{DeviceOutput, OutputSpec, RunningOutput, start};
use gongan::audio::{Controller, EngineConfig, EngineEvent, Frame, Sound};

use crate::support::read_wav;

const SINK: &str = "gongan";

/// Fails with a message saying how to get PulseAudio when the null sink is missing.
pub fn require_null_sink() {
    let sinks = Command::new("pactl")
        .args(["list", "short", "sinks"])
        .output()
        .unwrap_or_else(|e| panic!("pactl is not installed ({e}); run `make test`"));
    let list = String::from_utf8_lossy(&sinks.stdout);
    assert!(
        sinks.status.success() && list.lines().any(|l| l.split('\t').nth(1) == Some(SINK)),
        "PulseAudio with the '{SINK}' null sink is not running; `make test` starts it \
         (pactl said: {list}{})",
        String::from_utf8_lossy(&sinks.stderr)
    );
}

/// A `parecord` of the null sink's monitor, as 32-bit float stereo at 48 kHz.
pub struct Recording {
    child: Child,
    path: PathBuf,
}

impl Recording {
    /// Starts recording and returns once audio is arriving in the file.
    pub fn start(dir: &Path) -> Recording {
        let path = dir.join("monitor.wav");
        let child = Command::new("parecord")
            .args([
                "--device",
                &format!("{SINK}.monitor"),
                "--rate=48000",
                "--channels=2",
                "--format=float32le",
                "--file-format=wav",
                "--latency-msec=10",
            ])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("parecord (pulseaudio-utils) must be installed; run `make test`");
        let recording = Recording { child, path };
        // Wait for the first audio (beyond the header) to land in the file.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(&recording.path).map_or(0, |m| m.len()) < 48_000 {
            assert!(Instant::now() < deadline, "parecord wrote no audio in 10 s");
            std::thread::sleep(Duration::from_millis(10));
        }
        recording
    }

    /// Frames of audio in the file so far (the header is 44 bytes; a few frames of error
    /// do not matter to a latency measured in milliseconds).
    pub fn frames_so_far(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |m| m.len().saturating_sub(44) / 8)
    }

    /// Stops recording (SIGINT, so parecord finishes the WAV header) and returns the
    /// samples as interleaved stereo.
    pub fn stop(mut self) -> Vec<f32> {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill");
        self.child.wait().expect("parecord exits");
        let (samples, channels, rate) = read_wav(&self.path);
        assert_eq!((channels, rate), (2, 48_000));
        samples
    }
}

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
    let dir = tempfile::tempdir().unwrap();
    let recording = Recording::start(dir.path());
    let (mut controller, output) = DeviceOutput::open(None, EngineConfig::default())
        .expect("the default ALSA device (PulseAudio) opens");
    let rate = controller.sample_rate();
    let sound = burst(rate);
    let at = controller.now() + Frame::from_seconds(0.2, rate);
    controller.play(sound, at, 1.0).unwrap();
    wait_until_played(&mut controller, 0.5);
    assert_eq!(output.fault(), None);
    drop(output);
    let samples = recording.stop();

    let start = onset(&samples, 0.1).expect("the stroke is in the recording");
    let end = samples.len() / 2 - onset(&reversed(&samples), 0.1).unwrap();
    let length = (end - start) as f64 / 48_000.0;
    assert!((0.19..0.21).contains(&length), "burst lasted {length} s");
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
    assert!((990.0..1010.0).contains(&hz), "{hz} Hz");
}

#[test]
fn the_default_output_is_the_sound_card_when_there_is_one() {
    let _pulse = exclusive_pulse();
    require_null_sink();
    let (controller, output) = start(&OutputSpec::Device(None), EngineConfig::default()).unwrap();
    assert!(
        matches!(output, RunningOutput::Device(_)),
        "{}",
        output.describe()
    );
    // Its clock runs: wait for it to pass a tenth of a second of frames.
    let target = Frame::from_seconds(0.1, controller.sample_rate());
    let deadline = Instant::now() + Duration::from_secs(5);
    while controller.now() < target {
        assert!(
            Instant::now() < deadline,
            "the device clock does not advance"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn reversed(samples: &[f32]) -> Vec<f32> {
    samples.chunks_exact(2).rev().flatten().copied().collect()
}

/// A sound server that dies mid-play is reported — once, in one clear line — and the
/// command ends with an error instead of crashing or flooding the log. PulseAudio is
/// restarted afterwards, as `make test` starts it.
#[test]
fn a_vanishing_sound_card_is_reported_not_a_crash() {
    let _pulse = exclusive_pulse();
    require_null_sink();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gongan"))
        .args(["pack", "play", "--only", "gong,kenong", "--gap", "2"])
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
    let killed = Command::new("pulseaudio").arg("--kill").status().unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    restart_pulse();
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
        .filter_map(|l| l.split("sound card error: ").nth(1))
        .collect();
    let distinct: std::collections::HashSet<_> = errors.iter().collect();
    assert_eq!(errors.len(), distinct.len(), "{stderr}");
}

/// Tests that use PulseAudio take turns with the one that restarts it.
pub fn exclusive_pulse() -> std::sync::MutexGuard<'static, ()> {
    static PULSE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    PULSE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts PulseAudio with the null sink exactly as `make test` does, and waits for it.
fn restart_pulse() {
    let _ = Command::new("pulseaudio")
        .args([
            "-D",
            "--exit-idle-time=-1",
            "-n",
            "--load=module-null-sink sink_name=gongan",
            "--load=module-native-protocol-unix",
        ])
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let sinks = Command::new("pactl")
            .args(["list", "short", "sinks"])
            .output();
        if sinks.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(SINK)) {
            return;
        }
        assert!(Instant::now() < deadline, "PulseAudio did not come back");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// With no sound card to open (here: no sound server where ALSA looks), the default
/// output falls back to the paced null output with a warning, and the strokes still play
/// on its clock.
#[test]
fn without_a_sound_card_the_null_output_takes_over() {
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
