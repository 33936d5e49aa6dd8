//! Outputs: what drives the renderer and where its audio goes.
//!
//! - `device` / `device:NAME` — the sound card through cpal; the real-time path.
//! - `null` — renders at real-time pace and discards the audio; the fallback when no sound
//!   card can be opened, so a server keeps its clock and its API without one.
//! - `wav:PATH` — renders offline, as fast as the CPU allows, into a WAV file.

mod device;
mod null;
mod wav;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::Serialize;
use thiserror::Error;

pub use device::{DeviceInfo, DeviceOutput, list_devices};
pub use null::NullOutput;
pub use wav::WavOutput;

use super::engine::{Controller, EngineConfig, engine};

/// Where audio goes, as given on the command line (`--output`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputSpec {
    /// The default sound card (`None`) or the one whose name contains the given text.
    Device(Option<String>),
    /// Real-time pace, audio discarded.
    Null,
    /// An offline render into this WAV file.
    Wav(PathBuf),
}

impl FromStr for OutputSpec {
    type Err = OutputError;

    fn from_str(s: &str) -> Result<OutputSpec, OutputError> {
        match s.split_once(':') {
            None if s == "device" => Ok(OutputSpec::Device(None)),
            None if s == "null" => Ok(OutputSpec::Null),
            Some(("device", name)) if !name.is_empty() => {
                Ok(OutputSpec::Device(Some(name.to_owned())))
            }
            Some(("wav", path)) if !path.is_empty() => Ok(OutputSpec::Wav(PathBuf::from(path))),
            _ => Err(OutputError::Spec(s.to_owned())),
        }
    }
}

impl fmt::Display for OutputSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutputSpec::Device(None) => f.write_str("device"),
            OutputSpec::Device(Some(name)) => write!(f, "device:{name}"),
            OutputSpec::Null => f.write_str("null"),
            OutputSpec::Wav(path) => write!(f, "wav:{}", path.display()),
        }
    }
}

/// Which kind of output is running (what `/healthz` reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    /// A sound card.
    Device,
    /// The paced null output.
    Null,
    /// An offline WAV render.
    Wav,
}

/// Why an output could not be opened or kept running.
#[derive(Debug, Error)]
pub enum OutputError {
    /// The `--output` text is not one of the known forms.
    #[error("unknown output '{0}': use device, device:NAME, null or wav:PATH")]
    Spec(String),
    /// No sound card (or none matching the name) could be found.
    #[error("no output device {0}")]
    NoDevice(String),
    /// The sound card refused the stream.
    #[error("the sound card failed: {0}")]
    Device(String),
    /// A WAV output was asked for where only real-time outputs make sense.
    #[error("a wav: output renders offline; use `gongan render` for it")]
    NotRealTime,
    /// Writing the WAV file failed.
    #[error("cannot write {path}: {source}")]
    Wav {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: hound::Error,
    },
    /// A worker thread could not be started.
    #[error("cannot start the audio thread: {0}")]
    Thread(std::io::Error),
}

/// A running real-time output; audio stops when it is dropped.
pub enum RunningOutput {
    /// The sound card.
    Device(DeviceOutput),
    /// The paced null output.
    Null(NullOutput),
}

impl RunningOutput {
    /// Which kind of output this is.
    #[must_use]
    pub fn kind(&self) -> OutputKind {
        match self {
            RunningOutput::Device(_) => OutputKind::Device,
            RunningOutput::Null(_) => OutputKind::Null,
        }
    }

    /// A short description for logs and status: the device name, or `null`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            RunningOutput::Device(d) => d.name().to_owned(),
            RunningOutput::Null(_) => "null".to_owned(),
        }
    }

    /// The first error the output ran into after it started (a device unplugged), if any.
    #[must_use]
    pub fn fault(&self) -> Option<String> {
        match self {
            RunningOutput::Device(d) => d.fault(),
            RunningOutput::Null(_) => None,
        }
    }
}

/// Frames per block for the null output: 5 ms at 48 kHz, small enough that a cue
/// scheduled "now" waits at most one short block.
pub const NULL_BLOCK_FRAMES: usize = 240;

/// Opens a real-time output and builds an engine for it.
///
/// The default device falls back to the null output with a warning when no sound card can
/// be opened, so the clock and the API keep working. A named device that cannot be opened
/// is an error: the user asked for that one.
pub fn start(
    spec: &OutputSpec,
    config: EngineConfig,
) -> Result<(Controller, RunningOutput), OutputError> {
    match spec {
        OutputSpec::Device(name) => match DeviceOutput::open(name.as_deref(), config) {
            Ok((controller, device)) => Ok((controller, RunningOutput::Device(device))),
            Err(err) if name.is_none() => {
                tracing::warn!("{err}; playing to the null output instead (no sound)");
                start_null(config)
            }
            Err(err) => Err(err),
        },
        OutputSpec::Null => start_null(config),
        OutputSpec::Wav(_) => Err(OutputError::NotRealTime),
    }
}

fn start_null(config: EngineConfig) -> Result<(Controller, RunningOutput), OutputError> {
    let (controller, renderer) = engine(config);
    let null = NullOutput::start(renderer, NULL_BLOCK_FRAMES)?;
    Ok((controller, RunningOutput::Null(null)))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn parses_every_form_and_rejects_the_rest() {
        assert_eq!(
            "device".parse::<OutputSpec>().unwrap(),
            OutputSpec::Device(None)
        );
        assert_eq!(
            "device:USB Audio".parse::<OutputSpec>().unwrap(),
            OutputSpec::Device(Some("USB Audio".into()))
        );
        assert_eq!("null".parse::<OutputSpec>().unwrap(), OutputSpec::Null);
        assert_eq!(
            "wav:/tmp/a:b.wav".parse::<OutputSpec>().unwrap(),
            OutputSpec::Wav("/tmp/a:b.wav".into())
        );
        for bad in ["", "speakers", "wav:", "device:", "null:x"] {
            let err = bad.parse::<OutputSpec>().unwrap_err();
            assert!(err.to_string().contains("use device"), "{bad}: {err}");
        }
        for spec in ["device", "device:x", "null", "wav:out.wav"] {
            assert_eq!(spec.parse::<OutputSpec>().unwrap().to_string(), spec);
        }
    }
}
