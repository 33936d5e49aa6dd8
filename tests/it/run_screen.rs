//! `gongan run` on a real terminal: its full-screen view driven through tmux, keys sent as
//! a facilitator types them and the screen read back (issue 12): pause stops the elapsed
//! clock, notes wrap between words, overtime counts up as `+m:ss`, `q` asks before it
//! ends the session, and the debrief is left on the terminal. The time left is also drawn
//! in large digits when the window has room, coloured by how the segment stands unless
//! `NO_COLOR` or `TERM=dumb` says no.

use std::process::Command;
use std::time::{Duration, Instant};

/// The width of the tmux window: the notes below are longer than a line of it.
const COLUMNS: usize = 72;

/// The height of the tmux window: room for the view with its large clock.
const ROWS: usize = 40;

const PLAN: &str = r#"
name = "Screen drill"
[[segments]]
title = "Look around"
duration = "3m"
end = "wait"
notes = "Ask who holds the pager, then walk the runbook together: the dashboards, the alerts, and the escalation path. Unbreakablewordofthirtyletters stays whole."
"#;

/// A tmux session of its own (its own server socket), killed when dropped.
struct Tmux {
    socket: String,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// `gongan run drill.toml` at ×20 in a window of its own, started in `plan_dir` with
    /// the variables `env` (`NAME=value` each) set, its exit status printed when it ends.
    /// `NO_COLOR` is unset unless `env` sets it: whoever runs the tests may have it set.
    fn run(plan_dir: &std::path::Path, env: &[&str]) -> Tmux {
        let command = format!(
            "cd {} && env -u NO_COLOR RUST_LOG=off {} {} run drill.toml --output null --speed 20; echo EXITED $?; sleep 60",
            plan_dir.display(),
            env.join(" "),
            env!("CARGO_BIN_EXE_gongan"),
        );
        Tmux::start(&command)
    }

    fn start(command: &str) -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("tmux.sock").to_str().unwrap().to_owned();
        let tmux = Tmux { socket, _dir: dir };
        let status = tmux
            .command()
            .args(["new-session", "-d", "-s", "run", "-x"])
            .arg(COLUMNS.to_string())
            .arg("-y")
            .arg(ROWS.to_string())
            .arg(command)
            .env("TERM", "xterm-256color")
            .status()
            .expect("tmux runs (make test installs it)");
        assert!(status.success());
        tmux
    }

    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        // No one's ~/.tmux.conf: the window is what the test says it is.
        command.args(["-f", "/dev/null", "-S", &self.socket]);
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

    /// Makes the window `rows` tall, as a facilitator would by resizing theirs.
    fn resize(&self, rows: usize) {
        let status = self
            .command()
            .args(["resize-window", "-t", "run", "-y"])
            .arg(rows.to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn screen(&self) -> String {
        self.capture(&[])
    }

    /// The screen with its colours and attributes, as escape sequences.
    fn screen_with_colour(&self) -> String {
        self.capture(&["-e"])
    }

    fn capture(&self, options: &[&str]) -> String {
        let out = self
            .command()
            .args(["capture-pane", "-p", "-t", "run"])
            .args(options)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen satisfies `check` (it redraws ten times a second).
    #[track_caller]
    fn wait(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        self.wait_for(what, Tmux::screen, check)
    }

    /// Waits until the screen with its colours satisfies `check`.
    #[track_caller]
    fn wait_coloured(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        self.wait_for(what, Tmux::screen_with_colour, check)
    }

    #[track_caller]
    fn wait_for(
        &self,
        what: &str,
        capture: fn(&Tmux) -> String,
        check: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        loop {
            let screen = capture(self);
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

/// The rows of the large clock on a screen: its block digits.
fn big_clock(screen: &str) -> Vec<&str> {
    screen.lines().filter(|l| l.contains('█')).collect()
}

/// Whether a screen captured with its colours has any, or any other attribute: tmux writes
/// no escape sequence for a screen of plain text.
fn styled(screen: &str) -> bool {
    screen.contains('\u{1b}')
}

/// Whether the large clock on a screen captured with its colours is in the colour `sgr`
/// selects (crossterm writes the 16 colours as `38;5;N`, and tmux keeps that form).
fn clock_in(screen: &str, sgr: &str) -> bool {
    screen
        .lines()
        .any(|l| l.contains('█') && l.contains(&format!("\u{1b}[{sgr}m")))
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
    let tmux = Tmux::run(dir.path(), &[]);

    // Running, in plan time: a 3-minute segment shows minutes, not the 9 s it takes at x20.
    let screen = tmux.wait("the running segment", |s| {
        s.contains("running") && s.contains("Look around")
    });
    assert!(screen.contains(" left"), "{screen}");
    // The time left in large digits too, five rows of them, centred.
    let big = big_clock(&screen);
    assert_eq!(big.len(), 5, "{screen}");
    for row in &big {
        let margin = row.chars().take_while(|c| *c == ' ').count();
        assert!(margin > 10 && margin < COLUMNS / 2, "not centred: {screen}");
    }
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
    // Green while there is time to spare (the first two of the three minutes).
    tmux.wait_coloured("the clock in green", |s| clock_in(s, "38;5;2"));

    // Paused: the elapsed time stands still.
    tmux.keys(" ");
    let paused = tmux.wait("the pause", |s| s.contains("PAUSED"));
    let at_pause = elapsed(&paused);
    tmux.wait_coloured("the paused clock in blue", |s| clock_in(s, "38;5;12"));
    // Long enough at x20 for a running clock to move by seconds of plan time.
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        elapsed(&tmux.screen()),
        at_pause,
        "elapsed moved while paused"
    );
    tmux.keys(" ");
    tmux.wait("running again", |s| s.contains("running"));
    tmux.wait_coloured("the last minute in yellow", |s| {
        s.contains("running") && clock_in(s, "38;5;3")
    });

    // Overtime counts up.
    let over = tmux.wait("overtime", |s| {
        s.contains("OVERTIME") && s.contains(" over")
    });
    assert!(over.contains("+0:"), "{over}");
    // In red, the large digits with it.
    let red = tmux.wait_coloured("overtime in red", |s| clock_in(s, "38;5;9"));
    assert!(red.contains("OVERTIME"), "{red}");

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

#[test]
fn no_colour_when_no_color_is_set_or_the_terminal_is_dumb() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("drill.toml"), PLAN).unwrap();
    let sessions = [
        Tmux::run(dir.path(), &["NO_COLOR=1"]),
        Tmux::run(dir.path(), &["TERM=dumb"]),
    ];
    for tmux in &sessions {
        // Every screen until overtime, the large clock among them, is without colour.
        let over = tmux.wait_coloured("overtime", |s| {
            assert!(!styled(s), "coloured:\n{s:?}");
            s.contains("OVERTIME") && s.contains(" over")
        });
        assert_eq!(big_clock(&over).len(), 5, "{over}");
    }
}

#[test]
fn a_window_too_short_for_the_large_clock_keeps_the_one_line_clock() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("drill.toml"), PLAN).unwrap();
    let tmux = Tmux::run(dir.path(), &[]);
    tmux.wait("the large clock", |s| big_clock(s).len() == 5);
    // The view's 14 rows without it, at this width, leave no room for 5 more and a blank.
    tmux.resize(16);
    let short = tmux.wait("the one-line clock alone", |s| big_clock(s).is_empty());
    assert!(
        short.contains(" left") || short.contains(" over"),
        "{short}"
    );
    assert!(short.contains("Look around"), "{short}");
    tmux.resize(ROWS);
    tmux.wait("the large clock again", |s| big_clock(s).len() == 5);
}
