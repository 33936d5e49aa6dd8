//! Installing and removing packs in `DATA_DIR/packs/`, all or nothing.
//!
//! An install goes through temporaries inside `DATA_DIR/packs/` (so every rename stays on
//! one file system, and [`files::remove_leftovers`] clears what a crash leaves):
//!
//! 1. the archive, as received ([`Upload`]: `.gongan-upload-….tmp`);
//! 2. [`stage`]: unpacked into `.gongan-unpack-….tmp/` after every entry was checked
//!    ([`archive`]), then loaded whole at the engine's rate, as `gongan pack check` would
//!    check it — a pack that does not load is never installed;
//! 3. [`Staged::place`]: renamed into place as `packs/NAME`. A pack already there is
//!    renamed aside first (`.gongan-replaced-….tmp`), and back if the new one cannot be
//!    renamed in, then removed. Between the two renames `packs/NAME` is briefly absent,
//!    never half-written.
//!
//! On any failure every temporary is removed (by `Drop`), so nothing is left behind;
//! [`remove`] renames a pack aside before removing it, so a pack is never seen half
//! deleted. The registry ([`super::PackRegistry`]) adds the rules that need the server's
//! state: not the active pack, not a built-in one.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::pack::{Pack, PackError};
use crate::store::StoreError;
use crate::store::archive::{self, ArchiveError, Limits};
use crate::store::files::{TEMP_PREFIX, TEMP_SUFFIX};

use super::PACKS_DIR;

/// An archive being received into `DATA_DIR/packs/`; removed when dropped.
pub struct Upload {
    path: PathBuf,
    file: File,
}

impl Upload {
    /// A new, empty temporary file in `packs_dir` (created with its parents).
    ///
    /// # Errors
    /// The data dir cannot be written ([`StoreError::Full`] when full or read-only).
    pub fn create(packs_dir: &Path) -> Result<Upload, StoreError> {
        let cannot = |error| StoreError::writing("receive", "an upload".to_owned(), error);
        std::fs::create_dir_all(packs_dir).map_err(cannot)?;
        let path = packs_dir.join(temp_name("upload"));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(cannot)?;
        Ok(Upload { path, file })
    }

    /// Appends `bytes`.
    ///
    /// # Errors
    /// The disk refused ([`StoreError::Full`] when full).
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.file
            .write_all(bytes)
            .map_err(|error| StoreError::writing("receive", "an upload".to_owned(), error))
    }

    /// The file, to write into directly.
    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// Where it is.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_file(&self.path) {
            tracing::warn!("{}: cannot remove an upload: {error}", self.path.display());
        }
    }
}

/// A temporary folder in `DATA_DIR/packs/`, removed (with what is left in it) when
/// dropped.
struct Temporary(PathBuf);

impl Drop for Temporary {
    fn drop(&mut self) {
        remove_tree(&self.0);
    }
}

/// A pack unpacked and loaded in a temporary folder, ready to be renamed into place.
pub struct Staged {
    root: PathBuf,
    pack: Pack,
    _folder: Temporary,
}

impl Staged {
    /// The pack as loaded.
    #[must_use]
    pub fn pack(&self) -> &Pack {
        &self.pack
    }

    /// Renames the pack into place as `packs_dir/name`, replacing a pack of that name.
    ///
    /// # Errors
    /// A rename failed ([`StoreError::Full`] on a read-only disk); then the pack that was
    /// there is there still.
    pub fn place(self, packs_dir: &Path, name: &str) -> Result<Placed, StoreError> {
        let target = packs_dir.join(name);
        let file = format!("{PACKS_DIR}/{name}");
        let aside = match std::fs::symlink_metadata(&target) {
            Ok(_) => {
                let aside = packs_dir.join(temp_name("replaced"));
                std::fs::rename(&target, &aside)
                    .map_err(|e| StoreError::writing("replace", file.clone(), e))?;
                Some(aside)
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(StoreError::writing("replace", file, error)),
        };
        if let Err(error) = std::fs::rename(&self.root, &target) {
            if let Some(aside) = &aside
                && let Err(back) = std::fs::rename(aside, &target)
            {
                tracing::error!(
                    "{file}: the pack it replaced could not be put back ({back}); it is in {}",
                    aside.display()
                );
            }
            return Err(StoreError::writing("install", file, error));
        }
        sync_folder(packs_dir);
        if let Some(aside) = &aside {
            remove_tree(aside);
        }
        // The same decoded sounds, now where they live.
        let pack = Pack::from_instruments(
            target,
            self.pack.manifest().clone(),
            self.pack.instruments().cloned(),
        );
        Ok(Placed {
            replaced: aside.is_some(),
            pack,
        })
    }
}

/// A pack renamed into place.
pub struct Placed {
    /// Whether it replaced a pack of the same name.
    pub replaced: bool,
    /// The pack, loaded.
    pub pack: Pack,
}

/// Unpacks `archive` into a temporary folder in `packs_dir` and loads the pack in it at
/// `sample_rate`, as pack `name` (for messages).
///
/// # Errors
/// [`StoreError::BadArchive`] naming the entry, [`StoreError::PackDoesNotLoad`] naming the
/// file (relative to the pack), [`StoreError::Full`]. Nothing is left behind.
pub fn stage(
    packs_dir: &Path,
    name: &str,
    archive: &Path,
    sample_rate: u32,
    limits: &Limits,
) -> Result<Staged, StoreError> {
    let cannot = |error| StoreError::writing("unpack", format!("{PACKS_DIR}/{name}"), error);
    std::fs::create_dir_all(packs_dir).map_err(cannot)?;
    let folder = Temporary(packs_dir.join(temp_name("unpack")));
    std::fs::create_dir(&folder.0).map_err(cannot)?;
    let unpacked = archive::unpack(archive, &folder.0, limits).map_err(|error| match error {
        ArchiveError::Write(error) => cannot(error),
        ArchiveError::Read(error) => StoreError::Io {
            action: "read",
            file: "the archive".to_owned(),
            error,
        },
        other => StoreError::BadArchive(other),
    })?;
    let pack =
        Pack::load(&unpacked.root, sample_rate).map_err(|error| StoreError::PackDoesNotLoad {
            id: name.to_owned(),
            error: inside_pack(error, &unpacked.root),
        })?;
    tracing::debug!(
        "pack {name}: {} files, {} unpacked and loaded",
        unpacked.files,
        crate::store::files::size(unpacked.bytes)
    );
    Ok(Staged {
        root: unpacked.root,
        pack,
        _folder: folder,
    })
}

/// Removes `packs_dir/name`: renamed aside, then removed. `Ok(false)` when there is
/// nothing of that name. A link is removed, never what it points to.
///
/// # Errors
/// The rename failed ([`StoreError::Full`] on a read-only disk); then the pack is there
/// still.
pub fn remove(packs_dir: &Path, name: &str) -> Result<bool, StoreError> {
    let target = packs_dir.join(name);
    if let Err(error) = std::fs::symlink_metadata(&target) {
        return match error.kind() {
            std::io::ErrorKind::NotFound => Ok(false),
            _ => Err(StoreError::writing(
                "delete",
                format!("{PACKS_DIR}/{name}"),
                error,
            )),
        };
    }
    let aside = packs_dir.join(temp_name("deleted"));
    std::fs::rename(&target, &aside)
        .map_err(|e| StoreError::writing("delete", format!("{PACKS_DIR}/{name}"), e))?;
    sync_folder(packs_dir);
    remove_tree(&aside);
    Ok(true)
}

/// A temporary's name: `.gongan-WHAT-RANDOM.tmp`, unique, and cleared at start if left.
fn temp_name(what: &str) -> String {
    let random = getrandom::u64().unwrap_or_else(|_| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.map_or(0, |d| d.as_nanos() as u64) ^ u64::from(std::process::id())
    });
    format!("{TEMP_PREFIX}{what}-{random:016x}{TEMP_SUFFIX}")
}

/// Removes a file, a link or a whole folder; failures are logged (what is left is a
/// temporary, removed at the next start).
fn remove_tree(path: &Path) {
    let removed = match std::fs::symlink_metadata(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return,
        Ok(metadata) if metadata.is_dir() => std::fs::remove_dir_all(path),
        _ => std::fs::remove_file(path),
    };
    if let Err(error) = removed {
        tracing::warn!("{}: cannot remove a temporary: {error}", path.display());
    }
}

/// Makes the renames in `dir` survive a power cut; a failure is logged (the renames have
/// happened).
fn sync_folder(dir: &Path) {
    #[cfg(unix)]
    if let Err(error) = File::open(dir).and_then(|f| f.sync_all()) {
        tracing::warn!("{}: the folder could not be synced: {error}", dir.display());
    }
}

/// `error` with its paths relative to the pack's folder: a client is told
/// `pack.toml: instrument …`, never where the server keeps its temporaries.
fn inside_pack(error: PackError, root: &Path) -> PackError {
    let shown = |path: PathBuf| match path.strip_prefix(root) {
        Ok(inside) if inside.as_os_str().is_empty() => PathBuf::from("."),
        Ok(inside) => inside.to_owned(),
        Err(_) => path,
    };
    match error {
        PackError::NotAFolder { path, error } => PackError::NotAFolder {
            path: shown(path),
            error,
        },
        PackError::MissingManifest { path } => PackError::MissingManifest { path: shown(path) },
        PackError::Io { path, error } => PackError::Io {
            path: shown(path),
            error,
        },
        PackError::Syntax { path, error } => PackError::Syntax {
            path: shown(path),
            error,
        },
        PackError::Manifest { path, problem } => PackError::Manifest {
            path: shown(path),
            problem,
        },
        PackError::BadPath {
            manifest,
            instrument,
            file,
            refusal,
        } => PackError::BadPath {
            manifest: shown(manifest),
            instrument,
            file,
            refusal,
        },
        PackError::Audio {
            path,
            instrument,
            error,
        } => PackError::Audio {
            path: shown(path),
            instrument,
            error,
        },
        PackError::NotEmpty { path } => PackError::NotEmpty { path: shown(path) },
    }
}
