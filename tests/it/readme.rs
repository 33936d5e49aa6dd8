//! The README's commands, run as a new user runs them: the installed binary, from a folder
//! outside the checkout, with a home of its own (so the data dir starts empty and nothing
//! in the source tree — `sounds/default`, `plans/` — can be found by accident). Every command
//! of the README's list is run at least once; a command added to the README without being
//! run here fails the test.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use serde_json::Value;

use crate::serve_process::ServeProcess;
use crate::support::read_wav;

/// The commands that take a subcommand: `gongan pack check` and `gongan pack new` are
/// different commands of the README's list, `gongan run X` and `gongan run Y` the same.
const WITH_SUBCOMMANDS: [&str; 3] = ["pack", "session", "link"];

/// `pack play` → `gongan pack play`; `run wheel-of-misfortune` → `gongan run`.
fn command_key(words: &[&str]) -> String {
    match words {
        [command, sub, ..] if WITH_SUBCOMMANDS.contains(command) => {
            format!("gongan {command} {sub}")
        }
        [command, ..] => format!("gongan {command}"),
        [] => panic!("no command"),
    }
}

/// Every command the README's "Commands" list names, alternatives included
/// (`gongan session start … | pause | resume` names three).
fn readme_commands() -> BTreeSet<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let list = readme
        .split_once("## Commands")
        .expect("the README has a Commands section")
        .1;
    let block = list
        .split("```")
        .nth(1)
        .expect("the Commands section opens with a code block");
    let mut keys = BTreeSet::new();
    for line in block.lines() {
        let usage = line.split(" #").next().unwrap();
        let Some(rest) = usage.trim().strip_prefix("gongan ") else {
            continue;
        };
        let mut alternatives = rest.split(" | ");
        let first: Vec<&str> = alternatives.next().unwrap().split_whitespace().collect();
        keys.insert(command_key(&first));
        for alternative in alternatives {
            let sub = alternative.split_whitespace().next().unwrap();
            keys.insert(command_key(&[first[0], sub]));
        }
    }
    keys
}

/// A user on a fresh account: a working folder and a home, both temporary, and the
/// commands they ran.
struct Stranger {
    folder: tempfile::TempDir,
    home: tempfile::TempDir,
    ran: Mutex<BTreeSet<String>>,
}

impl Stranger {
    fn new() -> Stranger {
        let folder = tempfile::tempdir().unwrap();
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert!(!folder.path().starts_with(manifest));
        Stranger {
            folder,
            home: tempfile::tempdir().unwrap(),
            ran: Mutex::new(BTreeSet::new()),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.folder.path().join(name)
    }

    /// The data dir every command finds by default.
    fn data_dir(&self) -> PathBuf {
        self.home.path().join(".local/share/gongan")
    }

    /// What every process of this user runs in: their folder, their home, none of the
    /// developer's settings.
    fn configure(&self, command: &mut Command) {
        command
            .current_dir(self.folder.path())
            .env("HOME", self.home.path())
            .env("XDG_DATA_HOME", self.home.path().join(".local/share"))
            .env_remove("XDG_CONFIG_HOME");
        for (variable, _) in std::env::vars() {
            if variable.starts_with("GONGAN_") {
                command.env_remove(variable);
            }
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        self.ran.lock().unwrap().insert(command_key(args));
        let mut command = Command::new(env!("CARGO_BIN_EXE_gongan"));
        self.configure(&mut command);
        command.args(args).env("RUST_LOG", "off");
        command
    }

    /// Runs `gongan ARGS`, which must succeed; what it printed.
    async fn run(&self, args: &[&str]) -> String {
        let mut command = self.command(args);
        let output: Output = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        assert!(
            output.status.success(),
            "gongan {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn ran(&self) -> BTreeSet<String> {
        self.ran.lock().unwrap().clone()
    }
}

/// The loudest sample of a WAV file the user made.
fn peak(path: &Path) -> f32 {
    let (samples, _, _) = read_wav(path);
    samples.iter().fold(0.0f32, |m, s| m.max(s.abs()))
}

#[test]
fn the_readme_list_is_read_whole() {
    let keys = readme_commands();
    for key in [
        "gongan serve",
        "gongan session start",
        "gongan session extend",
        "gongan session time-left",
        "gongan session jump",
        "gongan session status",
        "gongan run",
        "gongan pack install",
        "gongan link revoke",
        "gongan devices",
    ] {
        assert!(keys.contains(key), "{key} not in {keys:?}");
    }
    // No option or placeholder read as a command (`time-left` is one).
    assert!(
        !keys
            .iter()
            .any(|k| k.contains('[') || k.split(' ').any(|word| word.starts_with('-'))),
        "{keys:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_readme_command_works_from_a_folder_outside_the_checkout() {
    let user = Stranger::new();

    // What is there to run, and on what.
    let plans = user.run(&["plans"]).await;
    assert!(plans.contains("wheel-of-misfortune"), "{plans}");
    let devices = user.run(&["devices"]).await;
    assert!(!devices.trim().is_empty());

    // The built-in packs, rendered to folders.
    user.run(&["synth", "-o", "default-pack"]).await;
    assert!(user.path("default-pack/pack.toml").is_file());
    assert!(peak(&user.path("default-pack/gong.wav")) > 0.1);
    user.run(&["synth", "--pack", "bali", "-o", "bali-pack"])
        .await;
    let bali = std::fs::read_to_string(user.path("bali-pack/pack.toml")).unwrap();
    assert!(bali.contains("bali"), "{bali}");

    // A pack of one's own: start, check, hear, install (a folder and an archive).
    user.run(&["pack", "new", "mine"]).await;
    let checked = user.run(&["pack", "check", "mine"]).await;
    assert!(!checked.trim().is_empty());
    user.run(&["pack", "play", "--output", "wav:default-play.wav"])
        .await;
    assert!(peak(&user.path("default-play.wav")) > 0.1);
    user.run(&["pack", "play", "mine", "--output", "wav:mine-play.wav"])
        .await;
    assert!(peak(&user.path("mine-play.wav")) > 0.01);
    user.run(&["pack", "install", "mine"]).await;
    assert!(user.data_dir().join("packs/mine/pack.toml").is_file());
    let tar = Command::new("tar")
        .args(["czf", "mine.tar.gz", "mine"])
        .current_dir(user.folder.path())
        .status()
        .unwrap();
    assert!(tar.success());
    user.run(&["pack", "install", "mine.tar.gz", "--name", "archived"])
        .await;
    assert!(user.data_dir().join("packs/archived/pack.toml").is_file());

    // A whole session offline, with the default pack and with an installed one.
    user.run(&[
        "render",
        "chaos-game-day",
        "-o",
        "day.wav",
        "--speed",
        "30",
        "--events",
        "strokes.json",
    ])
    .await;
    assert!(peak(&user.path("day.wav")) > 0.1);
    let strokes: Value =
        serde_json::from_slice(&std::fs::read(user.path("strokes.json")).unwrap()).unwrap();
    let strokes = strokes.as_array().expect("strokes.json is a list");
    assert!(strokes.iter().any(|s| s.to_string().contains("gong")));
    user.run(&[
        "render",
        "wheel-of-misfortune",
        "-o",
        "mine.wav",
        "--speed",
        "60",
        "--pack",
        "mine",
    ])
    .await;
    assert!(peak(&user.path("mine.wav")) > 0.1);

    // A session in the terminal, stopped from the keyboard.
    run_in_the_terminal(&user).await;

    // The local records: none yet; links; the receivers.
    let history = user.run(&["history"]).await;
    assert!(history.contains("no sessions"), "{history}");
    let created = user
        .run(&[
            "link",
            "create",
            "stream-deck",
            "--allow",
            "next,pause,resume,cue:gong",
        ])
        .await;
    assert!(created.contains("/l/"), "{created}");
    let links = user.run(&["link", "list"]).await;
    assert!(links.contains("stream-deck"), "{links}");
    user.run(&["link", "revoke", "stream-deck"]).await;
    let links = user.run(&["link", "list"]).await;
    assert!(!links.contains("stream-deck"), "{links}");
    let hooks = user.run(&["hooks"]).await;
    assert!(hooks.contains("/hooks/slack"), "{hooks}");

    // The server, and the commands that talk to it.
    user.ran.lock().unwrap().insert("gongan serve".into());
    let server =
        ServeProcess::start_with(|command| user.configure(command), &["--pack", "default"]).await;
    let url = server.base.clone();
    let remote = |args: &[&str]| -> Vec<String> {
        let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        all.extend(["--server".to_owned(), url.clone()]);
        all
    };
    async fn remote_run(user: &Stranger, args: Vec<String>) -> String {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        user.run(&args).await
    }
    remote_run(&user, remote(&["cue", "gong"])).await;
    remote_run(
        &user,
        remote(&["pack", "install", "mine", "--name", "uploaded"]),
    )
    .await;
    let packs = server.call(hyper::Method::GET, "/v1/packs", None).await;
    assert!(packs.to_string().contains("\"uploaded\""), "{packs}");
    let mut events = server.events().await;
    remote_run(
        &user,
        remote(&["session", "start", "wheel-of-misfortune", "--speed", "60"]),
    )
    .await;
    // Steering waits for the opening phrase to land.
    events.until("segment_started").await;
    for steer in [
        &["session", "pause"][..],
        &["session", "resume"],
        &["session", "next"],
        &["session", "previous"],
        &["session", "extend", "5m"],
        &["session", "shorten", "1m"],
        &["session", "time-left", "5m"],
        &["session", "jump", "2"],
    ] {
        remote_run(&user, remote(steer)).await;
    }
    let status = remote_run(&user, remote(&["session", "status"])).await;
    assert!(status.to_lowercase().contains("wheel"), "{status}");
    remote_run(&user, remote(&["session", "stop"])).await;

    // The session the server ran is in the history, with its debrief sheet.
    let listed: Value =
        serde_json::from_str(&user.run(&["history", "--format", "json"]).await).unwrap();
    let id = listed[0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("one session in {listed}"))
        .to_owned();
    let sheet = user.run(&["history", &id, "--format", "md"]).await;
    assert!(sheet.contains('#') && sheet.contains("|"), "{sheet}");
    drop(server);

    let missing: Vec<String> = readme_commands().difference(&user.ran()).cloned().collect();
    assert!(missing.is_empty(), "README commands never run: {missing:?}");
}

/// `gongan run wheel-of-misfortune`: it plays, and `q`, confirmed, ends it with the debrief.
async fn run_in_the_terminal(user: &Stranger) {
    let mut command = user.command(&[
        "run",
        "wheel-of-misfortune",
        "--output",
        "null",
        "--speed",
        "60",
        "--pack",
        "mine",
    ]);
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut keys = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let status = tokio::task::spawn_blocking(move || {
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        loop {
            let line = lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no stroke; it printed:\n{}", seen.join("\n")));
            let stroke = line.contains("stroke");
            seen.push(line);
            if stroke {
                break;
            }
        }
        // `q` asks first; a second `q` stops.
        keys.write_all(b"q").unwrap();
        loop {
            let line = lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no question; it printed:\n{}", seen.join("\n")));
            let asked = line.contains("press q again to stop");
            seen.push(line);
            if asked {
                break;
            }
        }
        keys.write_all(b"q").unwrap();
        drop(keys);
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        (status, stderr, lines.into_iter().collect::<Vec<_>>())
    })
    .await
    .unwrap();
    let (status, stderr, rest) = status;
    assert!(status.success(), "{stderr}");
    assert!(
        rest.iter()
            .any(|l| l.contains("stopped") || l.contains("finished")),
        "{rest:?}"
    );
}
