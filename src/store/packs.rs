//! [`PackRegistry`]: the packs the server can play — the default pack, the folders
//! installed in `DATA_DIR/packs/`, and a folder named on the command line — and which one
//! is active.
//!
//! The registry is the one owner of the active pack. Switching is two steps so that the
//! store never has to know who plays the pack: [`PackRegistry::begin_switch`] loads the new
//! pack (decoding and resampling it, off the async threads) and holds the switch for its
//! caller, who hands the pack to the conductor; [`PackSwitch::commit`] then makes it the
//! active one. Dropping the switch instead leaves the active pack as it was.
//!
//! Loading a pack is [`Pack::load`]'s work, which keeps every file inside the pack folder,
//! reads only regular files and caps each one ([`crate::pack`]). Listing reads only each
//! manifest, through the same rules ([`files`]). Loaded packs are kept decoded in a
//! [`PackCache`], so switching back to a pack costs a lookup, not a decode.
//!
//! Installing ([`PackRegistry::install`], from an archive) and deleting
//! ([`PackRegistry::delete`]) take the same switch, so they never race an activation:
//! the active pack cannot be replaced or deleted (it is playing), nor can a built-in pack
//! or the `--pack DIR` folder. [`install_local`] installs without a server (`gongan pack
//! install`) through the same steps ([`install`]).

mod cache;
pub mod install;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};
use tokio::sync::MutexGuard;
use utoipa::ToSchema;

use super::StoreError;
use super::archive::Limits;
use super::files::{self, ReadError};
use crate::config::{PackChoice, is_pack_name};
use crate::pack::manifest::MAX_MANIFEST_BYTES;
use crate::pack::paths::{PathRefusal, resolve_inside};
use crate::pack::{MANIFEST_FILE, Manifest, Pack, PackError};
use crate::synth::BuiltInPack;

pub use cache::{CACHE_BUDGET_BYTES, CACHE_MAX_PACKS, Fingerprint, PackCache, decoded_bytes};
pub use install::Upload;

/// The id of the default pack.
pub const DEFAULT_PACK: &str = "default";
/// Where the default pack is looked for, relative to the working folder.
const DEFAULT_PACK_DIR: &str = "sounds/default";
/// The folder of installed packs inside the data dir.
pub const PACKS_DIR: &str = "packs";

/// One pack the server can activate.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PackInfo {
    /// What to pass to `POST /v1/packs/{name}/activate`: `default`, an installed pack's
    /// folder name, or the folder name of the pack given with `--pack DIR`.
    pub id: String,
    /// The name in its manifest.
    pub name: String,
    /// What it sounds like.
    pub description: String,
    /// Who made it.
    pub author: String,
    /// Licence of its audio.
    pub licence: String,
    /// How many instruments it defines.
    pub instruments: usize,
    /// `built-in` (synthesized in memory), `default`, `installed` or `path`.
    pub source: String,
    /// Whether cues and sessions play it now.
    pub active: bool,
    /// The default pack's instruments this pack has no sound for: their strokes (and the
    /// roles they play) are heard with the default pack's sound.
    pub falls_back: Vec<String>,
}

impl PackInfo {
    fn new(id: &str, manifest: &Manifest, source: &str, active: bool) -> PackInfo {
        let falls_back = if id == DEFAULT_PACK {
            Vec::new()
        } else {
            BuiltInPack::Default
                .manifest()
                .instruments
                .into_keys()
                .filter(|name| !manifest.instruments.contains_key(name))
                .collect()
        };
        PackInfo {
            falls_back,
            id: id.to_owned(),
            name: manifest.name.clone(),
            description: manifest.description.clone(),
            author: manifest.author.clone(),
            licence: manifest.licence.clone(),
            instruments: manifest.instruments.len(),
            source: source.to_owned(),
            active,
        }
    }
}

/// Where a pack comes from.
enum Location {
    /// The synthesizer's, rendered in memory: `bali`, and `default` where there is no
    /// `sounds/default/`.
    BuiltIn(BuiltInPack),
    /// `sounds/default/`.
    Default(PathBuf),
    /// The folder given with `--pack DIR`.
    Path(PathBuf),
    /// `DATA_DIR/packs/ID`.
    Installed(PathBuf),
}

impl Location {
    fn source(&self) -> &'static str {
        match self {
            Location::BuiltIn(_) => "built-in",
            Location::Default(_) => "default",
            Location::Path(_) => "path",
            Location::Installed(_) => "installed",
        }
    }

    fn dir(&self) -> Option<&Path> {
        match self {
            Location::BuiltIn(_) => None,
            Location::Default(dir) | Location::Path(dir) | Location::Installed(dir) => Some(dir),
        }
    }
}

struct Active {
    id: String,
    pack: Arc<Pack>,
}

/// A pack as [`PackRegistry::fetch`] found it.
struct Fetched {
    pack: Arc<Pack>,
    /// Its [`Location::source`].
    source: &'static str,
    /// Its files when it was decoded; `None` when they cannot be told (it is not cached).
    fingerprint: Option<Fingerprint>,
}

/// Installed packs and the active one.
pub struct PackRegistry {
    packs_dir: PathBuf,
    /// A pack named by its folder on the command line: (id, folder).
    explicit: Option<(String, PathBuf)>,
    sample_rate: u32,
    active: RwLock<Active>,
    /// Held while the active pack changes, and while a pack is installed or deleted.
    switching: tokio::sync::Mutex<()>,
    cache: Mutex<PackCache>,
}

/// What [`PackRegistry::install`] did.
#[derive(Debug, Clone)]
pub struct Installed {
    /// The pack, as `GET /v1/packs` lists it.
    pub info: PackInfo,
    /// Whether it replaced a pack of the same name.
    pub replaced: bool,
}

/// A pack loaded to become the active one, holding the registry's switch (one switch at a
/// time). [`commit`](PackSwitch::commit) makes it active; dropping it changes nothing.
pub struct PackSwitch<'a> {
    registry: &'a PackRegistry,
    _one_at_a_time: MutexGuard<'a, ()>,
    info: PackInfo,
    pack: Arc<Pack>,
    fingerprint: Option<Fingerprint>,
}

impl PackSwitch<'_> {
    /// The loaded pack, to hand to whoever plays it.
    #[must_use]
    pub fn pack(&self) -> Arc<Pack> {
        self.pack.clone()
    }

    /// Makes the pack the active one and describes it. It stays in the cache as long as
    /// it is active; the one it replaces stays as the most recently used.
    pub fn commit(self) -> PackInfo {
        let id = self.info.id.clone();
        let mut cache = self.registry.cache();
        match self.fingerprint {
            Some(fingerprint) => cache.insert(&id, fingerprint, self.pack.clone(), &id),
            None => cache.evict(&id),
        }
        drop(cache);
        *self
            .registry
            .active
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Active {
            id,
            pack: self.pack,
        };
        PackInfo {
            active: true,
            ..self.info
        }
    }
}

impl PackRegistry {
    /// Opens the registry on `data_dir` and loads the starting pack at `sample_rate`
    /// (blocking: decode and resample). Removes the temporaries an interrupted install
    /// left in `DATA_DIR/packs/`.
    ///
    /// # Errors
    /// [`StoreError::NoSuchPack`], [`StoreError::PackDoesNotLoad`], or
    /// [`StoreError::BuiltinPack`].
    pub fn open(
        choice: &PackChoice,
        data_dir: &Path,
        sample_rate: u32,
    ) -> Result<PackRegistry, StoreError> {
        let packs_dir = data_dir.join(PACKS_DIR);
        for name in files::remove_leftovers(&packs_dir) {
            tracing::info!("{PACKS_DIR}/{name}: removed, an unfinished install left it");
        }
        // Made now rather than by the first upload, so the data dir's layout is settled
        // before anything is uploaded. A read-only data dir says so when it is written.
        if let Err(error) = std::fs::create_dir_all(&packs_dir) {
            tracing::debug!("{}: not created: {error}", packs_dir.display());
        }
        let (id, explicit) = match choice {
            PackChoice::Default => (DEFAULT_PACK.to_owned(), None),
            PackChoice::Installed(name) => (name.clone(), None),
            PackChoice::Dir(dir) => {
                let stem = dir
                    .canonicalize()
                    .ok()
                    .and_then(|d| d.file_name().map(|n| n.to_string_lossy().to_lowercase()))
                    .filter(|n| is_pack_name(n) && n != DEFAULT_PACK)
                    .unwrap_or_else(|| "custom".to_owned());
                (stem.clone(), Some((stem, dir.clone())))
            }
        };
        let mut registry = PackRegistry {
            packs_dir,
            explicit,
            sample_rate,
            active: RwLock::new(Active {
                id: String::new(),
                pack: Arc::new(Pack::from_instruments(
                    PathBuf::new(),
                    crate::synth::default_manifest(&[]),
                    [],
                )),
            }),
            switching: tokio::sync::Mutex::new(()),
            cache: Mutex::new(PackCache::default()),
        };
        let pack = registry.fetch(&id)?.pack;
        registry.active = RwLock::new(Active { id, pack });
        Ok(registry)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, PackCache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Pack `id` decoded: from the cache when its files are as they were, else loaded
    /// (blocking) and kept. Also says where it is from, and what its files were.
    fn fetch(&self, id: &str) -> Result<Fetched, StoreError> {
        let location = self.locate(id).ok_or_else(|| self.no_such_pack(id))?;
        let source = location.source();
        let fingerprint = Fingerprint::of(location.dir());
        if let Some(fingerprint) = &fingerprint
            && let Some(pack) = self.cache().get(id, fingerprint)
        {
            return Ok(Fetched {
                pack,
                source,
                fingerprint: Some(fingerprint.clone()),
            });
        }
        let pack = Arc::new(self.load(id, &location)?);
        if let Some(fingerprint) = &fingerprint {
            let active = self.active().0;
            // At start nothing is active yet: the pack being opened will be.
            let active = if active.is_empty() { id } else { &active };
            self.cache()
                .insert(id, fingerprint.clone(), pack.clone(), active);
        }
        Ok(Fetched {
            pack,
            source,
            fingerprint,
        })
    }

    /// Where pack `id` is; `None` for an unknown id (or a folder without a manifest).
    /// Built-in packs come first, then the `--pack DIR` folder, then installed packs: a
    /// folder in `DATA_DIR/packs/` can never stand in for one of the first two.
    fn locate(&self, id: &str) -> Option<Location> {
        if let Some(built_in) = BuiltInPack::named(id) {
            let dir = PathBuf::from(DEFAULT_PACK_DIR);
            let checkout = built_in == BuiltInPack::Default && dir.join(MANIFEST_FILE).is_file();
            return Some(if checkout {
                Location::Default(dir)
            } else {
                Location::BuiltIn(built_in)
            });
        }
        if let Some((explicit, dir)) = &self.explicit
            && explicit == id
        {
            return Some(Location::Path(dir.clone()));
        }
        if !is_pack_name(id) {
            return None;
        }
        let dir = self.packs_dir.join(id);
        dir.join(MANIFEST_FILE)
            .is_file()
            .then_some(Location::Installed(dir))
    }

    /// Every pack id, the built-in ones first (the default before the others), then the
    /// `--pack` folder's, then the installed ones by name.
    fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = BuiltInPack::ALL.map(|p| p.name().to_owned()).into();
        if let Some((id, _)) = &self.explicit {
            ids.push(id.clone());
        }
        if let Ok(entries) = std::fs::read_dir(&self.packs_dir) {
            let mut installed: Vec<String> = entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .filter(|name| is_pack_name(name) && !ids.contains(name))
                .filter(|name| self.locate(name).is_some())
                .collect();
            installed.sort();
            ids.extend(installed);
        }
        ids
    }

    fn no_such_pack(&self, id: &str) -> StoreError {
        StoreError::NoSuchPack {
            name: id.to_owned(),
            packs: self.ids(),
        }
    }

    /// Decodes (or synthesizes) pack `id`. Every pack but the default one falls back to
    /// the default pack for the instruments it lacks ([`Pack::with_fallback`]), so a role
    /// or cue it has no sound for is heard, not silent.
    fn load(&self, id: &str, location: &Location) -> Result<Pack, StoreError> {
        let pack = match location {
            Location::BuiltIn(built_in) => {
                if *built_in == BuiltInPack::Default {
                    tracing::info!(
                        "{DEFAULT_PACK_DIR}/ not found here; using the built-in synthesizer's default pack"
                    );
                }
                built_in
                    .render(self.sample_rate)
                    .map_err(StoreError::BuiltinPack)?
            }
            Location::Default(dir) | Location::Path(dir) | Location::Installed(dir) => {
                Pack::load(dir, self.sample_rate).map_err(|error| StoreError::PackDoesNotLoad {
                    id: id.to_owned(),
                    error,
                })?
            }
        };
        if id == DEFAULT_PACK {
            return Ok(pack);
        }
        Ok(pack.with_fallback(&self.fetch(DEFAULT_PACK)?.pack))
    }

    /// The active pack and its id.
    #[must_use]
    pub fn active(&self) -> (String, Arc<Pack>) {
        let active = self.active.read().unwrap_or_else(|e| e.into_inner());
        (active.id.clone(), active.pack.clone())
    }

    /// Every pack that can be activated, the default first (blocking: reads each
    /// manifest). A pack whose manifest cannot be read is left out, with the reason in the
    /// log.
    #[must_use]
    pub fn list(&self) -> Vec<PackInfo> {
        let active_id = self.active().0;
        self.ids()
            .into_iter()
            .filter_map(|id| {
                let location = self.locate(&id)?;
                let manifest = match &location {
                    Location::BuiltIn(built_in) => built_in.manifest(),
                    Location::Default(dir) | Location::Path(dir) | Location::Installed(dir) => {
                        match read_manifest(dir) {
                            Ok(manifest) => manifest,
                            Err(error) => {
                                tracing::warn!("pack {id} is skipped: {error}");
                                return None;
                            }
                        }
                    }
                };
                Some(PackInfo::new(
                    &id,
                    &manifest,
                    location.source(),
                    id == active_id,
                ))
            })
            .collect()
    }

    /// Pack `id`, loaded, without making it active: the active pack itself when `id` is
    /// the active one's, else loaded (decoded, off the async threads). For playing a
    /// pack's sounds before choosing it (`POST /v1/packs/{name}/preview`).
    ///
    /// # Errors
    /// [`StoreError::NoSuchPack`], [`StoreError::PackDoesNotLoad`],
    /// [`StoreError::BuiltinPack`], or [`StoreError::Stopped`].
    pub async fn pack(self: &Arc<Self>, id: &str) -> Result<Arc<Pack>, StoreError> {
        let (active_id, active) = self.active();
        if active_id == id {
            return Ok(active);
        }
        let registry = self.clone();
        let owned = id.to_owned();
        tokio::task::spawn_blocking(move || registry.fetch(&owned).map(|fetched| fetched.pack))
            .await
            .map_err(|e| StoreError::Stopped(e.to_string()))?
    }

    /// Loads pack `id` to make it the active one; see [`PackSwitch`]. Waits for a switch
    /// under way to end first.
    ///
    /// # Errors
    /// [`StoreError::NoSuchPack`], [`StoreError::PackDoesNotLoad`],
    /// [`StoreError::BuiltinPack`], or [`StoreError::Stopped`].
    pub async fn begin_switch(self: &Arc<Self>, id: &str) -> Result<PackSwitch<'_>, StoreError> {
        let one_at_a_time = self.switching.lock().await;
        let registry = self.clone();
        let owned = id.to_owned();
        let fetched = tokio::task::spawn_blocking(move || registry.fetch(&owned))
            .await
            .map_err(|e| StoreError::Stopped(e.to_string()))??;
        Ok(PackSwitch {
            registry: self,
            _one_at_a_time: one_at_a_time,
            info: PackInfo::new(id, fetched.pack.manifest(), fetched.source, false),
            pack: fetched.pack,
            fingerprint: fetched.fingerprint,
        })
    }

    /// Why pack `name` may not be installed or deleted whatever the packs are: a name
    /// that cannot name a pack, a built-in pack, the `--pack DIR` folder.
    fn refuse_name(&self, name: &str) -> Result<(), StoreError> {
        if is_built_in(name) {
            return Err(StoreError::PackIsReadOnly {
                name: name.to_owned(),
                why: "is built into gongan",
            });
        }
        if self.explicit.as_ref().is_some_and(|(id, _)| id == name) {
            return Err(StoreError::PackIsReadOnly {
                name: name.to_owned(),
                why: "is the folder the server was started with (--pack)",
            });
        }
        if !is_pack_name(name) {
            return Err(StoreError::BadPackName(name.to_owned()));
        }
        Ok(())
    }

    /// Whether pack `name` could be installed now: a check to make before receiving an
    /// archive, so a refused upload is refused before its bytes are sent.
    /// [`install`](PackRegistry::install) checks again.
    ///
    /// # Errors
    /// [`StoreError::BadPackName`], [`StoreError::PackIsReadOnly`] or
    /// [`StoreError::PackIsActive`].
    pub fn check_installable(&self, name: &str) -> Result<(), StoreError> {
        self.refuse_name(name)?;
        if self.active().0 == name {
            return Err(StoreError::PackIsActive(name.to_owned()));
        }
        Ok(())
    }

    /// A temporary file in `DATA_DIR/packs/` to receive an archive into; removed when
    /// dropped.
    ///
    /// # Errors
    /// The data dir cannot be written.
    pub fn new_upload(&self) -> Result<Upload, StoreError> {
        Upload::create(&self.packs_dir)
    }

    /// Installs the pack in `archive` as `DATA_DIR/packs/NAME`: every entry checked, the
    /// pack loaded whole (as `gongan pack check` would check it), then renamed into place
    /// (see [`install`]). A pack of that name is replaced atomically — unless it is the
    /// active pack: that one is playing, so replacing it is refused
    /// ([`StoreError::PackIsActive`]); activate another first. The new pack is kept
    /// decoded, so activating it next is cheap.
    ///
    /// # Errors
    /// [`StoreError::BadPackName`], [`StoreError::PackIsReadOnly`],
    /// [`StoreError::PackIsActive`], [`StoreError::BadArchive`] (naming the entry),
    /// [`StoreError::PackDoesNotLoad`] (naming the file), [`StoreError::Full`]. On any
    /// error nothing is left behind and the packs are as they were.
    pub async fn install(
        self: &Arc<Self>,
        name: &str,
        archive: Upload,
    ) -> Result<Installed, StoreError> {
        self.check_installable(name)?;
        // Unpacking and decoding take long and change nothing: outside the switch.
        let registry = self.clone();
        let owned = name.to_owned();
        let staged = tokio::task::spawn_blocking(move || {
            let staged = install::stage(
                &registry.packs_dir,
                &owned,
                archive.path(),
                registry.sample_rate,
                &Limits::default(),
            );
            drop(archive);
            staged
        })
        .await
        .map_err(|e| StoreError::Stopped(e.to_string()))??;
        let _one_at_a_time = self.switching.lock().await;
        // The active pack may have changed while the archive was unpacked.
        self.check_installable(name)?;
        let registry = self.clone();
        let owned = name.to_owned();
        tokio::task::spawn_blocking(move || {
            let placed = staged.place(&registry.packs_dir, &owned)?;
            let info = PackInfo::new(&owned, placed.pack.manifest(), "installed", false);
            // Cached as `fetch` would have loaded it: with the default pack's instruments
            // for what it lacks.
            let default = registry.fetch(DEFAULT_PACK)?.pack;
            let pack = Arc::new(placed.pack.with_fallback(&default));
            let mut cache = registry.cache();
            match Fingerprint::of(Some(pack.dir())) {
                Some(fingerprint) => {
                    let active = registry.active().0;
                    cache.insert(&owned, fingerprint, pack, &active);
                }
                None => cache.forget(&owned),
            }
            Ok(Installed {
                info,
                replaced: placed.replaced,
            })
        })
        .await
        .map_err(|e| StoreError::Stopped(e.to_string()))?
    }

    /// Deletes the installed pack `name`: renamed aside, then removed, and dropped from
    /// the cache. The active pack is playing, so deleting it is refused.
    ///
    /// # Errors
    /// [`StoreError::NoSuchPack`] (also for a name that cannot name a pack),
    /// [`StoreError::PackIsReadOnly`], [`StoreError::PackIsActive`], [`StoreError::Full`].
    pub async fn delete(self: &Arc<Self>, name: &str) -> Result<(), StoreError> {
        match self.refuse_name(name) {
            Err(StoreError::BadPackName(_)) => return Err(self.no_such_pack(name)),
            other => other?,
        }
        let _one_at_a_time = self.switching.lock().await;
        if self.active().0 == name {
            return Err(StoreError::PackIsActive(name.to_owned()));
        }
        let registry = self.clone();
        let owned = name.to_owned();
        tokio::task::spawn_blocking(move || {
            let removed = install::remove(&registry.packs_dir, &owned)?;
            registry.cache().forget(&owned);
            if removed {
                Ok(())
            } else {
                Err(registry.no_such_pack(&owned))
            }
        })
        .await
        .map_err(|e| StoreError::Stopped(e.to_string()))?
    }
}

/// Whether `id` names a pack built into gongan (never replaced or deleted).
#[must_use]
pub fn is_built_in(id: &str) -> bool {
    BuiltInPack::named(id).is_some()
}

/// Installs the pack at `source` — a pack folder, or a tar, tar.gz or zip archive of one —
/// as `DATA_DIR/packs/NAME` without a server (`gongan pack install`): the same checks and
/// steps as an upload ([`install`]), a folder first written into a tar so it meets the
/// archive rules too. A running server on the same data dir sees the pack at once; if it
/// plays a pack of that name, it goes on playing the sounds it loaded until it switches.
///
/// # Errors
/// As [`PackRegistry::install`], except that no pack is active here.
pub fn install_local(
    data_dir: &Path,
    name: &str,
    source: &Path,
    sample_rate: u32,
) -> Result<Installed, StoreError> {
    if is_built_in(name) {
        return Err(StoreError::PackIsReadOnly {
            name: name.to_owned(),
            why: "is built into gongan",
        });
    }
    if !is_pack_name(name) {
        return Err(StoreError::BadPackName(name.to_owned()));
    }
    let packs_dir = data_dir.join(PACKS_DIR);
    let unreadable = |error| StoreError::Io {
        action: "read",
        file: source.display().to_string(),
        error,
    };
    let limits = Limits::default();
    let staged = if std::fs::metadata(source).map_err(unreadable)?.is_dir() {
        let mut tar = Upload::create(&packs_dir)?;
        super::archive::write_tar(source, tar.file(), &limits).map_err(|error| match error {
            super::archive::ArchiveError::Write(error) => {
                StoreError::writing("copy", format!("{PACKS_DIR}/{name}"), error)
            }
            other => StoreError::BadArchive(other),
        })?;
        install::stage(&packs_dir, name, tar.path(), sample_rate, &limits)?
    } else {
        install::stage(&packs_dir, name, source, sample_rate, &limits)?
    };
    let placed = staged.place(&packs_dir, name)?;
    Ok(Installed {
        info: PackInfo::new(name, placed.pack.manifest(), "installed", false),
        replaced: placed.replaced,
    })
}

/// The manifest of the pack in `dir`, read as loading would read it: a regular file inside
/// the pack, at most [`MAX_MANIFEST_BYTES`].
fn read_manifest(dir: &Path) -> Result<Manifest, PackError> {
    let path = dir.join(MANIFEST_FILE);
    let io = |error: std::io::Error| PackError::Io {
        path: path.clone(),
        error,
    };
    let real_dir = dir.canonicalize().map_err(|error| PackError::NotAFolder {
        path: dir.to_owned(),
        error,
    })?;
    let real = match resolve_inside(&real_dir, Path::new(MANIFEST_FILE)) {
        Ok(real) => real,
        Err(PathRefusal::Missing) => return Err(PackError::MissingManifest { path }),
        Err(refusal) => return Err(io(std::io::Error::other(refusal.to_string()))),
    };
    let bytes = files::read_capped(&real, MAX_MANIFEST_BYTES).map_err(|error| match error {
        ReadError::Io(error) => io(error),
        other => io(std::io::Error::other(other.to_string())),
    })?;
    let text =
        String::from_utf8(bytes).map_err(|_| io(std::io::Error::other("is not UTF-8 text")))?;
    Manifest::parse(&text).map_err(|error| PackError::Syntax {
        path: path.clone(),
        error,
    })
}

#[cfg(all(test, unix))]
mod test {
    use super::*;
    use crate::pack;

    fn registry(data: &Path) -> Arc<PackRegistry> {
        Arc::new(PackRegistry::open(&PackChoice::Default, data, 8_000).unwrap())
    }

    #[test]
    fn an_unknown_pack_names_the_packs_there_are() {
        let data = tempfile::tempdir().unwrap();
        pack::scaffold(&data.path().join("packs/office")).unwrap();
        let error = PackRegistry::open(&PackChoice::Installed("nope".into()), data.path(), 8_000)
            .err()
            .unwrap();
        assert_eq!(
            error.to_string(),
            "no pack named 'nope'; the packs are: default, bali, office"
        );
    }

    #[test]
    fn manifests_that_are_not_files_inside_the_pack_are_skipped() {
        let data = tempfile::tempdir().unwrap();
        let packs = data.path().join(PACKS_DIR);
        pack::scaffold(&packs.join("office")).unwrap();
        for (name, target) in [("zero", "/dev/zero"), ("passwd", "/etc/passwd")] {
            std::fs::create_dir_all(packs.join(name)).unwrap();
            std::os::unix::fs::symlink(target, packs.join(name).join(MANIFEST_FILE)).unwrap();
        }
        std::fs::create_dir_all(packs.join(".gongan-upload.tmp")).unwrap();
        let registry = registry(data.path());
        assert!(!packs.join(".gongan-upload.tmp").exists());
        let ids: Vec<String> = registry.list().into_iter().map(|p| p.id).collect();
        assert_eq!(ids, ["default", "bali", "office"]);
    }

    /// Issue 11: a pack without some of the default pack's instruments is heard with the
    /// default's sounds for them, and the listing says which.
    #[tokio::test]
    async fn a_pack_falls_back_to_the_default_for_what_it_lacks() {
        let data = tempfile::tempdir().unwrap();
        pack::scaffold(&data.path().join("packs/office")).unwrap();
        let registry = registry(data.path());
        let office = registry.pack("office").await.unwrap();
        let default = registry.pack("default").await.unwrap();
        assert!(office.fallbacks().contains(&"kenong".to_owned()));
        assert!(!office.fallbacks().contains(&"gong".to_owned()));
        assert!(office.instrument("kenong").is_some());
        assert!(default.fallbacks().is_empty());
        let listed = registry.list();
        let info = |id: &str| listed.iter().find(|p| p.id == id).unwrap().clone();
        assert_eq!(info("office").falls_back, office.fallbacks());
        assert!(info("default").falls_back.is_empty());
        assert!(info("bali").falls_back.is_empty());
        assert_eq!(info("bali").source, "built-in");
    }

    /// Issue 11: `bali` is built in: it plays from any folder and is never replaced.
    #[tokio::test]
    async fn bali_is_a_built_in_pack() {
        let data = tempfile::tempdir().unwrap();
        let registry = registry(data.path());
        let info = registry.begin_switch("bali").await.unwrap().commit();
        assert_eq!((info.id.as_str(), info.name.as_str()), ("bali", "bali"));
        assert!(registry.active().1.instrument("saron").is_some());
        assert!(is_built_in("bali"));
        let folder = data.path().join("mine");
        pack::scaffold(&folder).unwrap();
        assert!(matches!(
            install_local(data.path(), "bali", &folder, 8_000),
            Err(StoreError::PackIsReadOnly { .. })
        ));
    }

    #[tokio::test]
    async fn a_switch_changes_the_active_pack_only_when_committed() {
        let data = tempfile::tempdir().unwrap();
        pack::scaffold(&data.path().join("packs/office")).unwrap();
        let registry = registry(data.path());
        let switch = registry.begin_switch("office").await.unwrap();
        assert_eq!(switch.pack().name(), "office");
        drop(switch);
        assert_eq!(registry.active().0, "default");
        let info = registry.begin_switch("office").await.unwrap().commit();
        assert!(info.active);
        assert_eq!(
            (info.id.as_str(), info.source.as_str()),
            ("office", "installed")
        );
        assert_eq!(registry.active().0, "office");
        assert!(matches!(
            registry.begin_switch("nope").await.err().unwrap(),
            StoreError::NoSuchPack { .. }
        ));
    }

    /// Issue 11: switching back to a pack takes it from the cache (the very same decoded
    /// sounds), unless its files changed; an install replaces the entry, a delete drops it.
    #[tokio::test]
    async fn switching_back_takes_the_decoded_pack_from_the_cache() {
        let data = tempfile::tempdir().unwrap();
        let office = data.path().join("packs/office");
        pack::scaffold(&office).unwrap();
        let registry = registry(data.path());
        let default = registry.active().1;
        let first = registry.begin_switch("office").await.unwrap().commit();
        assert!(first.active);
        let loaded = registry.active().1;
        registry.begin_switch("default").await.unwrap().commit();
        assert!(
            Arc::ptr_eq(&registry.active().1, &default),
            "default re-synthesized"
        );
        registry.begin_switch("office").await.unwrap().commit();
        assert!(
            Arc::ptr_eq(&registry.active().1, &loaded),
            "office decoded again"
        );
        assert!(Arc::ptr_eq(
            &registry.pack("default").await.unwrap(),
            &default
        ));

        // Edited by hand: loaded afresh.
        registry.begin_switch("default").await.unwrap().commit();
        let manifest = office.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(&manifest, text.replace("gain_db = 0.0", "gain_db = -1.0")).unwrap();
        let edited = registry.pack("office").await.unwrap();
        assert!(!Arc::ptr_eq(&edited, &loaded));
        assert!(Arc::ptr_eq(
            &registry.pack("office").await.unwrap(),
            &edited
        ));

        // Deleted: gone from the cache and the disk; the active pack cannot be.
        registry.delete("office").await.unwrap();
        assert!(!office.exists());
        assert!(matches!(
            registry.pack("office").await.err().unwrap(),
            StoreError::NoSuchPack { .. }
        ));
        assert!(matches!(
            registry.delete("default").await.err().unwrap(),
            StoreError::PackIsReadOnly { .. }
        ));
    }

    /// Issue 11: an install from a folder, through the same steps as an upload, leaves
    /// only the pack; a pack that does not load leaves nothing.
    #[test]
    fn a_local_install_leaves_the_pack_and_nothing_else() {
        let data = tempfile::tempdir().unwrap();
        let source = tempfile::tempdir().unwrap();
        let folder = source.path().join("mine");
        pack::scaffold(&folder).unwrap();
        let installed = install_local(data.path(), "mine", &folder, 8_000).unwrap();
        assert!(!installed.replaced);
        assert_eq!(installed.info.instruments, 1);
        let again = install_local(data.path(), "mine", &folder, 8_000).unwrap();
        assert!(again.replaced);
        std::fs::remove_file(folder.join("gong.wav")).unwrap();
        let error = install_local(data.path(), "other", &folder, 8_000).unwrap_err();
        assert_eq!(
            error.to_string(),
            "pack 'other' does not load: pack.toml: instrument `gong`: file \"gong.wav\" does not exist"
        );
        let names: Vec<String> = std::fs::read_dir(data.path().join(PACKS_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["mine"]);
        assert!(matches!(
            install_local(data.path(), "default", &folder, 8_000),
            Err(StoreError::PackIsReadOnly { .. })
        ));
        assert!(matches!(
            install_local(data.path(), "../x", &folder, 8_000),
            Err(StoreError::BadPackName(_))
        ));
    }
}
