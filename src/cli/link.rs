//! `gongan link create|list|revoke`: capability links. (Being built.)

use std::process::ExitCode;

use clap::Subcommand;

/// `gongan link` commands.
#[derive(Debug, Subcommand)]
pub enum LinkCommand {
    /// List the links.
    List,
}

/// Runs a `gongan link` command.
pub fn run(command: LinkCommand) -> anyhow::Result<ExitCode> {
    match command {
        LinkCommand::List => anyhow::bail!("links are not built yet"),
    }
}
