//! gongan — paces team practice sessions with gamelan gong cues.
//!
//! The crate is laid out the way the product is: [`audio`] is the engine (a pure renderer
//! driven by the audio frame clock) with its outputs around it, [`synth`] makes the default
//! gamelan pack, [`pack`] loads and validates sound packs, and [`session`] turns plans into
//! timed strokes.
#![warn(missing_docs)]

pub mod audio;
pub mod pack;
pub mod session;
pub mod synth;
