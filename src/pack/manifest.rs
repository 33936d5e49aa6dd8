//! `pack.toml`: the serde model of a sound pack's manifest.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Role;

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
///
/// [instruments.airhorn]
/// file = "airhorn.wav"
///
/// [roles]
/// overtime = "airhorn"
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
    /// Role → the instrument of this pack that plays it (`overtime = "airhorn"`). A role
    /// not named here is played by the instrument the session strikes for it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<Role, String>,
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

/// The largest `pack.toml` read: far more than [`MAX_SOUNDS`] entries need, small enough
/// that a hostile manifest cannot exhaust memory.
pub const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;
/// The longest instrument name, in bytes. Names travel in URLs, CLI flags and logs.
pub const MAX_INSTRUMENT_NAME_LEN: usize = 32;
/// The largest `gain_db` magnitude a manifest may set. Past ±24 dB a sound is either
/// inaudible or a mistake; loudness normalisation does the rest.
pub const MAX_GAIN_DB: f32 = 24.0;
/// The most audio files one pack may list, bounding what loading a pack can cost.
pub const MAX_SOUNDS: usize = 256;

/// A `pack.toml` that is not valid TOML or does not fit [`Manifest`], with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line of the offending text (1 when the parser gives no place).
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The parser's message, on one line.
    pub message: String,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

/// Something wrong with a well-formed manifest's content.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ManifestProblem {
    /// `name` is empty or blank.
    #[error("`name` is empty")]
    EmptyName,
    /// `[instruments]` has no entries.
    #[error("the pack has no instruments")]
    NoInstruments,
    /// An instrument name breaks the naming rule.
    #[error("instrument name {name:?} {reason}")]
    InstrumentName {
        /// The name as written.
        name: String,
        /// What rule it breaks.
        reason: &'static str,
    },
    /// An instrument with both `file` and `variants`.
    #[error("instrument `{0}` has both `file` and `variants`; give one")]
    FileAndVariants(String),
    /// An instrument with neither a `file` nor any `variants`.
    #[error("instrument `{0}` has no sound: give `file` or a non-empty `variants`")]
    NoSound(String),
    /// A `gain_db` that is not finite or beyond ±[`MAX_GAIN_DB`].
    #[error("instrument `{name}` has gain_db {gain_db}, outside ±{MAX_GAIN_DB} dB")]
    Gain {
        /// The instrument.
        name: String,
        /// The gain as written.
        gain_db: f32,
    },
    /// A role given to an instrument the pack does not define.
    #[error("role `{role}` names instrument `{instrument}`, which the pack does not define")]
    RoleInstrument {
        /// The role.
        role: Role,
        /// The instrument named.
        instrument: String,
    },
    /// More than [`MAX_SOUNDS`] files in all.
    #[error("the pack lists {0} sounds, more than the {MAX_SOUNDS} allowed")]
    TooManySounds(usize),
}

impl Manifest {
    /// Parses `pack.toml` text. Unknown fields are errors, so a typo (`gain_dB`) is caught
    /// rather than silently ignored.
    ///
    /// # Errors
    /// A [`SyntaxError`] with the line and column the parser stopped at.
    pub fn parse(text: &str) -> Result<Manifest, SyntaxError> {
        toml::from_str(text).map_err(|e: toml::de::Error| {
            let at = e.span().map_or(0, |s| s.start).min(text.len());
            let before = text.get(..at).unwrap_or("");
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
            SyntaxError {
                line,
                column,
                message,
            }
        })
    }

    /// Everything wrong with the manifest's content, empty when it is valid.
    ///
    /// Loading refuses a manifest with any problem; `gongan pack check` lists them all.
    #[must_use]
    pub fn problems(&self) -> Vec<ManifestProblem> {
        let mut problems = Vec::new();
        if self.name.trim().is_empty() {
            problems.push(ManifestProblem::EmptyName);
        }
        if self.instruments.is_empty() {
            problems.push(ManifestProblem::NoInstruments);
        }
        let mut sounds = 0;
        for (name, entry) in &self.instruments {
            if let Err(reason) = check_instrument_name(name) {
                problems.push(ManifestProblem::InstrumentName {
                    name: name.clone(),
                    reason,
                });
            }
            match (&entry.file, entry.variants.is_empty()) {
                (Some(_), false) => problems.push(ManifestProblem::FileAndVariants(name.clone())),
                (None, true) => problems.push(ManifestProblem::NoSound(name.clone())),
                _ => {}
            }
            if !entry.gain_db.is_finite() || entry.gain_db.abs() > MAX_GAIN_DB {
                problems.push(ManifestProblem::Gain {
                    name: name.clone(),
                    gain_db: entry.gain_db,
                });
            }
            sounds += entry.files().count();
        }
        for (role, instrument) in &self.roles {
            if !self.instruments.contains_key(instrument) {
                problems.push(ManifestProblem::RoleInstrument {
                    role: *role,
                    instrument: instrument.clone(),
                });
            }
        }
        if sounds > MAX_SOUNDS {
            problems.push(ManifestProblem::TooManySounds(sounds));
        }
        problems
    }
}

impl InstrumentEntry {
    /// The entry's files in variant order: the `file`, or variants 1, 2, ….
    pub fn files(&self) -> impl Iterator<Item = &std::path::Path> {
        self.file
            .iter()
            .chain(self.variants.iter())
            .map(PathBuf::as_path)
    }
}

/// Checks an instrument name: 1 to [`MAX_INSTRUMENT_NAME_LEN`] lowercase ASCII letters,
/// digits, `-` or `_`, so it is safe in URLs, shells and file names as it stands.
///
/// # Errors
/// Which part of the rule the name breaks.
pub fn check_instrument_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("is empty");
    }
    if name.len() > MAX_INSTRUMENT_NAME_LEN {
        return Err("is longer than 32 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err("may use only lowercase ASCII letters, digits, '-' and '_'");
    }
    Ok(())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn syntax_errors_say_where() {
        let err =
            Manifest::parse("name = \"x\"\n[instruments.gong]\nfile = \"g.wav\"\ngian_db = 1\n")
                .unwrap_err();
        assert_eq!((err.line, err.column), (4, 1), "{err}");
        assert!(err.message.contains("gian_db"), "{err}");
    }

    #[test]
    fn content_problems_are_all_listed() {
        let manifest = Manifest::parse(
            "name = \" \"\n[instruments.Gong]\nfile = \"a.wav\"\nvariants = [\"b.wav\"]\n\
             gain_db = 40\n[instruments.kenong]\n",
        )
        .unwrap();
        let problems = manifest.problems();
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems.contains(&ManifestProblem::EmptyName));
        assert!(problems.contains(&ManifestProblem::NoSound("kenong".into())));
        assert!(problems.contains(&ManifestProblem::FileAndVariants("Gong".into())));
    }

    #[test]
    fn roles_name_instruments_of_the_pack() {
        let text = "name = \"team\"\n[instruments.airhorn]\nfile = \"a.wav\"\n[roles]\n";
        let good = Manifest::parse(&format!("{text}overtime = \"airhorn\"\n")).unwrap();
        assert_eq!(
            good.roles.get(&Role::Overtime).map(String::as_str),
            Some("airhorn")
        );
        assert!(good.problems().is_empty());
        let missing = Manifest::parse(&format!("{text}deadline = \"bell\"\n")).unwrap();
        assert_eq!(
            missing.problems(),
            [ManifestProblem::RoleInstrument {
                role: Role::Deadline,
                instrument: "bell".into()
            }]
        );
        // An unknown role is a typo to catch, with its place.
        let err = Manifest::parse(&format!("{text}overtim = \"airhorn\"\n")).unwrap_err();
        assert_eq!(err.line, 5, "{err}");
        assert!(err.message.contains("overtim"), "{err}");
    }

    #[test]
    fn instrument_names() {
        assert!(check_instrument_name("kenong-2_b").is_ok());
        assert!(check_instrument_name(&"a".repeat(32)).is_ok());
        assert!(check_instrument_name(&"a".repeat(33)).is_err());
        assert!(check_instrument_name("").is_err());
        assert!(check_instrument_name("gong ageng").is_err());
        assert!(check_instrument_name("gong/../x").is_err());
    }
}
