//! Tars, plain or gzip-compressed, for [`super::unpack`]: read twice by the `tar` crate,
//! once to list and check every header, once to unpack.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use tar::{Archive, EntryType};

use super::{ArchiveError, EntryRefusal, Format, Kind, Limits, Listed, Place, Plan, Writer};

/// Room for the headers around the data: a header block per entry, a pax or long-name
/// block or two, padding. Generous: it only bounds what reading headers can cost.
const HEADER_ROOM_PER_ENTRY: u64 = 8 * 1024;

/// Lists the tar at `path` (gzipped when `format` says so), checking each entry alone.
///
/// # Errors
/// The first entry refused, too many entries, or a damaged archive.
pub fn list(path: &Path, format: Format, limits: &Limits) -> Result<Vec<Listed>, ArchiveError> {
    let mut archive = open(path, format, limits)?;
    let mut listed: Vec<Listed> = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| read_error(e, Place::Start, limits))?;
    for entry in entries {
        let entry = entry.map_err(|e| read_error(e, Place::after(listed.last()), limits))?;
        if listed.len() == limits.entries {
            return Err(ArchiveError::TooManyEntries {
                limit: limits.entries,
            });
        }
        listed.push(check(&entry, limits)?);
    }
    Ok(listed)
}

/// Unpacks the entries `plan` keeps; `listed` is what [`list`] returned for this file.
///
/// # Errors
/// A write failure, or real bytes beyond what was declared or allowed.
pub fn unpack(
    path: &Path,
    format: Format,
    listed: &[Listed],
    plan: &Plan,
    writer: &mut Writer<'_>,
    limits: &Limits,
) -> Result<(), ArchiveError> {
    let mut archive = open(path, format, limits)?;
    let entries = archive
        .entries()
        .map_err(|e| read_error(e, Place::Start, limits))?;
    for (index, entry) in entries.enumerate() {
        let before = Place::after(index.checked_sub(1).and_then(|i| listed.get(i)));
        let mut entry = entry.map_err(|e| read_error(e, before, limits))?;
        // The same file read again gives the same entries; if not, stop.
        let Some(expected) = listed
            .get(index)
            .filter(|l| *entry.path_bytes() == *l.name.as_bytes())
        else {
            return Err(ArchiveError::Damaged {
                at: Place::after(index.checked_sub(1).and_then(|i| listed.get(i))),
                reason: "the archive changed while it was read".to_owned(),
            });
        };
        let Some(target) = super::target(expected, plan, index) else {
            continue;
        };
        match expected.kind {
            Kind::Folder => writer.folder(target)?,
            Kind::File => writer.file(expected, target, &mut entry)?,
            Kind::Metadata => {}
        }
    }
    Ok(())
}

/// Checks one entry's header: its name, its type, its size.
fn check<R: Read>(entry: &tar::Entry<'_, R>, limits: &Limits) -> Result<Listed, ArchiveError> {
    let raw = entry.path_bytes();
    let name = String::from_utf8_lossy(&raw).into_owned();
    let refuse = |refusal| ArchiveError::Entry {
        entry: name.clone(),
        refusal,
    };
    if std::str::from_utf8(&raw).is_err() {
        return Err(refuse(EntryRefusal::BadName("that is not UTF-8 text")));
    }
    let kind = match entry.header().entry_type() {
        EntryType::Regular | EntryType::Continuous => Kind::File,
        EntryType::Directory => Kind::Folder,
        // A pax global header: settings for the archive, no file.
        EntryType::XGlobalHeader => Kind::Metadata,
        EntryType::Symlink => return Err(refuse(EntryRefusal::Symlink)),
        EntryType::Link => return Err(refuse(EntryRefusal::HardLink)),
        EntryType::Char | EntryType::Block => return Err(refuse(EntryRefusal::Device)),
        EntryType::Fifo => return Err(refuse(EntryRefusal::Fifo)),
        EntryType::GNUSparse => {
            return Err(refuse(EntryRefusal::OtherType("a sparse file".into())));
        }
        other => {
            return Err(refuse(EntryRefusal::OtherType(format!(
                "an entry of tar type '{}'",
                char::from(other.as_byte()).escape_default()
            ))));
        }
    };
    let (path, size) = if kind == Kind::Metadata {
        (None, 0)
    } else {
        let path = super::normalise(&name).map_err(refuse)?;
        if kind == Kind::File && path.is_none() {
            return Err(refuse(EntryRefusal::BadName("that names no file")));
        }
        (path, entry.size())
    };
    if size > limits.bytes {
        return Err(refuse(EntryRefusal::TooLarge {
            declared: size,
            limit: limits.bytes,
        }));
    }
    Ok(Listed {
        name,
        path,
        kind,
        size,
        compressed: None,
    })
}

fn open(path: &Path, format: Format, limits: &Limits) -> Result<Archive<Capped>, ArchiveError> {
    let file = BufReader::new(File::open(path).map_err(ArchiveError::Read)?);
    let stream: Box<dyn Read> = match format {
        // Concatenated gzip members are one stream (what `cat a.gz b.gz` makes).
        Format::TarGz => Box::new(MultiGzDecoder::new(file)),
        Format::Tar | Format::Zip => Box::new(file),
    };
    let cap = limits
        .bytes
        .saturating_add((limits.entries as u64 + 2) * HEADER_ROOM_PER_ENTRY);
    Ok(Archive::new(Capped {
        inner: stream,
        left: cap,
    }))
}

/// The archive's error for a failure of the tar reader at `at`.
fn read_error(error: std::io::Error, at: Place, limits: &Limits) -> ArchiveError {
    if error.get_ref().is_some_and(|e| e.is::<OverCap>()) {
        let entry = match at {
            Place::Start => "(the first)".to_owned(),
            Place::In(entry) | Place::After(entry) => entry,
        };
        return ArchiveError::TooLarge {
            entry,
            limit: limits.bytes,
        };
    }
    ArchiveError::Damaged {
        at,
        reason: error.to_string(),
    }
}

/// The stream under the tar reader, bounded: past the cap every read fails with
/// [`OverCap`], so walking the headers of a gzip bomb stops at the cap instead of
/// inflating it all.
struct Capped {
    inner: Box<dyn Read>,
    left: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("the archive unpacks to more than its cap")]
struct OverCap;

impl Read for Capped {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            // One byte more tells the end of the stream from a stream over the cap.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(std::io::Error::other(OverCap)),
            };
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}
