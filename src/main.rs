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
    /// Check or start a sound pack.
    #[command(subcommand)]
    Pack(PackCommand),
}

#[derive(Debug, Subcommand)]
enum PackCommand {
    /// Validate a pack: print one line per problem, or a summary if there are none.
    #[command(after_help = "Example:\n  gongan pack check sounds/my-pack")]
    Check {
        /// The pack folder (holding pack.toml).
        dir: std::path::PathBuf,
    },
    /// Start a new pack: a commented pack.toml and an example sound that passes `check`.
    #[command(after_help = "Example:\n  gongan pack new sounds/my-pack")]
    New {
        /// The folder to create; it must not exist or be empty.
        dir: std::path::PathBuf,
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
        Command::Pack(PackCommand::Check { dir }) => match gongan::pack::inspect(&dir) {
            Ok(summary) => {
                println!("{}: ok: {summary}", dir.display());
                Ok(ExitCode::SUCCESS)
            }
            Err(problems) => {
                for problem in &problems {
                    println!("{problem}");
                }
                Ok(ExitCode::FAILURE)
            }
        },
        Command::Pack(PackCommand::New { dir }) => {
            gongan::pack::scaffold(&dir)?;
            println!(
                "{}: new pack created; edit pack.toml, then run `gongan pack check {}`",
                dir.display(),
                dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
