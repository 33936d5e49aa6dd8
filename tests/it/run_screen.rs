//! `gongan run` on a real terminal: its full-screen view driven through tmux, keys sent as
//! a facilitator types them and the screen read back (issue 12): pause stops the elapsed
//! clock, notes wrap between words, overtime counts up as `+m:ss`, `q` asks before it
//! ends the session, and the debrief is left on the terminal.

use std::process::Command;
use std::time::{Duration, Instant};

/// The width of the tmux window: the notes below are longer than a line of it.
const COLUMNS: usize = 72;

const PLAN: &str = r#"
name = "Screen drill"
[[segments]]
title = "Look around"
duration = "2m"
end = "wait"
notes = "Ask who holds the pager, then walk the runbook together: the dashboards, the alerts, and the escalation path. Unbreakablewordofthirtyletters stays whole."
"#;

/// A tmux session of its own (its own server socket), killed when dropped.
struct Tmux {
    socket: String,
    _dir: tempfile::TempDir,
}

impl Tmux {
    fn start(command: &str) -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("tmux.sock").to_str().unwrap().to_owned();
        let tmux = Tmux { socket, _dir: dir };
        let status = tmux
            .command()
            .args(["new-session", "-d", "-s", "run", "-x"])
            .arg(COLUMNS.to_string())
            .args(["-y", "40", command])
            .env("TERM", "xterm-256color")
            .status()
            .expect("tmux runs (make test installs it)");
        assert!(status.success());
        tmux
    }

    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.args(["-S", &self.socket]);
        command
    }

    fn keys(&self, keys: &str) {
        let status = self
            .command()
            .args(["send-keys", "-t", "run", "-l", keys])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn screen(&self) -> String {
        let out = self
            .command()
            .args(["capture-pane", "-p", "-t", "run"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen satisfies `check` (it redraws ten times a second).
    #[track_caller]
    fn wait(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if check(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the screen never showed {what}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").status();
    }
}

/// The `elapsed m:ss` on a screen.
fn elapsed(screen: &str) -> String {
    screen
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("elapsed "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no elapsed line:\n{screen}"))
        .to_owned()
}

#[test]
fn the_terminal_view_pauses_wraps_counts_overtime_and_asks_before_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("drill.toml");
    std::fs::write(&plan, PLAN).unwrap();
    let command = format!(
        "cd {} && RUST_LOG=off {} run drill.toml --output null --speed 20; echo EXITED $?; sleep 60",
        dir.path().display(),
        env!("CARGO_BIN_EXE_gongan"),
    );
    let tmux = Tmux::start(&command);

    // Running, in plan time: a 2-minute segment shows minutes, not the 6 s it takes at x20.
    let screen = tmux.wait("the running segment", |s| {
        s.contains("running") && s.contains("Look around")
    });
    assert!(screen.contains(" left"), "{screen}");
    // Notes wrapped between words, inside the window.
    let notes: Vec<&str> = screen.lines().filter(|l| l.starts_with("  ")).collect();
    assert!(notes.len() >= 3, "{screen}");
    for line in &notes {
        assert!(line.chars().count() <= COLUMNS, "{line}");
    }
    assert!(
        screen.contains("Unbreakablewordofthirtyletters"),
        "{screen}"
    );
    assert!(!screen.contains("frame"), "no engine frames: {screen}");

    // Paused: the elapsed time stands still.
    tmux.keys(" ");
    let paused = tmux.wait("the pause", |s| s.contains("PAUSED"));
    let at_pause = elapsed(&paused);
    // Long enough at x20 for a running clock to move by seconds of plan time.
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        elapsed(&tmux.screen()),
        at_pause,
        "elapsed moved while paused"
    );
    tmux.keys(" ");
    tmux.wait("running again", |s| s.contains("running"));

    // Overtime counts up.
    let over = tmux.wait("overtime", |s| {
        s.contains("OVERTIME") && s.contains(" over")
    });
    assert!(over.contains("+0:"), "{over}");

    // q asks; another key answers no; q twice stops, and the debrief stays.
    tmux.keys("q");
    tmux.wait("the question", |s| s.contains("press q again to stop"));
    tmux.keys("x");
    tmux.keys("q");
    tmux.wait("the question again", |s| {
        s.contains("press q again to stop")
    });
    tmux.keys("q");
    let end = tmux.wait("the debrief", |s| s.contains("EXITED 0"));
    assert!(
        end.contains("# Debrief") || end.contains("Debrief"),
        "{end}"
    );
}
