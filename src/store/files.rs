//! Reading and writing files in the data dir without trusting what is there.
//!
//! People edit the data dir too (plans are TOML files a person can edit, packs are folders),
//! so a path in it may turn out to be anything. The rules, for every store:
//!
//! - **Only regular files are read.** A symlink is followed when its target is a regular
//!   file: a team may keep its plans in a repository and link them in, and following such a
//!   link reveals nothing, because whoever can place a link in the data dir can read its
//!   target already and a file that does not parse is never quoted (see [`excerpt`]). A
//!   link to a device, a FIFO or a socket is refused *before* it is opened (opening a FIFO
//!   waits for a writer; opening some devices does things), and the open itself is
//!   non-blocking with the opened file checked again, so a FIFO swapped in between can
//!   never hang a request.
//! - **Every read is capped**: the size is checked on the opened file and the read is
//!   bounded as well, so a file that grows meanwhile cannot exhaust memory.
//! - **Writes are atomic** ([`write_atomic`]): a temporary file in the same folder (named
//!   `.gongan-NAME.tmp`), written, fsynced, renamed over the target, then the folder
//!   fsynced. On failure the temporary is removed and the old file is untouched; a crash
//!   can leave only a temporary, which [`remove_leftovers`] clears when a store opens.

use std::fmt;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::StoreError;

/// How the temporary file of an atomic write starts…
pub const TEMP_PREFIX: &str = ".gongan-";
/// …and ends. No plan or pack can be named like this, so anything that is belongs to us.
pub const TEMP_SUFFIX: &str = ".tmp";

/// What a path in the data dir is, when it is not a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A folder.
    Folder,
    /// A FIFO (named pipe): reading it waits for a writer.
    Fifo,
    /// A Unix socket.
    Socket,
    /// A character device, such as `/dev/zero` (endless).
    CharDevice,
    /// A block device (a disk).
    BlockDevice,
    /// Anything else.
    Other,
}

impl FileKind {
    fn of(metadata: &Metadata) -> FileKind {
        let kind = metadata.file_type();
        if kind.is_dir() {
            return FileKind::Folder;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if kind.is_fifo() {
                return FileKind::Fifo;
            }
            if kind.is_socket() {
                return FileKind::Socket;
            }
            if kind.is_char_device() {
                return FileKind::CharDevice;
            }
            if kind.is_block_device() {
                return FileKind::BlockDevice;
            }
        }
        FileKind::Other
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::Folder => "a folder",
            FileKind::Fifo => "a FIFO (named pipe)",
            FileKind::Socket => "a socket",
            FileKind::CharDevice => "a character device",
            FileKind::BlockDevice => "a block device",
            FileKind::Other => "something other than a file",
        })
    }
}

/// Why [`read_capped`] read nothing.
#[derive(Debug, Error)]
pub enum ReadError {
    /// Nothing at that path (or a symlink to nothing).
    #[error("does not exist")]
    Missing,
    /// A folder, FIFO, socket or device (after following symlinks).
    #[error("is {0}, not a regular file")]
    NotRegular(FileKind),
    /// Over the cap.
    #[error("is {} ({bytes} bytes), over the {} limit", size(*.bytes), size(*.limit))]
    TooLarge {
        /// Its size (or at least this much, when it grew while being read).
        bytes: u64,
        /// The cap.
        limit: u64,
    },
    /// The file system refused (permissions, I/O error).
    #[error("cannot be read: {0}")]
    Io(std::io::Error),
}

impl ReadError {
    /// The store's error for this failure to read `file` (a name relative to the data dir).
    /// [`ReadError::Missing`] is the caller's to turn into "no such thing" first.
    #[must_use]
    pub fn into_store_error(self, file: String) -> StoreError {
        match self {
            ReadError::Missing => StoreError::Io {
                action: "read",
                file,
                error: std::io::ErrorKind::NotFound.into(),
            },
            ReadError::NotRegular(kind) => StoreError::NotRegularFile { file, kind },
            ReadError::TooLarge { bytes, limit } => StoreError::TooLarge { file, bytes, limit },
            ReadError::Io(error) => StoreError::Io {
                action: "read",
                file,
                error,
            },
        }
    }
}

fn io_to_read_error(error: std::io::Error) -> ReadError {
    if error.kind() == std::io::ErrorKind::NotFound {
        ReadError::Missing
    } else {
        ReadError::Io(error)
    }
}

fn check(metadata: &Metadata, limit: u64) -> Result<(), ReadError> {
    if !metadata.is_file() {
        return Err(ReadError::NotRegular(FileKind::of(metadata)));
    }
    if metadata.len() > limit {
        return Err(ReadError::TooLarge {
            bytes: metadata.len(),
            limit,
        });
    }
    Ok(())
}

/// Opens for reading without ever blocking in `open` (a FIFO would wait for a writer) and
/// without taking a terminal as the process's controlling one.
fn open_for_reading(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    options.open(path)
}

/// The bytes of the regular file at `path` (symlinks followed), at most `limit` of them.
///
/// # Errors
/// [`ReadError`]: missing, not a regular file, over `limit`, or unreadable. Nothing is
/// opened unless the path names a regular file.
pub fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    check(&std::fs::metadata(path).map_err(io_to_read_error)?, limit)?;
    let file = open_for_reading(path).map_err(io_to_read_error)?;
    // The path may have been swapped between the look and the open: check what was opened.
    let metadata = file.metadata().map_err(ReadError::Io)?;
    check(&metadata, limit)?;
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            bytes: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// The temporary a write of `path` goes through: `.gongan-NAME.tmp` beside it.
fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!("{TEMP_PREFIX}{name}{TEMP_SUFFIX}"))
}

/// Replaces the file at `path` with `bytes`, atomically and durably: afterwards `path`
/// holds either all of the old content or all of the new, even across a crash or a power
/// cut. The folder must exist.
///
/// # Errors
/// The file system's error; then `path` is as it was and no temporary is left behind.
/// [`is_out_of_space`] tells a full or read-only disk from other failures.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temp = temp_path(path);
    // A leftover by that name goes first, so the temporary is always created fresh
    // (`create_new` is O_EXCL: it never writes through a link someone put there).
    match std::fs::remove_file(&temp) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, path)
    })();
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(error);
    }
    // The rename is done and visible; syncing the folder makes it survive a power cut.
    // If that fails the write has still happened, so it is not reported as failed.
    if let Some(dir) = path.parent()
        && let Err(error) = sync_folder(dir)
    {
        tracing::warn!("{}: the folder could not be synced: {error}", dir.display());
    }
    Ok(())
}

#[cfg(unix)]
fn sync_folder(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_folder(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Removes the temporaries (`.gongan-*.tmp`, files or folders) an interrupted write left
/// in `dir`, and returns their names. A missing `dir` has none. Best effort: what cannot
/// be removed is logged and left.
pub fn remove_leftovers(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
            continue;
        }
        // `file_type` does not follow links: a link is removed, never what it points to.
        let gone = match entry.file_type() {
            Ok(kind) if kind.is_dir() => std::fs::remove_dir_all(entry.path()),
            _ => std::fs::remove_file(entry.path()),
        };
        match gone {
            Ok(()) => removed.push(name),
            Err(error) => tracing::warn!(
                "{}: a leftover temporary could not be removed: {error}",
                entry.path().display()
            ),
        }
    }
    removed.sort();
    removed
}

/// True when `error` says the disk cannot take the write: it is full (or over quota, or
/// the file over the file system's size limit), read-only, or the folder is not writable
/// for gongan. PRODUCT.md §6 answers all of these 507, with the same advice.
#[must_use]
pub fn is_out_of_space(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    #[cfg(unix)]
    if matches!(
        error.raw_os_error(),
        Some(libc::ENOSPC | libc::EDQUOT | libc::EROFS | libc::EFBIG | libc::EACCES | libc::EPERM)
    ) {
        return true;
    }
    matches!(
        error.kind(),
        ErrorKind::StorageFull | ErrorKind::ReadOnlyFilesystem | ErrorKind::PermissionDenied
    )
}

/// At most `max_chars` of `text` on one line, with control characters dropped: what an
/// error may quote of a file that did not parse. Never more, so a file that is not what
/// it claims (a link to `/etc/passwd` named like a plan) is not echoed to a client.
#[must_use]
pub fn excerpt(text: &str, max_chars: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let words: Vec<&str> = clean.split_whitespace().collect();
    let line = words.join(" ");
    if line.chars().count() <= max_chars {
        return line;
    }
    let mut short: String = line.chars().take(max_chars.saturating_sub(1)).collect();
    short.push('…');
    short
}

/// A size as people read it: `512 bytes`, `64 KiB`, `1 MiB`, `1.5 MiB`, `2 GiB`; exact
/// below 1 KiB, rounded to a tenth above.
#[must_use]
pub fn size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if bytes >= unit {
            let amount = format!("{:.1}", bytes as f64 / unit as f64);
            return format!("{} {name}", amount.trim_end_matches(".0"));
        }
    }
    format!("{bytes} bytes")
}

#[cfg(all(test, unix))]
mod test {
    use std::os::unix::fs::FileTypeExt;
    use std::time::{Duration, Instant};

    use super::*;

    fn fifo(path: &Path) {
        let made = std::process::Command::new("mkfifo").arg(path).status();
        assert!(made.unwrap().success(), "mkfifo {}", path.display());
    }

    #[test]
    fn reads_regular_files_and_links_to_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), "name = 'a'").unwrap();
        std::os::unix::fs::symlink(dir.path().join("a.toml"), dir.path().join("b.toml")).unwrap();
        for name in ["a.toml", "b.toml"] {
            assert_eq!(
                read_capped(&dir.path().join(name), 100).unwrap(),
                b"name = 'a'"
            );
        }
    }

    #[test]
    fn refuses_what_is_not_a_regular_file_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let pipe = dir.path().join("pipe.toml");
        fifo(&pipe);
        let zero = dir.path().join("zero.toml");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let started = Instant::now();
        assert!(matches!(
            read_capped(&pipe, 100),
            Err(ReadError::NotRegular(FileKind::Fifo))
        ));
        assert!(matches!(
            read_capped(&zero, 100),
            Err(ReadError::NotRegular(FileKind::CharDevice))
        ));
        assert!(matches!(
            read_capped(dir.path(), 100),
            Err(ReadError::NotRegular(FileKind::Folder))
        ));
        assert!(started.elapsed() < Duration::from_secs(1));
        // The FIFO is refused when opened too (as if swapped in after the look).
        let opened = open_for_reading(&pipe).unwrap();
        assert!(opened.metadata().unwrap().file_type().is_fifo());
    }

    #[test]
    fn caps_the_size_and_says_missing_for_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.toml");
        std::fs::write(&big, vec![b'#'; 2048]).unwrap();
        let error = read_capped(&big, 1024).unwrap_err();
        assert!(matches!(
            error,
            ReadError::TooLarge {
                bytes: 2048,
                limit: 1024
            }
        ));
        assert_eq!(
            error.to_string(),
            "is 2 KiB (2048 bytes), over the 1 KiB limit"
        );
        assert_eq!(read_capped(&big, 2048).unwrap().len(), 2048);
        assert!(matches!(
            read_capped(&dir.path().join("none.toml"), 10),
            Err(ReadError::Missing)
        ));
        std::os::unix::fs::symlink(dir.path().join("gone"), dir.path().join("dangling.toml"))
            .unwrap();
        assert!(matches!(
            read_capped(&dir.path().join("dangling.toml"), 10),
            Err(ReadError::Missing)
        ));
    }

    #[test]
    fn writes_replace_the_whole_file_and_leave_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.toml");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["plan.toml"]);
        // No folder: an error, and nothing written.
        let error = write_atomic(&dir.path().join("none/plan.toml"), b"x").unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn a_link_in_the_temporary_s_place_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let path = dir.path().join("plan.toml");
        std::os::unix::fs::symlink(&victim, temp_path(&path)).unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn leftovers_of_a_crash_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("kept"), "x").unwrap();
        std::fs::write(dir.path().join(".gongan-a.toml.tmp"), "half").unwrap();
        std::fs::create_dir(dir.path().join(".gongan-pack.tmp")).unwrap();
        std::fs::write(dir.path().join(".gongan-pack.tmp/pack.toml"), "x").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join(".gongan-link.tmp")).unwrap();
        for kept in ["a.toml", "a.toml.tmp", ".hidden.tmp", ".gongan-notes"] {
            std::fs::write(dir.path().join(kept), "x").unwrap();
        }
        let removed = remove_leftovers(dir.path());
        assert_eq!(
            removed,
            [".gongan-a.toml.tmp", ".gongan-link.tmp", ".gongan-pack.tmp"]
        );
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [".gongan-notes", ".hidden.tmp", "a.toml", "a.toml.tmp"]
        );
        assert!(outside.path().join("kept").exists());
        assert!(remove_leftovers(&dir.path().join("none")).is_empty());
    }

    #[test]
    fn full_and_read_only_disks_are_told_apart_from_other_failures() {
        for code in [libc::ENOSPC, libc::EROFS, libc::EDQUOT, libc::EACCES] {
            assert!(is_out_of_space(&std::io::Error::from_raw_os_error(code)));
        }
        for code in [libc::EIO, libc::ENOENT] {
            assert!(!is_out_of_space(&std::io::Error::from_raw_os_error(code)));
        }
    }

    #[test]
    fn excerpts_are_short_single_lines_without_control_characters() {
        assert_eq!(excerpt("a\u{1b}[31m\nb\tc", 20), "a [31m b c");
        assert_eq!(excerpt(&"x".repeat(50), 10), format!("{}…", "x".repeat(9)));
        assert_eq!(size(3 * 1024 * 1024 / 2), "1.5 MiB");
        assert_eq!(size(100), "100 bytes");
        assert_eq!(size(1024 * 1024), "1 MiB");
        assert_eq!(size(1024 * 1024 + 1), "1 MiB");
    }
}
