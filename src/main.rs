//! The `gongan` command line: parse flags, call into the library, map errors to an exit
//! code. Flags live in `cli.rs`, each command's work in `cli/`.

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "gongan=info".into()),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        // Colour codes only for a person at a terminal: a log file, a pipe or journald
        // gets plain text (NO_COLOR and TERM=dumb are honoured too, as `gongan run` does).
        .with_ansi(cli::colour_for(std::io::stderr().is_terminal()))
        .init();
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            // One line: the error and its causes, joined.
            eprintln!("gongan: {err:#}");
            ExitCode::FAILURE
        }
    }
}
