//! The tests' own PulseAudio: a null sink named `gongan` in a private runtime folder,
//! started, stopped and restarted only through `scripts/test-pulse` — the same script
//! `make test` uses — so the tests and the Makefile cannot start two different servers, and
//! no test ever touches the user's own sound server.
//!
//! The sound-path tests (the Makefile's `SOUND_TESTS`) run in a process pointed at that
//! server (`make test-sound`, or `scripts/test-pulse run cargo test --test it --
//! --test-threads=1 sound_path::`) and fail — never skip — anywhere else.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

/// The null sink's name; its monitor is `gongan.monitor`.
pub const SINK: &str = "gongan";

/// How to run the sound-path tests, for the messages of the tests that cannot run.
const HOW: &str = "the sound-path tests run against the tests' own PulseAudio: `make test-sound`, \
     or `scripts/test-pulse run cargo test --test it -- --test-threads=1 sound_path::` (a \
     new module of sound tests goes in the Makefile's SOUND_TESTS)";

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/test-pulse")
}

/// The private server's folder, when this process is pointed at it (by `scripts/test-pulse
/// run` or `eval "$(scripts/test-pulse env)"`): `PULSE_SERVER` and `PULSE_RUNTIME_PATH`
/// name it, so libpulse, ALSA's pulse plugin, `parec` and `pactl` all reach it and nothing
/// else.
fn private_dir() -> Result<String, String> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let dir = var("GONGAN_PULSE_DIR")?;
    let server = var("PULSE_SERVER")?;
    let runtime = var("PULSE_RUNTIME_PATH")?;
    let alsa = var("ALSA_CONFIG_PATH")?;
    if server != format!("unix:{dir}/native") || runtime != dir {
        return Err(format!(
            "PULSE_SERVER={server} and PULSE_RUNTIME_PATH={runtime} do not name {dir}"
        ));
    }
    if !alsa.ends_with(&format!("{dir}/asound.conf")) {
        return Err(format!(
            "ALSA_CONFIG_PATH={alsa} does not end with {dir}/asound.conf"
        ));
    }
    Ok(dir)
}

/// Runs `scripts/test-pulse ACTION` on the private server this process is pointed at.
fn test_pulse(action: &str) {
    let dir = private_dir().unwrap_or_else(|why| panic!("{why}: {HOW}"));
    let out = Command::new(script())
        .arg(action)
        .env("GONGAN_PULSE_DIR", &dir)
        .output()
        .unwrap_or_else(|e| panic!("scripts/test-pulse {action}: {e}"));
    assert!(
        out.status.success(),
        "scripts/test-pulse {action} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Fails with a message saying how to run the sound-path tests unless this process is
/// pointed at the tests' own PulseAudio; starts it again if an earlier test left it down;
/// then checks that it has the null sink.
pub fn require_null_sink() {
    test_pulse("start");
    let sinks = Command::new("pactl")
        .args(["list", "short", "sinks"])
        .output()
        .unwrap_or_else(|e| panic!("pactl is not installed ({e}); `make test` installs it"));
    let list = String::from_utf8_lossy(&sinks.stdout);
    assert!(
        sinks.status.success() && list.lines().any(|l| l.split('\t').nth(1) == Some(SINK)),
        "the tests' PulseAudio has no '{SINK}' null sink (pactl said: {list}{})",
        String::from_utf8_lossy(&sinks.stderr)
    );
}

/// Tests that use PulseAudio take turns with the one that stops it (they also run one at a
/// time in `make test`; this keeps a hand-run `cargo test` with threads from mixing them).
pub fn exclusive_pulse() -> MutexGuard<'static, ()> {
    static PULSE: Mutex<()> = Mutex::new(());
    PULSE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The private server, stopped; it is started again, with the same arguments as
/// `make test` starts it, when this is dropped — also when the test fails.
#[must_use = "the server starts again when this is dropped"]
pub struct Unplugged(());

/// Stops the tests' PulseAudio (never the user's), waiting until it is gone.
pub fn pull_the_plug() -> Unplugged {
    test_pulse("stop");
    Unplugged(())
}

impl Drop for Unplugged {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Best effort: a second panic would abort the test binary.
            let _ = Command::new(script()).arg("start").status();
        } else {
            test_pulse("start");
        }
    }
}

/// A second null sink on the tests' PulseAudio, unloaded when dropped.
pub struct ExtraSink(String);

impl ExtraSink {
    /// Loads a null sink called `name` (its monitor: `NAME.monitor`), at 48 kHz.
    pub fn load(name: &str) -> ExtraSink {
        let out = Command::new("pactl")
            .args([
                "load-module",
                "module-null-sink",
                &format!("sink_name={name}"),
                "rate=48000",
            ])
            .output()
            .expect("pactl runs");
        assert!(
            out.status.success(),
            "pactl load-module: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        ExtraSink(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }
}

impl Drop for ExtraSink {
    fn drop(&mut self) {
        let _ = Command::new("pactl")
            .args(["unload-module", &self.0])
            .status();
    }
}
