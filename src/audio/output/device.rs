//! The sound card output, through cpal.

use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample, StreamConfig};
use serde::Serialize;

use super::OutputError;
use crate::audio::engine::{Controller, EngineConfig, Renderer, engine};
use crate::audio::{CHANNELS, DEFAULT_SAMPLE_RATE};

/// Frames the callback renders at a time when the device's buffer is not plain stereo
/// `f32` and has to go through a scratch buffer (allocated once, before the stream runs).
const SCRATCH_FRAMES: usize = 4096;

/// One output device, as `gongan devices` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceInfo {
    /// The name to pass as `--output device:NAME`.
    pub name: String,
    /// Whether the host calls it the default output.
    pub default: bool,
    /// Its default channel count, rate and sample format, when it can tell.
    pub config: Option<String>,
}

/// Lists the output devices of the default host.
pub fn list_devices() -> Result<Vec<DeviceInfo>, OutputError> {
    let host = cpal::default_host();
    let default_name = host.default_output_device().map(|d| d.to_string());
    let devices = host
        .output_devices()
        .map_err(|e| OutputError::Device(e.to_string()))?;
    Ok(devices
        .map(|device| {
            let name = device.to_string();
            let config = device.default_output_config().ok().map(|c| {
                format!(
                    "{} ch, {} Hz, {}",
                    c.channels(),
                    c.sample_rate(),
                    c.sample_format()
                )
            });
            DeviceInfo {
                default: default_name.as_deref() == Some(name.as_str()),
                name,
                config,
            }
        })
        .collect())
}

/// A stream playing the renderer through a sound card. The stream lives on its own thread
/// (cpal streams need not be `Send`); dropping this stops it.
pub struct DeviceOutput {
    name: String,
    health: Arc<Health>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// How long the frame clock may stand still while the stream is meant to be playing
/// before the device counts as failed. cpal reports some errors that the stream recovers
/// from by itself (ALSA's pulse plugin can fail a call or two while a stream starts), so
/// an error alone is not a failure: audio that stops moving is.
const STALL: Duration = Duration::from_millis(500);

/// How long a new stream may take to start flowing (PulseAudio through ALSA's plugin
/// takes 1.5–2 s here before the first steady callbacks).
const STARTUP: Duration = Duration::from_secs(5);

/// What the watchdog and the error callback know about the stream.
#[derive(Default)]
struct Health {
    last_error: Mutex<Option<String>>,
    stalled: std::sync::atomic::AtomicBool,
}

impl DeviceOutput {
    /// Opens the default device, or the first whose name contains `name`, and starts
    /// playing a new engine through it. The engine runs at 48 kHz when the device supports
    /// it, else at the device's default rate.
    pub fn open(
        name: Option<&str>,
        config: EngineConfig,
    ) -> Result<(Controller, DeviceOutput), OutputError> {
        let (opened_tx, opened_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let health = Arc::new(Health::default());
        let stream_health = health.clone();
        let wanted = name.map(str::to_owned);
        let thread = std::thread::Builder::new()
            .name("gongan-device-output".into())
            .spawn(move || {
                let (stream, clock) =
                    match open_stream(wanted.as_deref(), config, stream_health.clone()) {
                        Ok((controller, stream, name)) => {
                            let clock = controller.clock();
                            let _ = opened_tx.send(Ok((controller, name)));
                            (stream, clock)
                        }
                        Err(err) => {
                            let _ = opened_tx.send(Err(err));
                            return;
                        }
                    };
                // Keep the stream until told to stop (or dropped), watching that its
                // frame clock moves.
                let mut last = (clock.now(), Instant::now());
                let mut advances = 0;
                while let Err(mpsc::RecvTimeoutError::Timeout) =
                    stop_rx.recv_timeout(Duration::from_millis(100))
                {
                    let now = clock.now();
                    if now != last.0 {
                        last = (now, Instant::now());
                        advances += 1;
                    }
                    // A new stream fills the device buffer at once and may then wait a
                    // second or two for the sound server: only a stream that has been
                    // flowing can stall.
                    let limit = if advances < 3 { STARTUP } else { STALL };
                    let stalled = last.1.elapsed() > limit;
                    if stalled != stream_health.stalled.swap(stalled, Ordering::Relaxed) {
                        if stalled {
                            tracing::error!("the sound card stopped taking audio");
                        } else {
                            tracing::info!("the sound card is playing again");
                        }
                    }
                }
                drop(stream);
            })
            .map_err(OutputError::Thread)?;
        let (controller, device_name) = opened_rx
            .recv()
            .map_err(|_| OutputError::Device("the audio thread ended while opening".into()))??;
        tracing::info!(device = %device_name, rate = controller.sample_rate(), "playing to the sound card");
        Ok((
            controller,
            DeviceOutput {
                name: device_name,
                health,
                stop: Some(stop_tx),
                thread: Some(thread),
            },
        ))
    }

    /// The device's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Why the device is not playing, when its audio has stopped moving for a while (the
    /// device was unplugged, the sound server died): the last error it reported. `None`
    /// while it plays, even if it reported an error it recovered from.
    #[must_use]
    pub fn fault(&self) -> Option<String> {
        if !self.health.stalled.load(Ordering::Relaxed) {
            return None;
        }
        let error = self.health.last_error.lock().ok().and_then(|e| e.clone());
        Some(error.unwrap_or_else(|| "the sound card stopped taking audio".to_owned()))
    }
}

impl Drop for DeviceOutput {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn open_stream(
    name: Option<&str>,
    config: EngineConfig,
    health: Arc<Health>,
) -> Result<(Controller, cpal::Stream, String), OutputError> {
    let host = cpal::default_host();
    let device = match name {
        None => host
            .default_output_device()
            .ok_or_else(|| OutputError::NoDevice("(no default sound card)".into()))?,
        Some(wanted) => host
            .output_devices()
            .map_err(|e| OutputError::Device(e.to_string()))?
            .find(|d| d.to_string().contains(wanted))
            .ok_or_else(|| OutputError::NoDevice(format!("matching '{wanted}'")))?,
    };
    let device_name = device.to_string();
    let supported = device
        .default_output_config()
        .map_err(|e| OutputError::Device(format!("{device_name}: {e}")))?;
    let rate = if device
        .supported_output_configs()
        .map(|mut configs| {
            configs.any(|c| c.channels() >= 1 && c.contains_rate(DEFAULT_SAMPLE_RATE))
        })
        .unwrap_or(false)
    {
        DEFAULT_SAMPLE_RATE
    } else {
        supported.sample_rate()
    };
    let stream_config = StreamConfig {
        channels: supported.channels(),
        sample_rate: rate,
        buffer_size: cpal::BufferSize::Default,
    };
    let (controller, renderer) = engine(EngineConfig {
        sample_rate: rate,
        ..config
    });
    let stream = match supported.sample_format() {
        SampleFormat::F32 => build::<f32>(&device, &stream_config, renderer, health),
        SampleFormat::I16 => build::<i16>(&device, &stream_config, renderer, health),
        SampleFormat::I32 => build::<i32>(&device, &stream_config, renderer, health),
        SampleFormat::U16 => build::<u16>(&device, &stream_config, renderer, health),
        other => Err(OutputError::Device(format!(
            "{device_name}: unsupported sample format {other}"
        ))),
    }?;
    stream
        .play()
        .map_err(|e| OutputError::Device(format!("{device_name}: {e}")))?;
    Ok((controller, stream, device_name))
}

fn build<T>(
    device: &cpal::Device,
    config: &StreamConfig,
    mut renderer: Renderer,
    health: Arc<Health>,
) -> Result<cpal::Stream, OutputError>
where
    T: SizedSample + FromSample<f32>,
{
    let channels = usize::from(config.channels.max(1));
    let mut scratch = vec![0.0f32; CHANNELS * SCRATCH_FRAMES];
    let data = move |out: &mut [T], _: &cpal::OutputCallbackInfo| {
        for chunk in out.chunks_mut(channels * SCRATCH_FRAMES) {
            let frames = chunk.len() / channels;
            let stereo = &mut scratch[..CHANNELS * frames];
            renderer.render(stereo);
            for (frame, lr) in chunk.chunks_exact_mut(channels).zip(stereo.chunks_exact(2)) {
                if channels == 1 {
                    frame[0] = T::from_sample(0.5 * (lr[0] + lr[1]));
                } else {
                    frame[0] = T::from_sample(lr[0]);
                    frame[1] = T::from_sample(lr[1]);
                    for extra in &mut frame[2..] {
                        *extra = T::from_sample(0.0);
                    }
                }
            }
        }
    };
    let error = move |err: cpal::Error| {
        // A dead device can report the same error thousands of times a second: log each
        // different message once.
        let message = err.to_string();
        if let Ok(mut last) = health.last_error.lock()
            && last.as_deref() != Some(message.as_str())
        {
            tracing::warn!("sound card error: {message}");
            *last = Some(message);
        }
    };
    device
        .build_output_stream(*config, data, error, None)
        .map_err(|e| OutputError::Device(format!("{device}: {e}")))
}
