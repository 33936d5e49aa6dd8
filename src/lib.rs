//! gongan — paces team practice sessions with gamelan gong cues.
//!
//! The crate is laid out the way the product is: [`audio`] is the engine (a pure renderer
//! driven by the audio frame clock) with its outputs around it, [`synth`] makes the default
//! gamelan pack, [`pack`] loads and validates sound packs, and [`session`] turns plans into
//! timed strokes. [`http`] serves the API in front of the session actor, configured by
//! [`config`]; [`client`] is its command-line client.
#![warn(missing_docs)]

pub mod api;
pub mod audio;
pub mod client;
pub mod command;
pub mod config;
pub mod http;
pub mod notify;
pub mod pack;
pub mod receivers;
pub mod session;
pub mod store;
pub mod synth;
