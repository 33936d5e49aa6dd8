//! The audio engine: a pure renderer that starts voices at exact frames, and the outputs
//! (sound card, paced null, offline WAV) that drive it.
//!
//! The frame counter is the clock. The control side ([`Controller`]) schedules sounds at
//! absolute frames through a wait-free queue; the [`Renderer`] — owned by whichever output
//! drives it — starts each voice at exactly its frame, even in the middle of a block, and
//! reports back what it started. The renderer never allocates, locks or does I/O.

mod engine;
mod frame;
mod limiter;
pub mod output;
mod sound;
mod voice;

pub use engine::{
    Controller, EngineConfig, EngineError, EngineEvent, FrameClock, Renderer, VoiceId, engine,
};
pub use frame::Frame;
pub use limiter::Limiter;
pub use sound::{Sound, SoundError};

/// The rate the engine and every loaded sound run at unless an output asks for another.
pub const DEFAULT_SAMPLE_RATE: u32 = 48_000;
/// The engine always renders interleaved stereo.
pub const CHANNELS: usize = 2;
