//! `pack.toml`: the serde model of a sound pack's manifest.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The file name of a pack's manifest inside the pack folder.
pub const MANIFEST_FILE: &str = "pack.toml";

/// A sound pack's manifest (`pack.toml`).
///
/// ```toml
/// name = "default"
/// description = "Synthesized Javanese gamelan colotomic instruments"
/// author = "gongan"
/// licence = "CC0-1.0"
///
/// [instruments.gong]
/// file = "gong.wav"
/// gain_db = 0.0
///
/// [instruments.kenong]
/// variants = ["kenong-1.wav", "kenong-2.wav"]
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Short name, used to select the pack (`--pack NAME`).
    pub name: String,
    /// One line on what the pack sounds like.
    #[serde(default)]
    pub description: String,
    /// Who made it.
    #[serde(default)]
    pub author: String,
    /// Licence of the audio files (an SPDX id where there is one).
    #[serde(default)]
    pub licence: String,
    /// Instrument name → its files. Names are the domain's (`gong`, `kenong`…) or any
    /// custom name (`airhorn`); a pack may override any default instrument.
    pub instruments: BTreeMap<String, InstrumentEntry>,
}

/// One instrument of a pack: a single file, or pitched variants chosen by index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentEntry {
    /// The instrument's sound, for an instrument without pitched variants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// Pitched variants, numbered from 1 as gamelan pitches are (kenong 1–6): the first
    /// entry is variant 1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<PathBuf>,
    /// Extra gain in decibels, applied after the pack's loudness normalisation.
    #[serde(default)]
    pub gain_db: f32,
}
