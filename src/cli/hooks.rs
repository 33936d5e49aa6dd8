//! `gongan hooks`: the receivers' URLs and setup; `gongan hooks test NAME`. (Being built.)

use std::process::ExitCode;

use clap::Args;

/// `gongan hooks` flags.
#[derive(Debug, Args)]
pub struct HooksArgs {}

/// Runs `gongan hooks`.
pub fn run(_args: HooksArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("hooks are not built yet")
}
