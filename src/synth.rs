//! The gamelan synthesizer: modal synthesis of the colotomic instruments from the data in
//! GAMELAN.md, the packs built into gongan ([`BuiltInPack`]: `default` and `bali`), and
//! their writer (`gongan synth [--pack NAME]`).
//!
//! Each instrument is a set of [`Mode`]s — partials with their own frequency, strength and
//! decay, rung by two-pole resonators — struck by a [`Mallet`] (an impulse plus a seeded,
//! low-passed noise burst). What makes it a gamelan and not a beep is in the
//! [`instrument`] tables: inharmonic partials, near-degenerate twins that beat, the gong
//! ageng's *ombak*. Everything is deterministic, so the committed `sounds/default/`
//! re-renders byte for byte.

pub mod bali;
pub mod instrument;
pub mod mallet;
pub mod mode;
pub mod tuning;

mod built_in;
mod error;
mod noise;
mod pack_writer;
mod table;
mod voice;

#[cfg(test)]
mod test;

pub use built_in::{BuiltInPack, built_in_pack};
pub use error::SynthError;
pub use instrument::{Instrument, default_instruments};
pub use mallet::Mallet;
pub use mode::Mode;
pub use noise::Noise;
pub use pack_writer::{
    BITS_PER_SAMPLE, PackSummary, WrittenFile, default_manifest, write_default_pack, write_pack,
};
pub use voice::{PEAK, Tremolo, Voice};
