//! `gongan synth`: a built-in pack, rendered into a folder.

use std::path::Path;
use std::process::ExitCode;

use gongan::synth::{BuiltInPack, write_pack};

/// Renders the built-in pack called `pack` into `output` and lists what it wrote, one file
/// a line and the total last.
///
/// # Errors
/// No built-in pack has that name (the message lists those there are), or a file could
/// not be written (the message names it).
pub fn run(pack: &str, output: &Path) -> anyhow::Result<ExitCode> {
    let Some(pack) = BuiltInPack::named(pack) else {
        let names: Vec<&str> = BuiltInPack::ALL.iter().map(|p| p.name()).collect();
        anyhow::bail!(
            "no built-in pack named '{pack}'; the built-in packs are: {}",
            names.join(", ")
        );
    };
    let summary = write_pack(pack, output)?;
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
