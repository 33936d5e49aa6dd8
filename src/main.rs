//! The `gongan` command line: parse flags, call into the library, map errors to an exit code.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// gongan paces team practice sessions with gamelan gong cues.
#[derive(Debug, Parser)]
#[command(name = "gongan", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the built-in plan templates: id, name, segment count and planned length.
    #[command(
        after_help = "Example:\n  gongan plans\n  wheel-of-misfortune   Wheel of Misfortune   5 segments   1h"
    )]
    Plans,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "gongan=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("gongan: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Plans => {
            for (id, plan) in gongan::session::templates() {
                let length = gongan::session::SegmentDuration::new(plan.total_duration());
                println!(
                    "{:<28} {:<40} {:>2} segments  {length}",
                    id.as_str(),
                    plan.name(),
                    plan.segments().len(),
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
