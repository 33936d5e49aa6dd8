//! Sound-pack archives: tar, tar.gz and zip, as uploaded to `PUT /v1/packs/{name}` or given
//! to `gongan pack install`. An archive is untrusted input (PRODUCT.md §5), so:
//!
//! - **The format is read from the bytes** ([`Format::sniff`]: gzip `1f 8b`, zip
//!   `PK\x03\x04`, tar `ustar` at offset 257), never from a file name or a content type.
//! - **Every entry is checked before anything is unpacked.** A first pass lists the
//!   entries from their headers (the `tar` and `zip` crates read the formats; nothing is
//!   parsed by hand) and [`plan`] refuses, naming the entry: `..`, absolute paths,
//!   symbolic and hard links, devices, FIFOs and any other type that is not a file or a
//!   folder, names that collide (after normalising, ignoring case), more than
//!   [`Limits::entries`] entries, and declared sizes over [`Limits::bytes`] in all. A zip
//!   entry that declares more than [`Limits::ratio`] times its compressed size is refused
//!   as a zip bomb before a byte of it is inflated.
//! - **The real bytes are counted while unpacking**, never trusted from headers: each
//!   entry may write at most what it declared, and all of them at most
//!   [`Limits::bytes`]. Reading a compressed tar's headers is capped too, so a gzip bomb
//!   costs at most that much inflating.
//! - **Only files and folders are made**, inside the folder given, with default
//!   permissions (an archive's modes, owners and times are ignored), each file created
//!   new and synced.
//!
//! The pack may sit at the archive's root or inside one top-level folder (what zipping a
//! folder gives); [`Unpacked::root`] says where `pack.toml` landed. A zip's exact duplicate
//! names cannot be refused: the zip crate keeps one entry per name when it reads the
//! central directory, so only the last is ever seen — and so only it is both checked and
//! unpacked.
//!
//! [`write_tar`] does the reverse for `gongan pack install DIR`: a folder into a tar, by
//! the same rules, so a folder is installed by the same code as an archive.

mod entry;
mod tar_reader;
mod write;
mod zip_reader;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use thiserror::Error;

pub use entry::{EntryRefusal, Kind, Listed, MAX_NAME_BYTES, normalise};
pub use write::write_tar;

use super::files::size;
use crate::pack::MANIFEST_FILE;

/// The most entries an archive may hold: a pack lists at most 256 sounds.
pub const MAX_ENTRIES: usize = 1000;
/// The most an archive may unpack to, in all: 256 sounds of a minute of stereo 48 kHz
/// 24-bit audio would be larger, but no real pack comes near.
pub const MAX_UNPACKED_BYTES: u64 = 256 * 1024 * 1024;
/// The most a zip entry may expand. Deflate shrinks audio by 1.1–2×; even a long fade to
/// silence stays far below 100×, while a zip bomb reaches 1000× per layer.
pub const MAX_RATIO: u64 = 100;
/// Entries declaring less than this are not held to the ratio: a short silent file can
/// compress very well and costs nothing to inflate.
const RATIO_FLOOR: u64 = 1024 * 1024;
/// How many bytes [`Format::sniff`] needs to see.
pub const SNIFF_BYTES: usize = 262;

/// What an archive may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most entries (files, folders and metadata).
    pub entries: usize,
    /// The most bytes all files may unpack to.
    pub bytes: u64,
    /// The most a compressed entry may expand.
    pub ratio: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            entries: MAX_ENTRIES,
            bytes: MAX_UNPACKED_BYTES,
            ratio: MAX_RATIO,
        }
    }
}

/// An archive format, as read from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A POSIX (ustar) or GNU tar.
    Tar,
    /// A gzip-compressed tar (`.tar.gz`, `.tgz`).
    TarGz,
    /// A zip.
    Zip,
}

impl Format {
    /// The format of an archive starting with `head` (at least [`SNIFF_BYTES`] of it for
    /// a tar); `None` when it is none of them.
    #[must_use]
    pub fn sniff(head: &[u8]) -> Option<Format> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Format::TarGz)
        } else if head.starts_with(b"PK\x03\x04") {
            Some(Format::Zip)
        } else if head.get(257..262) == Some(b"ustar") {
            Some(Format::Tar)
        } else {
            None
        }
    }

    /// Its media type, for an upload.
    #[must_use]
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Tar => "application/x-tar",
            Format::TarGz => "application/gzip",
            Format::Zip => "application/zip",
        }
    }
}

/// Why an archive was refused or could not be unpacked. Nothing is left of what was
/// unpacked; the caller removes the folder.
#[derive(Debug, Error)]
pub enum ArchiveError {
    /// None of the formats.
    #[error("not a tar, tar.gz or zip archive (it starts with {0})")]
    NotAnArchive(String),
    /// One entry is refused.
    #[error("entry '{entry}': {refusal}")]
    Entry {
        /// The entry's name as the archive spells it.
        entry: String,
        /// Why.
        refusal: EntryRefusal,
    },
    /// The archive's structure is broken: cut short, a bad checksum, a bad header.
    #[error("the archive is damaged or cut short {at}: {reason}")]
    Damaged {
        /// Where.
        at: Place,
        /// What the reader said.
        reason: String,
    },
    /// Over [`Limits::entries`].
    #[error("the archive has more than {limit} entries; a pack needs far fewer")]
    TooManyEntries {
        /// The cap.
        limit: usize,
    },
    /// Over [`Limits::bytes`] in all, by the declared or the real sizes.
    #[error(
        "the archive unpacks to more than the {} a pack may take (at entry '{entry}')",
        size(*.limit)
    )]
    TooLarge {
        /// The entry that went over.
        entry: String,
        /// The cap.
        limit: u64,
    },
    /// No `pack.toml` where a pack's would be.
    #[error(
        "the archive holds no {MANIFEST_FILE}, neither at its root nor inside one top-level folder"
    )]
    NoManifest,
    /// The archive file could not be read.
    #[error("cannot read the archive: {0}")]
    Read(std::io::Error),
    /// A folder being packed ([`write_tar`]) could not be read.
    #[error("cannot read {}: {error}", path.display())]
    ReadFolder {
        /// The file or folder.
        path: PathBuf,
        /// What the file system said.
        error: std::io::Error,
    },
    /// The unpacked files could not be written (a full disk, permissions).
    #[error("cannot unpack the archive: {0}")]
    Write(std::io::Error),
}

/// Where in an archive its reader failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Before any entry was read.
    Start,
    /// Reading this entry's data.
    In(String),
    /// Past this entry, the last one read whole.
    After(String),
}

impl Place {
    fn after(last: Option<&Listed>) -> Place {
        last.map_or(Place::Start, |entry| Place::After(entry.name.clone()))
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Start => f.write_str("at its start"),
            Place::In(entry) => write!(f, "in entry '{entry}'"),
            Place::After(entry) => write!(f, "after entry '{entry}'"),
        }
    }
}

impl ArchiveError {
    /// Whether the archive was refused for its size (too many entries, too many bytes,
    /// a zip bomb) rather than for what it holds.
    #[must_use]
    pub fn is_about_size(&self) -> bool {
        match self {
            ArchiveError::TooManyEntries { .. } | ArchiveError::TooLarge { .. } => true,
            ArchiveError::Entry { refusal, .. } => refusal.is_about_size(),
            _ => false,
        }
    }

    fn entry(entry: &str, refusal: EntryRefusal) -> ArchiveError {
        ArchiveError::Entry {
            entry: entry.to_owned(),
            refusal,
        }
    }
}

/// What [`unpack`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpacked {
    /// The pack's folder: the folder given, or its one top-level folder.
    pub root: PathBuf,
    /// Files written.
    pub files: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// What the checks decided, before anything is unpacked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The pack's top-level folder inside the archive, or `None` for its root.
    pub top: Option<String>,
    /// Which listed entries to unpack (files and folders that are not clutter).
    pub unpack: Vec<bool>,
}

/// Checks a whole listing: caps, names that collide, and where `pack.toml` is. Each entry
/// was already checked on its own while listed (type, name, per-entry size).
///
/// # Errors
/// The first entry refused, naming it, or [`ArchiveError::NoManifest`].
pub fn plan(listed: &[Listed], limits: &Limits) -> Result<Plan, ArchiveError> {
    if listed.len() > limits.entries {
        return Err(ArchiveError::TooManyEntries {
            limit: limits.entries,
        });
    }
    let mut declared = 0u64;
    // Collision key → whether it is a folder; every file's parent folders count too.
    let mut seen: BTreeMap<String, Kind> = BTreeMap::new();
    let mut files = BTreeSet::new();
    let mut tops = BTreeSet::new();
    for entry in listed {
        declared = declared.saturating_add(entry.size);
        if declared > limits.bytes {
            return Err(ArchiveError::TooLarge {
                entry: entry.name.clone(),
                limit: limits.bytes,
            });
        }
        let Some(path) = &entry.path else { continue };
        let clash = |refusal| Err(ArchiveError::entry(&entry.name, refusal));
        // Each parent folder of the entry: `a`, then `a/b` for `a/b/c.wav`.
        let parents = path.match_indices('/').map(|(at, _)| &path[..at]);
        for folder in parents {
            if seen.insert(entry::collision_key(folder), Kind::Folder) == Some(Kind::File) {
                return clash(EntryRefusal::FileFolderClash);
            }
        }
        let key = entry::collision_key(path);
        match (seen.insert(key, entry.kind), entry.kind) {
            (None, _) => {}
            (Some(Kind::Folder), Kind::Folder) => {}
            (Some(Kind::Folder), _) | (Some(_), Kind::Folder) => {
                return clash(EntryRefusal::FileFolderClash);
            }
            (Some(_), _) => return clash(EntryRefusal::Duplicate),
        }
        if entry.kind == Kind::File {
            files.insert(path.as_str());
        }
        if !entry::is_system_clutter(path) {
            tops.insert(path.split('/').next().unwrap_or(path));
        }
    }
    let top = if files.contains(MANIFEST_FILE) {
        None
    } else {
        match tops.into_iter().collect::<Vec<_>>()[..] {
            [top] if files.contains(format!("{top}/{MANIFEST_FILE}").as_str()) => {
                Some(top.to_owned())
            }
            _ => return Err(ArchiveError::NoManifest),
        }
    };
    let unpack = listed
        .iter()
        .map(|entry| {
            entry.kind != Kind::Metadata
                && entry
                    .path
                    .as_deref()
                    .is_some_and(|path| !entry::is_system_clutter(path))
        })
        .collect();
    Ok(Plan { top, unpack })
}

/// Checks the archive at `archive` entry by entry and, when all is well, unpacks it into
/// `into` (an empty folder the caller made and removes on failure).
///
/// # Errors
/// [`ArchiveError`], naming the entry where there is one.
pub fn unpack(archive: &Path, into: &Path, limits: &Limits) -> Result<Unpacked, ArchiveError> {
    let format = sniff_file(archive)?;
    let listed = match format {
        Format::Tar | Format::TarGz => tar_reader::list(archive, format, limits)?,
        Format::Zip => zip_reader::list(archive, limits)?,
    };
    let plan = plan(&listed, limits)?;
    let mut writer = Writer::new(into, limits.bytes);
    match format {
        Format::Tar | Format::TarGz => {
            tar_reader::unpack(archive, format, &listed, &plan, &mut writer, limits)?;
        }
        Format::Zip => zip_reader::unpack(archive, &listed, &plan, &mut writer)?,
    }
    Ok(Unpacked {
        root: match &plan.top {
            Some(top) => into.join(top),
            None => into.to_owned(),
        },
        files: writer.files,
        bytes: writer.written,
    })
}

/// The format of the archive file at `path`.
///
/// # Errors
/// [`ArchiveError::Read`], or [`ArchiveError::NotAnArchive`] quoting its first bytes.
pub fn sniff_file(path: &Path) -> Result<Format, ArchiveError> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    File::open(path)
        .and_then(|file| file.take(SNIFF_BYTES as u64).read_to_end(&mut head))
        .map_err(ArchiveError::Read)?;
    Format::sniff(&head).ok_or_else(|| {
        let shown: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
        ArchiveError::NotAnArchive(if shown.is_empty() {
            "nothing: it is empty".to_owned()
        } else {
            format!("the bytes {}", shown.join(" "))
        })
    })
}

/// Writes the planned entries under one folder, counting the real bytes.
struct Writer<'a> {
    into: &'a Path,
    budget: u64,
    written: u64,
    files: usize,
}

impl Writer<'_> {
    fn new(into: &Path, budget: u64) -> Writer<'_> {
        Writer {
            into,
            budget,
            written: 0,
            files: 0,
        }
    }

    /// Makes folder `path` (relative, already checked).
    fn folder(&self, path: &str) -> Result<(), ArchiveError> {
        std::fs::create_dir_all(self.into.join(path)).map_err(ArchiveError::Write)
    }

    /// Writes file `path` from `data`, which must hold exactly `declared` bytes; the
    /// bytes are counted against the archive's budget as they arrive.
    fn file(
        &mut self,
        entry: &Listed,
        path: &str,
        data: &mut dyn Read,
    ) -> Result<(), ArchiveError> {
        let target = self.into.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(ArchiveError::Write)?;
        }
        // `create_new`: never through something already there (there cannot be, as names
        // were checked; this is the guard if that ever changes).
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(ArchiveError::Write)?;
        let room = self.budget - self.written;
        let allowed = entry.size.min(room);
        let copied = copy(&mut data.take(allowed + 1), &mut file).map_err(|e| match e {
            Copy::Read(error) => ArchiveError::Damaged {
                at: Place::In(entry.name.clone()),
                reason: error.to_string(),
            },
            Copy::Write(error) => ArchiveError::Write(error),
        })?;
        if copied > entry.size {
            return Err(ArchiveError::entry(
                &entry.name,
                EntryRefusal::LongerThanDeclared {
                    declared: entry.size,
                },
            ));
        }
        if copied > room {
            return Err(ArchiveError::TooLarge {
                entry: entry.name.clone(),
                limit: self.budget,
            });
        }
        if copied < entry.size {
            return Err(ArchiveError::entry(
                &entry.name,
                EntryRefusal::ShorterThanDeclared {
                    declared: entry.size,
                    real: copied,
                },
            ));
        }
        file.sync_all().map_err(ArchiveError::Write)?;
        self.written += copied;
        self.files += 1;
        Ok(())
    }
}

enum Copy {
    Read(std::io::Error),
    Write(std::io::Error),
}

/// `std::io::copy`, telling a failure to read the archive from a failure to write.
fn copy(from: &mut dyn Read, to: &mut File) -> Result<u64, Copy> {
    use std::io::Write;
    let mut buffer = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Copy::Read(e)),
        };
        to.write_all(&buffer[..n]).map_err(Copy::Write)?;
        total += n as u64;
    }
}

/// The relative path entry `index` unpacks to, or `None` when it is not unpacked. A
/// top-level folder stays in the path ([`Unpacked::root`] points into it), so the folder
/// that is renamed into place holds exactly the pack.
fn target<'a>(entry: &'a Listed, plan: &Plan, index: usize) -> Option<&'a str> {
    plan.unpack[index].then_some(entry.path.as_deref()?)
}

#[cfg(test)]
mod test;
