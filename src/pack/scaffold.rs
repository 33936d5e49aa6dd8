//! `gongan pack new`: a starter pack that passes `gongan pack check` as it stands.

use std::path::Path;

use super::{MANIFEST_FILE, PackError};

/// The example sound's file name.
const EXAMPLE_FILE: &str = "gong.wav";
/// The example sound's rate: the engine's, so it loads without resampling.
const EXAMPLE_RATE: u32 = crate::audio::DEFAULT_SAMPLE_RATE;

const MANIFEST_TEMPLATE: &str = r#"# A gongan sound pack. Check it with `gongan pack check DIR`.
name = "{name}"
description = "One line on what the pack sounds like"
author = ""
# The audio files' licence, as an SPDX id where there is one (CC0-1.0, CC-BY-4.0…).
licence = ""

# Each instrument names one file, or pitched variants chosen by index (1, 2, …).
# Audio may be WAV (8/16/24/32-bit or float), FLAC, Ogg Vorbis or MP3, mono or stereo,
# at most 60 seconds. Paths are relative to this folder and must stay inside it.
# Loudness is evened out across instruments at load; gain_db (±24) adjusts on top.
[instruments.gong]
file = "gong.wav"
gain_db = 0.0

# [instruments.kenong]
# variants = ["kenong-1.wav", "kenong-2.wav", "kenong-3.wav"]
# gain_db = -3.0
"#;

/// Creates a starter pack in `dir`: a commented `pack.toml` and a short generated gong
/// stroke, so the new pack passes [`check`](super::check) before anything is changed.
///
/// `dir` may exist if it is empty; it is created (with its parents) otherwise. The pack is
/// named after the folder.
///
/// # Errors
/// [`PackError::NotEmpty`] rather than overwrite anything, or the I/O error that stopped it.
pub fn scaffold(dir: &Path) -> Result<(), PackError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |error| PackError::Io { path, error }
    };
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(PackError::NotEmpty {
                    path: dir.to_owned(),
                });
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        Err(error) => {
            return Err(PackError::NotAFolder {
                path: dir.to_owned(),
                error,
            });
        }
    }
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.trim().is_empty())
        .unwrap_or("my-pack");
    // A TOML basic string: escape what would end or break it.
    let escaped: String = name
        .chars()
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c if c.is_control() => vec![],
            c => vec![c],
        })
        .collect();
    let manifest = MANIFEST_TEMPLATE.replace("{name}", &escaped);
    let manifest_path = dir.join(MANIFEST_FILE);
    std::fs::write(&manifest_path, manifest).map_err(io(&manifest_path))?;
    let wav_path = dir.join(EXAMPLE_FILE);
    write_example_stroke(&wav_path).map_err(|e| PackError::Io {
        path: wav_path.clone(),
        error: match e {
            hound::Error::IoError(error) => error,
            other => std::io::Error::other(other.to_string()),
        },
    })
}

/// A second of a small gong: a few inharmonic partials under an exponential decay, so the
/// example sounds like a stroke rather than a beep.
fn write_example_stroke(path: &Path) -> Result<(), hound::Error> {
    const PARTIALS: [(f32, f32); 4] = [(220.0, 0.6), (443.0, 0.25), (662.0, 0.1), (1187.0, 0.05)];
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: EXAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec)?;
    let rate = EXAMPLE_RATE as f32;
    for i in 0..EXAMPLE_RATE {
        let t = i as f32 / rate;
        let tone: f32 = PARTIALS
            .iter()
            .map(|(hz, amp)| amp * (std::f32::consts::TAU * hz * t).sin())
            .sum();
        // A 5 ms attack keeps the onset click-free; the first sample is still non-zero.
        let attack = ((i + 1) as f32 / (0.005 * rate)).min(1.0);
        let sample = 0.8 * tone * attack * (-4.0 * t).exp();
        writer.write_sample((sample * f32::from(i16::MAX)) as i16)?;
    }
    writer.finalize()
}
