//! [`PackRegistry`]: the packs the server can play — the default pack and those installed
//! in `DATA_DIR/packs/` — and which one is active.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::Serialize;
use utoipa::ToSchema;

use super::problem::ApiError;
use crate::config::{PackChoice, is_pack_name};
use crate::pack::{self, MANIFEST_FILE, Manifest, Pack};
use crate::session::ConductorHandle;

/// The id of the default pack.
pub const DEFAULT_PACK: &str = "default";
/// Where the default pack is looked for, relative to the working folder.
const DEFAULT_PACK_DIR: &str = "sounds/default";

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

struct Active {
    id: String,
    pack: Arc<Pack>,
}

/// Installed packs and the active one. Activation loads a pack from disk (decoding and
/// resampling it) off the async threads, then hands it to the conductor.
pub struct PackRegistry {
    data_dir: PathBuf,
    /// A pack named by its folder on the command line: (id, folder).
    explicit: Option<(String, PathBuf)>,
    sample_rate: u32,
    active: RwLock<Active>,
    switching: tokio::sync::Mutex<()>,
}

/// Why the starting pack could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PackLoadError {
    /// No such installed pack.
    #[error("no pack named '{name}' in {}: installed packs are {installed}", dir.display())]
    NotInstalled {
        /// The name asked for.
        name: String,
        /// Where installed packs live.
        dir: PathBuf,
        /// What is there.
        installed: String,
    },
    /// The pack failed to load.
    #[error("{0}")]
    Load(String),
}

impl PackRegistry {
    /// Loads the starting pack at `sample_rate` (blocking: decode and resample).
    ///
    /// # Errors
    /// The pack does not exist or does not load.
    pub fn open(
        choice: &PackChoice,
        data_dir: &Path,
        sample_rate: u32,
    ) -> Result<PackRegistry, PackLoadError> {
        let mut registry = PackRegistry {
            data_dir: data_dir.to_owned(),
            explicit: None,
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
        let id = match choice {
            PackChoice::Default => DEFAULT_PACK.to_owned(),
            PackChoice::Installed(name) => name.clone(),
            PackChoice::Dir(dir) => {
                let stem = dir
                    .canonicalize()
                    .ok()
                    .and_then(|d| d.file_name().map(|n| n.to_string_lossy().to_lowercase()))
                    .filter(|n| is_pack_name(n) && n != DEFAULT_PACK)
                    .unwrap_or_else(|| "custom".to_owned());
                registry.explicit = Some((stem.clone(), dir.clone()));
                stem
            }
        };
        if let PackChoice::Installed(name) = choice
            && registry.dir_of(name).is_none()
        {
            return Err(PackLoadError::NotInstalled {
                name: name.clone(),
                dir: registry.packs_dir(),
                installed: registry
                    .list()
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let pack = registry.load(&id).map_err(PackLoadError::Load)?;
        registry.active = RwLock::new(Active {
            id,
            pack: Arc::new(pack),
        });
        Ok(registry)
    }

    fn packs_dir(&self) -> PathBuf {
        self.data_dir.join("packs")
    }

    /// The folder of pack `id`; `None` for an unknown id, and for the default pack when it
    /// is built in (no `sounds/default/`).
    fn dir_of(&self, id: &str) -> Option<Option<PathBuf>> {
        if id == DEFAULT_PACK {
            let dir = PathBuf::from(DEFAULT_PACK_DIR);
            return Some(dir.join(MANIFEST_FILE).is_file().then_some(dir));
        }
        if let Some((explicit, dir)) = &self.explicit
            && explicit == id
        {
            return Some(Some(dir.clone()));
        }
        if !is_pack_name(id) {
            return None;
        }
        let dir = self.packs_dir().join(id);
        dir.join(MANIFEST_FILE).is_file().then_some(Some(dir))
    }

    fn load(&self, id: &str) -> Result<Pack, String> {
        match self.dir_of(id) {
            None => Err(format!("no pack named '{id}'")),
            Some(Some(dir)) => Pack::load(&dir, self.sample_rate).map_err(|e| e.to_string()),
            Some(None) => {
                tracing::info!(
                    "{DEFAULT_PACK_DIR}/ not found here; using the built-in synthesizer's default pack"
                );
                builtin_default_pack(self.sample_rate)
            }
        }
    }

    /// The active pack and its id.
    #[must_use]
    pub fn active(&self) -> (String, Arc<Pack>) {
        let active = self.active.read().unwrap_or_else(|e| e.into_inner());
        (active.id.clone(), active.pack.clone())
    }

    /// Every pack that can be activated, the default first.
    #[must_use]
    pub fn list(&self) -> Vec<PackInfo> {
        let active_id = self.active().0;
        let mut ids = vec![DEFAULT_PACK.to_owned()];
        if let Some((id, _)) = &self.explicit {
            ids.push(id.clone());
        }
        if let Ok(entries) = std::fs::read_dir(self.packs_dir()) {
            let mut installed: Vec<String> = entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .filter(|name| is_pack_name(name) && !ids.contains(name))
                .collect();
            installed.sort();
            ids.extend(installed);
        }
        ids.into_iter()
            .filter_map(|id| {
                let (manifest, source) = match self.dir_of(&id)? {
                    None => (
                        crate::synth::default_manifest(&crate::synth::default_instruments()),
                        "built-in",
                    ),
                    Some(dir) => {
                        let source = if id == DEFAULT_PACK {
                            "default"
                        } else if self.explicit.as_ref().is_some_and(|(e, _)| *e == id) {
                            "path"
                        } else {
                            "installed"
                        };
                        match read_manifest(&dir) {
                            Ok(manifest) => (manifest, source),
                            Err(error) => {
                                tracing::warn!("pack {id}: {error}");
                                return None;
                            }
                        }
                    }
                };
                Some(PackInfo {
                    active: id == active_id,
                    id,
                    name: manifest.name,
                    description: manifest.description,
                    author: manifest.author,
                    licence: manifest.licence,
                    instruments: manifest.instruments.len(),
                    source: source.to_owned(),
                })
            })
            .collect()
    }

    /// Loads pack `id` and makes it the one cues and sessions play.
    ///
    /// # Errors
    /// 404 for an unknown pack, 422 when it does not load, 503 when the conductor is gone.
    pub async fn activate(
        self: &Arc<Self>,
        id: &str,
        conductor: &ConductorHandle,
    ) -> Result<PackInfo, ApiError> {
        if self.dir_of(id).is_none() {
            return Err(ApiError::NotFound(format!(
                "no pack named '{id}'; GET /v1/packs lists them"
            )));
        }
        let _one_at_a_time = self.switching.lock().await;
        let registry = self.clone();
        let owned = id.to_owned();
        let pack = tokio::task::spawn_blocking(move || registry.load(&owned))
            .await
            .map_err(|e| ApiError::Internal(format!("loading the pack failed: {e}")))?
            .map_err(|e| ApiError::Invalid(format!("pack '{id}' does not load: {e}")))?;
        let pack = Arc::new(pack);
        conductor.set_pack(pack.clone()).await?;
        *self.active.write().unwrap_or_else(|e| e.into_inner()) = Active {
            id: id.to_owned(),
            pack,
        };
        self.list()
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| ApiError::NotFound(format!("pack '{id}' disappeared")))
    }
}

fn read_manifest(dir: &Path) -> Result<Manifest, String> {
    let path = dir.join(MANIFEST_FILE);
    let size = std::fs::metadata(&path).map_err(|e| e.to_string())?.len();
    if size > pack::manifest::MAX_MANIFEST_BYTES {
        return Err("pack.toml is too large".into());
    }
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    Manifest::parse(&text).map_err(|e| e.to_string())
}

/// The default pack rendered in memory by the synthesizer at `sample_rate`: what the server
/// plays when it runs somewhere without `sounds/default/`.
///
/// # Errors
/// A voice failed to render (it never does for the built-in instruments).
pub fn builtin_default_pack(sample_rate: u32) -> Result<Pack, String> {
    let synth = crate::synth::default_instruments();
    let manifest = crate::synth::default_manifest(&synth);
    let mut instruments = Vec::new();
    for instrument in &synth {
        let sounds = instrument
            .voices
            .iter()
            .map(|voice| voice.render(sample_rate).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{}: {e}", instrument.name))?;
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
