//! `gongan devices`: the sound cards gongan can play to, by the names `--output device:NAME`
//! takes.

use std::os::fd::AsRawFd;
use std::process::ExitCode;

use gongan::audio::output::DeviceInfo;

use super::clean;
use super::table::table;

/// Prints the devices as a table, the default marked with `*`.
pub fn run() -> anyhow::Result<ExitCode> {
    let devices = without_library_noise(gongan::audio::output::list_devices)?;
    print!("{}", listing(&devices));
    Ok(ExitCode::SUCCESS)
}

/// The listing `gongan devices` prints.
fn listing(devices: &[DeviceInfo]) -> String {
    if devices.is_empty() {
        return "no sound cards found: gongan plays to the null output (silent, on time)\n"
            .to_owned();
    }
    let rows: Vec<[String; 4]> = devices
        .iter()
        .map(|device| {
            [
                if device.default { "*" } else { "" }.to_owned(),
                clean(&device.name),
                clean(&device.description),
                device
                    .config
                    .clone()
                    .unwrap_or_else(|| "cannot tell".to_owned()),
            ]
        })
        .collect();
    let mut out = table(["", "NAME", "WHAT IT IS", "FORMAT"], &rows);
    out.push_str(
        "\nPlay to one with --output device:NAME (e.g. gongan serve --output device:pulse); \
         * marks the default, what --output device plays to.\n",
    );
    out
}

/// Runs `list` with the process's stderr pointed at `/dev/null`. Probing every device makes
/// ALSA, JACK and OSS print a screen of their own failures ("Cannot get card index",
/// "jack server is not running") straight to file descriptor 2; the devices that work are
/// what the listing is for. Only the one-shot CLI command does this: nothing else writes
/// to stderr meanwhile.
fn without_library_noise<T>(list: impl FnOnce() -> T) -> T {
    let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") else {
        return list();
    };
    // SAFETY: dup/dup2/close on file descriptors this function owns (the copy of 2) or
    // that outlive the calls (`null`, 2); no memory is shared.
    let saved = unsafe { libc::dup(2) };
    if saved < 0 || unsafe { libc::dup2(null.as_raw_fd(), 2) } < 0 {
        return list();
    }
    let listed = list();
    // SAFETY: as above; puts the original stderr back and drops the copy.
    unsafe {
        libc::dup2(saved, 2);
        libc::close(saved);
    }
    listed
}

#[cfg(test)]
mod test {
    use super::*;

    fn device(name: &str, default: bool) -> DeviceInfo {
        DeviceInfo {
            name: name.to_owned(),
            description: format!("the {name} device\u{1b}]0;x\u{7}"),
            default,
            config: (name != "odd").then(|| "2 ch, 48000 Hz, f32".to_owned()),
        }
    }

    #[test]
    fn the_listing_names_each_device_and_marks_the_default() {
        let text = listing(&[
            device("default", true),
            device("null", false),
            device("odd", false),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].trim().starts_with("NAME     WHAT IT IS"), "{text}");
        assert!(
            lines[1].starts_with("*  default  the default device]0;x"),
            "{text}"
        );
        assert!(lines[2].starts_with("   null "), "{text}");
        assert!(lines[3].ends_with("cannot tell"), "{text}");
        assert!(!text.contains('\u{1b}'), "control characters are removed");
        assert!(text.contains("--output device:NAME"));
    }

    #[test]
    fn no_devices_says_what_happens_instead() {
        assert!(listing(&[]).contains("null output"));
    }
}
