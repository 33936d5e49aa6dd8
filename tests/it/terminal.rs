//! The command line as a person at a terminal reads it (issue 12): saved plans next to the
//! templates, sound cards by the names `--output` takes without a screen of library
//! noise, plain logs when stderr is a file, and user text without control characters.

use crate::cli_support::{error_line, gongan_with, stdout};
use crate::serve_process::ServeProcess;

/// A saved plan whose name tries to retitle the terminal window.
const SAVED: &str = "name = \"Team \\u001b]0;pwned\\u0007 drill\"\n\
    [[segments]]\ntitle = \"Warm-up\"\nduration = \"2m\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_plans_are_listed_and_run_like_templates() {
    let data = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(data.path().join("plans")).unwrap();
    std::fs::write(data.path().join("plans/team-drill.toml"), SAVED).unwrap();
    let env = [("GONGAN_DATA_DIR", data.path().to_str().unwrap())];

    let plans = stdout(&gongan_with(&["plans"], &env).await);
    let saved = plans
        .lines()
        .find(|l| l.starts_with("team-drill"))
        .unwrap_or_else(|| panic!("no saved plan in:\n{plans}"));
    assert!(saved.contains("Team ]0;pwned drill"), "{saved}");
    assert!(saved.trim_end().ends_with("saved"), "{saved}");
    assert!(plans.contains("wheel-of-misfortune"), "{plans}");
    assert!(!plans.contains('\u{1b}') && !plans.contains('\u{7}'));

    let wav = data.path().join("drill.wav");
    let rendered = stdout(
        &gongan_with(
            &[
                "render",
                "team-drill",
                "-o",
                wav.to_str().unwrap(),
                "--speed",
                "60",
            ],
            &env,
        )
        .await,
    );
    assert!(rendered.contains("strokes"), "{rendered}");
    assert!(wav.is_file());

    let line = error_line(&gongan_with(&["run", "no-such-plan", "--output", "null"], &env).await);
    assert!(
        line.contains("no-such-plan") && line.contains("team-drill"),
        "the error names the saved plans too: {line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_are_listed_by_their_output_names_without_library_noise() {
    let out = gongan_with(&["devices"], &[]).await;
    let listing = stdout(&out);
    assert!(
        out.stderr.is_empty(),
        "library noise on stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        listing.starts_with("   NAME") || listing.contains("no sound cards found"),
        "{listing}"
    );
    if listing.contains("NAME") {
        assert!(
            listing.lines().any(|l| l.starts_with("*  ")),
            "the default is marked: {listing}"
        );
        assert!(listing.contains("--output device:NAME"), "{listing}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_written_to_a_file_carry_no_colour_codes() {
    let data = tempfile::tempdir().unwrap();
    let server = ServeProcess::start_with(
        |command| {
            command
                .arg("--data-dir")
                .arg(data.path())
                .env_remove("NO_COLOR");
        },
        &[],
    )
    .await;
    let text = server.said.join("\n");
    assert!(text.contains("listening on"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "colour codes in a log file:\n{text:?}"
    );
}
