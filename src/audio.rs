//! The audio engine: a pure renderer that starts voices at exact frames, and the outputs
//! (sound card, paced null, offline WAV) that drive it.
//!
//! The frame counter is the engine's clock, not the session's: a session keeps real time
//! ([`HostTime`]), and each live output tells the engine when its frames are heard, which
//! the control side fits into an [`OutputClock`] to schedule each stroke at the frame that
//! is heard at its planned instant. The control side ([`Controller`]) schedules sounds at
//! absolute frames through a wait-free queue; the [`Renderer`] — owned by whichever output
//! drives it — starts each voice at exactly its frame, even in the middle of a block, drops
//! the ones an output stall would make late, and reports back what it did. The renderer
//! never allocates, locks or does I/O.

mod engine;
mod frame;
mod host_time;
mod limiter;
pub mod output;
mod output_clock;
mod sound;
mod voice;

pub use engine::{
    Controller, EngineConfig, EngineError, EngineEvent, FrameClock, Renderer, VoiceId, engine,
};
pub use engine::{VOLUME_RAMP_MS, Volume, VolumeChange, VolumeDb, VolumeError};
pub use frame::Frame;
pub use host_time::HostTime;
pub use limiter::Limiter;
pub use output_clock::{Observation, OutputClock, TimingPoint};
pub use sound::{Sound, SoundError};

/// The rate the engine and every loaded sound run at unless an output asks for another.
pub const DEFAULT_SAMPLE_RATE: u32 = 48_000;
/// The engine always renders interleaved stereo.
pub const CHANNELS: usize = 2;
