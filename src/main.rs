//! The `gongan` command line: parse flags, call into the library, map errors to an exit code.

use std::path::PathBuf;
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
    /// Render the default pack from the built-in gamelan synthesizer.
    #[command(after_help = "Example:\n  gongan synth -o sounds/default\n\n\
        Writes gong.wav, suwukan.wav, kempul.wav, kenong-1..6.wav, ketuk.wav, kempyang.wav,\n\
        bonang-1..4.wav, saron-1..7.wav (mono 48 kHz 24-bit) and pack.toml. The output is\n\
        the same byte for byte on every run.")]
    Synth {
        /// Folder to write the pack into; created if missing, same-named files replaced.
        #[arg(short, long, value_name = "DIR")]
        output: PathBuf,
    },
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
        Command::Synth { output } => {
            let summary = gongan::synth::write_default_pack(&output)?;
            for file in &summary.files {
                println!("{:>10} bytes  {}", file.bytes, file.path.display());
            }
            println!(
                "{:>10} bytes  total, {} files",
                summary.total_bytes,
                summary.files.len()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
