//! Running the real `gongan` binary as a user would, in a clean environment: none of the
//! developer's `GONGAN_*` settings leak in, logs are off so stderr is the one error line.

use std::process::{Command, Output};

/// The variables a test run must not inherit.
const SETTINGS: [&str; 6] = [
    "GONGAN_SERVER",
    "GONGAN_TOKEN",
    "GONGAN_BIND",
    "GONGAN_DATA_DIR",
    "GONGAN_CONFIG",
    "GONGAN_PACK",
];

/// `gongan ARGS` with `env` set, off the async runtime's threads.
pub async fn gongan_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gongan"));
        command.args(&args).env("RUST_LOG", "off");
        for variable in SETTINGS {
            command.env_remove(variable);
        }
        for (variable, _) in gongan::config::hooks::SECRET_VARIABLES {
            command.env_remove(variable);
        }
        command.envs(env).output().unwrap()
    })
    .await
    .unwrap()
}

/// `gongan ARGS`.
pub async fn gongan(args: &[&str]) -> Output {
    gongan_with(args, &[]).await
}

/// What a command that must succeed printed.
#[track_caller]
pub fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The one line a failing command prints.
#[track_caller]
pub fn error_line(output: &Output) -> String {
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}
