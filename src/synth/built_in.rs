//! [`BuiltInPack`]: the packs gongan synthesizes itself — `default` and `bali` — as
//! instrument tables, as a manifest, as an in-memory [`Pack`] and (through
//! [`write_pack`](super::write_pack)) as a folder.

use std::path::PathBuf;
use std::sync::Arc;

use crate::pack::manifest::{InstrumentEntry, Manifest};
use crate::pack::{self, Pack};

use super::bali::bali_instruments;
use super::error::SynthError;
use super::instrument::{Instrument, default_instruments};

/// A pack built into gongan: synthesized, never read from disk, always there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BuiltInPack {
    /// `default`: the Javanese colotomic instruments (the pack `sounds/default/` holds).
    Default,
    /// `bali`: the same instruments as Balinese pairs that shimmer, and a soft saron.
    Bali,
}

impl BuiltInPack {
    /// Every built-in pack, the default first.
    pub const ALL: [BuiltInPack; 2] = [BuiltInPack::Default, BuiltInPack::Bali];

    /// The built-in pack called `name` (`default`, `bali`), if there is one.
    #[must_use]
    pub fn named(name: &str) -> Option<BuiltInPack> {
        BuiltInPack::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The pack's name: its id in the pack registry and the `name` in its manifest.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            BuiltInPack::Default => "default",
            BuiltInPack::Bali => "bali",
        }
    }

    /// The pack's instruments as tables (cheap: nothing is rendered).
    #[must_use]
    pub fn instruments(self) -> Vec<Instrument> {
        match self {
            BuiltInPack::Default => default_instruments(),
            BuiltInPack::Bali => bali_instruments(),
        }
    }

    /// The pack's manifest (cheap: nothing is rendered).
    #[must_use]
    pub fn manifest(self) -> Manifest {
        self.manifest_of(&self.instruments())
    }

    /// The manifest for `instruments`, with this pack's name and description: each
    /// instrument's files as [`Instrument::file_names`] names them, and its `gain_db`.
    #[must_use]
    pub fn manifest_of(self, instruments: &[Instrument]) -> Manifest {
        let entries = instruments
            .iter()
            .map(|instrument| {
                let mut files = instrument.file_names().into_iter().map(PathBuf::from);
                let entry = if instrument.is_pitched() {
                    InstrumentEntry {
                        file: None,
                        variants: files.collect(),
                        gain_db: instrument.gain_db,
                    }
                } else {
                    InstrumentEntry {
                        file: files.next(),
                        variants: Vec::new(),
                        gain_db: instrument.gain_db,
                    }
                };
                (instrument.name.to_owned(), entry)
            })
            .collect();
        Manifest {
            name: self.name().to_owned(),
            description: self.description().to_owned(),
            author: "gongan".to_owned(),
            licence: "CC0-1.0".to_owned(),
            instruments: entries,
            roles: std::collections::BTreeMap::new(),
        }
    }

    fn description(self) -> &'static str {
        match self {
            BuiltInPack::Default => {
                "Javanese gamelan colotomic instruments, synthesized by `gongan synth` \
                 (modal synthesis from measured gong, kenong and saron data)"
            }
            BuiltInPack::Bali => {
                "The colotomic instruments as Balinese pairs, each voice with a twin a few \
                 hertz sharp so that it shimmers (ombak), and a saron with a hard and a soft \
                 beater; synthesized by `gongan synth --pack bali`"
            }
        }
    }

    /// Renders every voice at `sample_rate` into a [`Pack`] ready to play, each instrument
    /// measured and normalised like a pack loaded from disk ([`pack::Instrument::new`]).
    /// Its folder, for messages, is `(built-in NAME)`.
    ///
    /// # Errors
    /// A voice did not render: a zero `sample_rate`, or a bug in the tables.
    pub fn render(self, sample_rate: u32) -> Result<Pack, SynthError> {
        let synth = self.instruments();
        let manifest = self.manifest_of(&synth);
        let mut instruments = Vec::with_capacity(synth.len());
        for instrument in &synth {
            let sounds = instrument
                .voices
                .iter()
                .map(|voice| voice.render(sample_rate).map(Arc::new))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|source| SynthError::Render {
                    instrument: instrument.name.to_owned(),
                    source,
                })?;
            instruments.extend(pack::Instrument::new(
                instrument.name.to_owned(),
                sounds,
                instrument.gain_db,
            ));
        }
        Ok(Pack::from_instruments(
            PathBuf::from(format!("(built-in {})", self.name())),
            manifest,
            instruments,
        ))
    }
}

/// The built-in pack called `name`, rendered at `sample_rate`; `None` when no built-in
/// pack has that name. What the pack registry calls for `Location::BuiltIn`.
///
/// # Errors
/// Inside the `Some`: a voice did not render (see [`BuiltInPack::render`]).
#[must_use]
pub fn built_in_pack(name: &str, sample_rate: u32) -> Option<Result<Pack, SynthError>> {
    BuiltInPack::named(name).map(|pack| pack.render(sample_rate))
}
