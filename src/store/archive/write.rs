//! A pack folder into a tar, for `gongan pack install DIR`: locally, the tar is then
//! installed by the same code as an uploaded archive; with `--server`, it is gzipped and
//! uploaded. The folder is held to the archive rules on the way in, so a link or a FIFO
//! in it is refused by name before anything is written, and never followed or opened.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use tar::{Builder, EntryType, Header};

use super::{ArchiveError, EntryRefusal, Limits};

/// Writes the folder `dir` as a tar into `out`, its contents at the tar's root, in name
/// order, with fixed modes and times (the same folder always makes the same tar).
///
/// # Errors
/// A symbolic link, device, FIFO or socket in the folder (named), over the caps, a name
/// that is not UTF-8, or the I/O error that stopped it.
pub fn write_tar<W: Write>(dir: &Path, out: W, limits: &Limits) -> Result<W, ArchiveError> {
    let mut builder = Builder::new(out);
    let mut walk = Walk {
        builder: &mut builder,
        limits,
        entries: 0,
        bytes: 0,
    };
    walk.folder(dir, "")?;
    builder.into_inner().map_err(ArchiveError::Write)
}

struct Walk<'a, W: Write> {
    builder: &'a mut Builder<W>,
    limits: &'a Limits,
    entries: usize,
    bytes: u64,
}

impl<W: Write> Walk<'_, W> {
    fn folder(&mut self, dir: &Path, prefix: &str) -> Result<(), ArchiveError> {
        let unreadable = |error| ArchiveError::ReadFolder {
            path: dir.to_owned(),
            error,
        };
        let mut children = std::fs::read_dir(dir)
            .map_err(unreadable)?
            .map(|entry| entry.map(|e| e.file_name()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(unreadable)?;
        children.sort();
        for child in children {
            let path = dir.join(&child);
            let shown = child.to_string_lossy();
            let name = if prefix.is_empty() {
                shown.into_owned()
            } else {
                format!("{prefix}/{shown}")
            };
            let refuse = |refusal| ArchiveError::Entry {
                entry: name.clone(),
                refusal,
            };
            if child.to_str().is_none() {
                return Err(refuse(EntryRefusal::BadName("that is not UTF-8 text")));
            }
            self.entries += 1;
            if self.entries > self.limits.entries {
                return Err(ArchiveError::TooManyEntries {
                    limit: self.limits.entries,
                });
            }
            // Not followed: a link is refused as a link, whatever it points to.
            let metadata =
                std::fs::symlink_metadata(&path).map_err(|error| ArchiveError::ReadFolder {
                    path: path.clone(),
                    error,
                })?;
            let kind = metadata.file_type();
            if kind.is_dir() {
                let mut header = header(EntryType::Directory, 0o755, 0);
                self.builder
                    .append_data(&mut header, &name, std::io::empty())
                    .map_err(ArchiveError::Write)?;
                self.folder(&path, &name)?;
            } else if kind.is_file() {
                self.bytes += metadata.len();
                if self.bytes > self.limits.bytes {
                    return Err(ArchiveError::TooLarge {
                        entry: name,
                        limit: self.limits.bytes,
                    });
                }
                let file = File::open(&path).map_err(|error| ArchiveError::ReadFolder {
                    path: path.clone(),
                    error,
                })?;
                let mut header = header(EntryType::Regular, 0o644, metadata.len());
                self.builder
                    .append_data(&mut header, &name, file)
                    .map_err(ArchiveError::Write)?;
            } else {
                return Err(refuse(refusal(&kind)));
            }
        }
        Ok(())
    }
}

fn header(kind: EntryType, mode: u32, size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(0);
    header
}

/// Why a folder entry that is neither a file nor a folder is refused.
fn refusal(kind: &std::fs::FileType) -> EntryRefusal {
    if kind.is_symlink() {
        return EntryRefusal::Symlink;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return EntryRefusal::Fifo;
        }
        if kind.is_char_device() || kind.is_block_device() {
            return EntryRefusal::Device;
        }
        if kind.is_socket() {
            return EntryRefusal::OtherType("a socket".into());
        }
    }
    EntryRefusal::OtherType("neither a file nor a folder".into())
}
