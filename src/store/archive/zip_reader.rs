//! Zips for [`super::unpack`], read by the `zip` crate: the central directory lists every
//! entry with its declared and compressed sizes, so a zip bomb is refused from the listing
//! alone, before anything is inflated.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use zip::result::ZipError;
use zip::{CompressionMethod, ZipArchive};

use super::{ArchiveError, EntryRefusal, Kind, Limits, Listed, Place, Plan, RATIO_FLOOR, Writer};

/// The file-type bits of a Unix mode, and the types among them.
const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;
const S_IFBLK: u32 = 0o060_000;
const S_IFIFO: u32 = 0o010_000;

/// Lists the zip at `path`, checking each entry alone.
///
/// # Errors
/// The first entry refused, too many entries, or a damaged archive.
pub fn list(path: &Path, limits: &Limits) -> Result<Vec<Listed>, ArchiveError> {
    let mut zip = open(path)?;
    if zip.len() > limits.entries {
        return Err(ArchiveError::TooManyEntries {
            limit: limits.entries,
        });
    }
    let mut listed: Vec<Listed> = Vec::with_capacity(zip.len());
    for index in 0..zip.len() {
        // Raw: the entry's header only, no decompressor set up.
        let entry = zip
            .by_index_raw(index)
            .map_err(|e| damaged(e, Place::after(listed.last())))?;
        listed.push(check(&entry, limits)?);
    }
    Ok(listed)
}

/// Unpacks the entries `plan` keeps; `listed` is what [`list`] returned for this file.
///
/// # Errors
/// A write failure, a damaged entry (its checksum), or real bytes beyond what was declared
/// or allowed.
pub fn unpack(
    path: &Path,
    listed: &[Listed],
    plan: &Plan,
    writer: &mut Writer<'_>,
) -> Result<(), ArchiveError> {
    let mut zip = open(path)?;
    for (index, expected) in listed.iter().enumerate() {
        let Some(target) = super::target(expected, plan, index) else {
            continue;
        };
        let mut entry = zip
            .by_index(index)
            .map_err(|e| damaged(e, Place::In(expected.name.clone())))?;
        if entry.name() != expected.name {
            return Err(ArchiveError::Damaged {
                at: Place::In(expected.name.clone()),
                reason: "the archive changed while it was read".to_owned(),
            });
        }
        match expected.kind {
            Kind::Folder => writer.folder(target)?,
            Kind::File => writer.file(expected, target, &mut entry)?,
            Kind::Metadata => {}
        }
    }
    Ok(())
}

fn open(path: &Path) -> Result<ZipArchive<BufReader<File>>, ArchiveError> {
    let file = File::open(path).map_err(ArchiveError::Read)?;
    ZipArchive::new(BufReader::new(file)).map_err(|e| damaged(e, Place::Start))
}

fn damaged(error: ZipError, at: Place) -> ArchiveError {
    let reason = match error {
        // The crate's own text for an I/O error is just "i/o error".
        ZipError::Io(error) => error.to_string(),
        other => other.to_string(),
    };
    ArchiveError::Damaged { at, reason }
}

/// Checks one entry's central-directory record: name, type, encryption, method, sizes.
fn check<R: std::io::Read>(
    entry: &zip::read::ZipFile<'_, R>,
    limits: &Limits,
) -> Result<Listed, ArchiveError> {
    let name = entry.name().to_owned();
    let refuse = |refusal| ArchiveError::Entry {
        entry: name.clone(),
        refusal,
    };
    let path = super::normalise(&name).map_err(refuse)?;
    let kind = match entry.unix_mode().map(|mode| mode & S_IFMT) {
        Some(S_IFLNK) => return Err(refuse(EntryRefusal::Symlink)),
        Some(S_IFCHR | S_IFBLK) => return Err(refuse(EntryRefusal::Device)),
        Some(S_IFIFO) => return Err(refuse(EntryRefusal::Fifo)),
        Some(S_IFDIR) => Kind::Folder,
        // No Unix mode (a Windows zip), or none of the type bits set: by its name.
        None | Some(0 | S_IFREG) if entry.is_dir() => Kind::Folder,
        None | Some(0 | S_IFREG) => Kind::File,
        Some(_) => return Err(refuse(EntryRefusal::OtherType("a socket".into()))),
    };
    if kind == Kind::File && path.is_none() {
        return Err(refuse(EntryRefusal::BadName("that names no file")));
    }
    if entry.encrypted() {
        return Err(refuse(EntryRefusal::Encrypted));
    }
    let method = entry.compression();
    if !matches!(
        method,
        CompressionMethod::Stored | CompressionMethod::Deflated
    ) {
        return Err(refuse(EntryRefusal::Compression(method.to_string())));
    }
    let (size, compressed) = (entry.size(), entry.compressed_size());
    if size > limits.bytes {
        return Err(refuse(EntryRefusal::TooLarge {
            declared: size,
            limit: limits.bytes,
        }));
    }
    if size > RATIO_FLOOR && size > compressed.saturating_mul(limits.ratio) {
        return Err(refuse(EntryRefusal::Expansion {
            declared: size,
            compressed,
            ratio: limits.ratio,
        }));
    }
    Ok(Listed {
        name,
        path,
        kind,
        size,
        compressed: Some(compressed),
    })
}
