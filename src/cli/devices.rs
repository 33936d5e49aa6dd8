//! `gongan devices`: the sound cards gongan can play to.

use std::process::ExitCode;

/// Prints one line per output device, the default marked with `*`.
pub fn run() -> anyhow::Result<ExitCode> {
    let devices = gongan::audio::output::list_devices()?;
    if devices.is_empty() {
        println!("no output devices found; gongan will play to the null output");
    }
    for device in devices {
        println!(
            "{} {}  ({})",
            if device.default { "*" } else { " " },
            device.name,
            device.config.as_deref().unwrap_or("configuration unknown"),
        );
    }
    Ok(ExitCode::SUCCESS)
}
