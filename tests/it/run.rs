//! `gongan run` end to end: the real binary on the null output, steered from its stdin
//! the way a facilitator steers it from the keyboard, each key sent after the event it
//! reacts to has been printed.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const PLAN: &str = r#"
name = "keyboard"
[[segments]]
title = "Warm-up"
duration = "20s"
density = "full"
[[segments]]
title = "Drill"
duration = "4s"
end = "wait"
entries = ["Ana", "Budi"]
"#;

#[test]
fn the_keyboard_steers_a_running_session() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("keyboard.toml");
    std::fs::write(&plan, PLAN).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gongan"))
        .args(["run", plan.to_str().unwrap(), "--output", "null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut keys = child.stdin.take().unwrap();
    let (tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let mut wait_for = |text: &str| -> String {
        loop {
            let line = lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no '{text}' line; saw:\n{}", seen.join("\n")));
            seen.push(line.clone());
            if line.contains(text) {
                return line;
            }
        }
    };
    // Each line starts with its session time, `m:ss.mmm`: milliseconds to compare.
    let frame_of = |line: &str| -> u64 {
        let stamp = line.split_whitespace().next().unwrap();
        let (minutes, seconds) = stamp.split_once(':').unwrap();
        let (seconds, millis) = seconds.split_once('.').unwrap();
        (minutes.parse::<u64>().unwrap() * 60 + seconds.parse::<u64>().unwrap()) * 1000
            + millis.parse::<u64>().unwrap()
    };

    wait_for("segment 1 'Warm-up' started");
    wait_for("stroke ketuk");
    keys.write_all(b" ").unwrap();
    let paused = frame_of(&wait_for(" paused"));
    keys.write_all(b" ").unwrap();
    let resumed = frame_of(&wait_for(" resumed"));
    // The same key twice can land in one 5 ms block: the pause may be empty, never negative.
    assert!(resumed >= paused);
    keys.write_all(b"n").unwrap();
    wait_for("skipped to the next segment");
    // The next segment starts where the facilitator moved on, with the suwuk (strokes on
    // a frame are reported before the segment that starts on it).
    let suwuk = wait_for("stroke suwukan (suwuk");
    let drill = wait_for("segment 2 'Drill' started");
    assert_eq!(frame_of(&drill), frame_of(&suwuk));
    wait_for("overtime; press n");
    // `s` spins the drill's wheel: it lands, with the gong, where and when it said.
    keys.write_all(b"s").unwrap();
    let spin = wait_for("the wheel spins");
    let (_, lands) = spin.split_once("lands on '").unwrap();
    let (entry, at) = lands.split_once("' at ").unwrap();
    assert!(["Ana", "Budi"].contains(&entry), "{spin}");
    let landing = wait_for("stroke gong (spin)");
    assert_eq!(frame_of(&landing), frame_of(at), "{spin} / {landing}");
    // `-` has no time to take off a segment past its deadline: refused, and it says why.
    keys.write_all(b"-").unwrap();
    wait_for("refused: the segment is already past its deadline");
    keys.write_all(b"n").unwrap();
    let gong = wait_for("stroke gong (session_end");
    let finished = wait_for("finished");
    assert!(finished.contains("finished"));
    assert!(frame_of(&gong) > frame_of(&suwuk));
    let status = child.wait().unwrap();
    assert!(status.success());
    // A pipe gets words, never the terminal view's colours or cursor moves.
    assert!(
        !seen.iter().any(|l| l.contains('\u{1b}')),
        "escape sequences in:\n{}",
        seen.join("\n")
    );
}

#[test]
fn a_bad_plan_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("bad.toml");
    std::fs::write(
        &plan,
        "name = \"x\"\n[[segments]]\ntitle = \"a\"\nduration = \"0s\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gongan"))
        .args(["run", plan.to_str().unwrap(), "--output", "null"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("segments[0]") && stderr.contains("duration"),
        "{stderr}"
    );
}
