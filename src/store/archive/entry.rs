//! One archive entry as the checks see it, whatever the format: its name made into a plain
//! relative path, or the reason it is refused.

use std::fmt;

use crate::store::files::size;

/// The longest entry name accepted, in bytes: far more than any pack needs, small enough
/// that names cannot be a way to exhaust memory.
pub const MAX_NAME_BYTES: usize = 1024;
/// The longest single component (file system limits are 255 bytes).
const MAX_COMPONENT_BYTES: usize = 255;

/// What an entry is, once its type has been accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file: unpacked.
    File,
    /// A folder: created (folders are implied by the files in them anyway).
    Folder,
    /// Metadata the format carries as an entry (a pax global header): nothing to unpack.
    Metadata,
}

/// An entry as listed by the first pass over an archive, before anything is unpacked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The name as the archive spells it, for messages.
    pub name: String,
    /// The name made a plain relative path (`a/b.wav`); `None` for the archive's root
    /// itself (`./`, which `tar -C dir .` writes) or for metadata.
    pub path: Option<String>,
    /// File, folder or metadata.
    pub kind: Kind,
    /// The size its header declares (for tar also the bytes its data takes).
    pub size: u64,
    /// Its compressed size, where the format says (zip): for the expansion check.
    pub compressed: Option<u64>,
}

/// Why one entry is refused. Displays as what follows `entry 'NAME': `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryRefusal {
    /// A name starting with `/` or a drive (`C:`).
    Absolute,
    /// A `..` component.
    Outside,
    /// A name that is not text, has control characters or is too long.
    BadName(&'static str),
    /// A symbolic link.
    Symlink,
    /// A hard link.
    HardLink,
    /// A character or block device.
    Device,
    /// A FIFO.
    Fifo,
    /// Any other entry type (a socket, a sparse file, a type tar does not define).
    OtherType(String),
    /// A second entry of the same name.
    Duplicate,
    /// A file where another entry needs a folder, or the other way round.
    FileFolderClash,
    /// An encrypted zip entry.
    Encrypted,
    /// A zip compression method other than stored and deflate.
    Compression(String),
    /// Its declared size alone is over the cap of the whole pack.
    TooLarge {
        /// The declared size.
        declared: u64,
        /// The cap.
        limit: u64,
    },
    /// It would expand far more than audio ever compresses.
    Expansion {
        /// Declared unpacked size.
        declared: u64,
        /// Compressed size.
        compressed: u64,
        /// The most it may expand.
        ratio: u64,
    },
    /// Its data is longer than its header declared.
    LongerThanDeclared {
        /// The declared size.
        declared: u64,
    },
    /// Its data is shorter than its header declared.
    ShorterThanDeclared {
        /// The declared size.
        declared: u64,
        /// What it held.
        real: u64,
    },
}

impl fmt::Display for EntryRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const ONLY: &str = "a pack holds only files and folders";
        match self {
            EntryRefusal::Absolute => f.write_str("an absolute path; names must be relative"),
            EntryRefusal::Outside => f.write_str("a path outside the pack"),
            EntryRefusal::BadName(why) => write!(f, "a name {why}"),
            EntryRefusal::Symlink => write!(f, "a symbolic link; {ONLY}"),
            EntryRefusal::HardLink => write!(f, "a hard link; {ONLY}"),
            EntryRefusal::Device => write!(f, "a device file; {ONLY}"),
            EntryRefusal::Fifo => write!(f, "a FIFO (named pipe); {ONLY}"),
            EntryRefusal::OtherType(kind) => write!(f, "{kind}; {ONLY}"),
            EntryRefusal::Duplicate => f.write_str(
                "a second entry of the same name (names are compared ignoring case, `./` and doubled slashes)",
            ),
            EntryRefusal::FileFolderClash => {
                f.write_str("a file and a folder of the same name (ignoring case)")
            }
            EntryRefusal::Encrypted => f.write_str("encrypted; send the pack unencrypted"),
            EntryRefusal::Compression(method) => write!(
                f,
                "compressed with {method}, which gongan does not read; use deflate (any zip tool's default)"
            ),
            EntryRefusal::TooLarge { declared, limit } => write!(
                f,
                "declares {}, over the {} a whole pack may unpack to",
                size(*declared),
                size(*limit)
            ),
            EntryRefusal::Expansion {
                declared,
                compressed,
                ratio,
            } => write!(
                f,
                "would expand from {} to {}, more than the {ratio}× any sound compresses (a zip bomb?)",
                size(*compressed),
                size(*declared)
            ),
            EntryRefusal::LongerThanDeclared { declared } => write!(
                f,
                "holds more than the {} its header declares",
                size(*declared)
            ),
            EntryRefusal::ShorterThanDeclared { declared, real } => write!(
                f,
                "holds {}, less than the {} its header declares",
                size(*real),
                size(*declared)
            ),
        }
    }
}

impl EntryRefusal {
    /// Whether the refusal is about size (an archive that unpacks too large) rather than
    /// about what the entry is.
    #[must_use]
    pub fn is_about_size(&self) -> bool {
        matches!(
            self,
            EntryRefusal::TooLarge { .. }
                | EntryRefusal::Expansion { .. }
                | EntryRefusal::LongerThanDeclared { .. }
        )
    }
}

/// `name` as a plain relative path: `\` read as `/` (zip tools on Windows write it), `.`
/// and empty components dropped. `Ok(None)` for a name that is the root itself (`./`).
///
/// # Errors
/// An absolute name, a `..` component, control characters, or a name too long.
pub fn normalise(name: &str) -> Result<Option<String>, EntryRefusal> {
    if name.len() > MAX_NAME_BYTES {
        return Err(EntryRefusal::BadName("longer than 1024 bytes"));
    }
    if name.chars().any(char::is_control) {
        return Err(EntryRefusal::BadName("with control characters"));
    }
    let name = name.replace('\\', "/");
    let bytes = name.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if name.starts_with('/') || drive {
        return Err(EntryRefusal::Absolute);
    }
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(EntryRefusal::Outside),
            part if part.len() > MAX_COMPONENT_BYTES => {
                return Err(EntryRefusal::BadName("with a part longer than 255 bytes"));
            }
            part => parts.push(part),
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join("/")))
}

/// Whether an entry is an operating system's metadata rather than part of the pack: macOS
/// zips carry `__MACOSX/` and `.DS_Store`. Such entries are counted against the caps but
/// neither unpacked nor taken for the pack's top-level folder.
#[must_use]
pub fn is_system_clutter(path: &str) -> bool {
    path == "__MACOSX"
        || path.starts_with("__MACOSX/")
        || path.rsplit('/').next() == Some(".DS_Store")
}

/// The key two names collide on: case-insensitive file systems (macOS, Windows) would
/// unpack `Gong.wav` and `gong.wav` into one file, so they count as the same name.
#[must_use]
pub fn collision_key(path: &str) -> String {
    path.to_lowercase()
}
