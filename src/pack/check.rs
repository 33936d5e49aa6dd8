//! `gongan pack check`: every problem in a pack, one line each, instead of the first.

use std::fmt;
use std::path::Path;

use super::PackError;
use super::load;
use super::manifest::ManifestProblem;

/// One thing wrong with a pack. Displays as one line that names the file and the fault.
#[derive(Debug)]
pub struct Problem(PackError);

impl Problem {
    /// The underlying error.
    #[must_use]
    pub fn error(&self) -> &PackError {
        &self.0
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<PackError> for Problem {
    fn from(error: PackError) -> Problem {
        Problem(error)
    }
}

/// What a pack that passed its check holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of instruments.
    pub instruments: usize,
    /// Number of sounds: a single-file instrument counts one.
    pub variants: usize,
    /// All sounds' durations added up, in seconds, after trimming silent onsets.
    pub seconds: f64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} instruments, {} variants, {:.1} s of audio",
            self.instruments, self.variants, self.seconds
        )
    }
}

/// Every problem in the pack at `dir`; empty when it would load.
#[must_use]
pub fn check(dir: &Path) -> Vec<Problem> {
    inspect(dir).err().unwrap_or_default()
}

/// Checks the pack at `dir` as [`Pack::load`](super::Pack::load) would, but goes on past
/// problems to list them all. Files are decoded at their own rate (a check does not need
/// the engine rate), so a check is cheaper than a load.
///
/// # Errors
/// Every problem found, in manifest order. A missing or unparsable manifest is the only
/// problem reported, as nothing else can be checked without it.
pub fn inspect(dir: &Path) -> Result<Summary, Vec<Problem>> {
    let opened = load::open(dir).map_err(|e| vec![Problem(e)])?;
    let mut problems: Vec<Problem> = opened.manifest_errors().map(Problem).collect();
    let mut summary = Summary {
        instruments: opened.manifest.instruments.len(),
        variants: 0,
        seconds: 0.0,
    };
    let too_many = problems.iter().any(|p| {
        matches!(
            p.error(),
            PackError::Manifest {
                problem: ManifestProblem::TooManySounds(_),
                ..
            }
        )
    });
    // Past the cap, decoding every file is exactly the cost the cap exists to refuse.
    let instruments = if too_many {
        None
    } else {
        Some(&opened.manifest.instruments)
    };
    for (name, entry) in instruments.into_iter().flatten() {
        for file in entry.files() {
            match opened.sound(name, file, None) {
                Ok(sound) => {
                    summary.variants += 1;
                    summary.seconds += sound.frames() as f64 / f64::from(sound.sample_rate());
                }
                Err(error) => problems.push(Problem(error)),
            }
        }
    }
    if problems.is_empty() {
        Ok(summary)
    } else {
        Err(problems)
    }
}
