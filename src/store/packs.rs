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
//! manifest, through the same rules ([`files`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::Serialize;
use tokio::sync::MutexGuard;
use utoipa::ToSchema;

use super::StoreError;
use super::files::{self, ReadError};
use crate::config::{PackChoice, is_pack_name};
use crate::pack::manifest::MAX_MANIFEST_BYTES;
use crate::pack::paths::{PathRefusal, resolve_inside};
use crate::pack::{self, MANIFEST_FILE, Manifest, Pack, PackError};
use crate::synth::SynthError;

/// The id of the default pack.
pub const DEFAULT_PACK: &str = "default";
/// Where the default pack is looked for, relative to the working folder.
const DEFAULT_PACK_DIR: &str = "sounds/default";
/// The folder of installed packs inside the data dir.
pub const PACKS_DIR: &str = "packs";

/// One pack the server can activate.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
}

impl PackInfo {
    fn new(id: &str, manifest: &Manifest, source: &str, active: bool) -> PackInfo {
        PackInfo {
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
    /// The synthesizer's, rendered in memory (no `sounds/default/` here).
    BuiltIn,
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
            Location::BuiltIn => "built-in",
            Location::Default(_) => "default",
            Location::Path(_) => "path",
            Location::Installed(_) => "installed",
        }
    }

    fn dir(&self) -> Option<&Path> {
        match self {
            Location::BuiltIn => None,
            Location::Default(dir) | Location::Path(dir) | Location::Installed(dir) => Some(dir),
        }
    }
}

struct Active {
    id: String,
    pack: Arc<Pack>,
}

/// Installed packs and the active one.
pub struct PackRegistry {
    packs_dir: PathBuf,
    /// A pack named by its folder on the command line: (id, folder).
    explicit: Option<(String, PathBuf)>,
    sample_rate: u32,
    active: RwLock<Active>,
    switching: tokio::sync::Mutex<()>,
}

/// A pack loaded to become the active one, holding the registry's switch (one switch at a
/// time). [`commit`](PackSwitch::commit) makes it active; dropping it changes nothing.
pub struct PackSwitch<'a> {
    registry: &'a PackRegistry,
    _one_at_a_time: MutexGuard<'a, ()>,
    info: PackInfo,
    pack: Arc<Pack>,
}

impl PackSwitch<'_> {
    /// The loaded pack, to hand to whoever plays it.
    #[must_use]
    pub fn pack(&self) -> Arc<Pack> {
        self.pack.clone()
    }

    /// Makes the pack the active one and describes it.
    pub fn commit(self) -> PackInfo {
        *self
            .registry
            .active
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Active {
            id: self.info.id.clone(),
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
        };
        let location = registry
            .locate(&id)
            .ok_or_else(|| registry.no_such_pack(&id))?;
        let pack = registry.load(&id, &location)?;
        registry.active = RwLock::new(Active {
            id,
            pack: Arc::new(pack),
        });
        Ok(registry)
    }

    /// Where pack `id` is; `None` for an unknown id (or a folder without a manifest).
    fn locate(&self, id: &str) -> Option<Location> {
        if id == DEFAULT_PACK {
            let dir = PathBuf::from(DEFAULT_PACK_DIR);
            return Some(if dir.join(MANIFEST_FILE).is_file() {
                Location::Default(dir)
            } else {
                Location::BuiltIn
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

    /// Every pack id, the default first, then the `--pack` folder's, then the installed
    /// ones by name.
    fn ids(&self) -> Vec<String> {
        let mut ids = vec![DEFAULT_PACK.to_owned()];
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

    fn load(&self, id: &str, location: &Location) -> Result<Pack, StoreError> {
        match location.dir() {
            Some(dir) => {
                Pack::load(dir, self.sample_rate).map_err(|error| StoreError::PackDoesNotLoad {
                    id: id.to_owned(),
                    error,
                })
            }
            None => {
                tracing::info!(
                    "{DEFAULT_PACK_DIR}/ not found here; using the built-in synthesizer's default pack"
                );
                builtin_default_pack(self.sample_rate).map_err(StoreError::BuiltinPack)
            }
        }
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
                let manifest = match location.dir() {
                    None => crate::synth::default_manifest(&crate::synth::default_instruments()),
                    Some(dir) => match read_manifest(dir) {
                        Ok(manifest) => manifest,
                        Err(error) => {
                            tracing::warn!("pack {id} is skipped: {error}");
                            return None;
                        }
                    },
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
        let (pack, source) = tokio::task::spawn_blocking(move || {
            let location = registry
                .locate(&owned)
                .ok_or_else(|| registry.no_such_pack(&owned))?;
            let pack = registry.load(&owned, &location)?;
            Ok::<_, StoreError>((pack, location.source()))
        })
        .await
        .map_err(|e| StoreError::Stopped(e.to_string()))??;
        Ok(PackSwitch {
            registry: self,
            _one_at_a_time: one_at_a_time,
            info: PackInfo::new(id, pack.manifest(), source, false),
            pack: Arc::new(pack),
        })
    }
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

/// The default pack rendered in memory by the synthesizer at `sample_rate`: what the server
/// plays when it runs somewhere without `sounds/default/`.
///
/// # Errors
/// A voice failed to render (it never does for the built-in instruments).
pub fn builtin_default_pack(sample_rate: u32) -> Result<Pack, SynthError> {
    let synth = crate::synth::default_instruments();
    let manifest = crate::synth::default_manifest(&synth);
    let mut instruments = Vec::new();
    for instrument in &synth {
        let sounds = instrument
            .voices
            .iter()
            .map(|voice| voice.render(sample_rate).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| SynthError::Render {
                instrument: instrument.name.to_owned(),
                source,
            })?;
        if let Some(loaded) =
            pack::Instrument::new(instrument.name.to_owned(), sounds, instrument.gain_db)
        {
            instruments.push(loaded);
        }
    }
    Ok(Pack::from_instruments(
        PathBuf::from("(built-in)"),
        manifest,
        instruments,
    ))
}

#[cfg(all(test, unix))]
mod test {
    use super::*;

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
            "no pack named 'nope'; the packs are: default, office"
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
        assert_eq!(ids, ["default", "office"]);
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
}
