//! [`PlanStore`]: the built-in templates (read-only) and the plans saved in
//! `DATA_DIR/plans/{id}.toml`, TOML files a person can edit.
//!
//! Files are read and written as [`files`] says: only regular files, at most
//! [`MAX_PLAN_BYTES`], atomic writes. A saved file that cannot be used (too large, not a
//! file, no longer valid) is left out of the list with a warning in the log, and asking for
//! it by id says why.

use std::path::{Path, PathBuf};

use serde::Serialize;
use utoipa::ToSchema;

use super::StoreError;
use super::files::{self, ReadError};
use crate::session::{Plan, PlanError, PlanId, ValidPlan, template, templates};

/// The largest saved plan file read: far more than the largest valid plan needs.
pub const MAX_PLAN_BYTES: u64 = 1024 * 1024;
/// The folder of saved plans inside the data dir.
pub const PLANS_DIR: &str = "plans";
/// How much of a parser's message about a saved file an error may quote.
const MAX_QUOTED_CHARS: usize = 160;

/// A plan in the list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanSummary {
    /// The id (`GET /v1/plans/{id}`, `POST /v1/session {"plan_id"}`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// How many segments.
    pub segments: usize,
    /// Planned length in seconds.
    pub total_seconds: f64,
    /// True for a built-in template (read-only).
    pub template: bool,
}

impl PlanSummary {
    fn new(id: &PlanId, plan: &ValidPlan, template: bool) -> PlanSummary {
        PlanSummary {
            id: id.to_string(),
            name: plan.name().to_owned(),
            description: plan.description().to_owned(),
            segments: plan.segments().len(),
            total_seconds: plan.total_duration().as_secs_f64(),
            template,
        }
    }
}

/// Templates and saved plans. One writer at a time; readers never see half a plan.
pub struct PlanStore {
    dir: PathBuf,
    writing: tokio::sync::Mutex<()>,
}

impl PlanStore {
    /// The store keeping saved plans in `data_dir/plans` (created on the first save).
    /// Removes the temporary files a crash in the middle of a save left there (blocking,
    /// briefly).
    #[must_use]
    pub fn open(data_dir: &Path) -> PlanStore {
        let dir = data_dir.join(PLANS_DIR);
        for name in files::remove_leftovers(&dir) {
            tracing::info!("{PLANS_DIR}/{name}: removed, an unfinished save left it");
        }
        PlanStore {
            dir,
            writing: tokio::sync::Mutex::new(()),
        }
    }

    fn path(&self, id: &PlanId) -> PathBuf {
        self.dir.join(file_name(id))
    }

    /// Templates first, then saved plans by id. A saved file that cannot be used is left
    /// out, with the reason in the log.
    pub async fn list(&self) -> Vec<PlanSummary> {
        let mut list: Vec<PlanSummary> = templates()
            .iter()
            .map(|(id, plan)| PlanSummary::new(id, plan, true))
            .collect();
        let dir = self.dir.clone();
        let saved = tokio::task::spawn_blocking(move || read_saved(&dir))
            .await
            .unwrap_or_default();
        list.extend(
            saved
                .iter()
                .map(|(id, plan)| PlanSummary::new(id, plan, false)),
        );
        list
    }

    /// The plan `id` and whether it is a template.
    ///
    /// # Errors
    /// [`StoreError::NoSuchPlan`]; for a saved file that cannot be used,
    /// [`StoreError::InvalidPlan`], [`StoreError::NotRegularFile`] or
    /// [`StoreError::TooLarge`].
    pub async fn get(&self, id: &PlanId) -> Result<(ValidPlan, bool), StoreError> {
        if let Some(plan) = template(id) {
            return Ok((plan.clone(), true));
        }
        let path = self.path(id);
        let owned = id.clone();
        tokio::task::spawn_blocking(move || read_plan(&owned, &path))
            .await
            .map_err(|e| StoreError::Stopped(e.to_string()))?
            .map(|plan| (plan, false))
    }

    /// Saves `plan` as `id`; true when it is new. On any failure the file is as it was.
    ///
    /// # Errors
    /// [`StoreError::Template`] for a template's id; [`StoreError::Full`] when the disk is
    /// full or read-only; [`StoreError::Io`] for another failed write.
    pub async fn put(&self, id: &PlanId, plan: &ValidPlan) -> Result<bool, StoreError> {
        if template(id).is_some() {
            return Err(StoreError::Template(id.clone()));
        }
        let text = plan.to_toml().map_err(|e| StoreError::Io {
            action: "write as TOML",
            file: shown(id),
            error: std::io::Error::other(e.to_string()),
        })?;
        let _one_writer = self.writing.lock().await;
        let dir = self.dir.clone();
        let path = self.path(id);
        let file = shown(id);
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)
                .map_err(|e| StoreError::writing("create", PLANS_DIR.to_owned(), e))?;
            let existed = path.symlink_metadata().is_ok();
            files::write_atomic(&path, text.as_bytes())
                .map_err(|e| StoreError::writing("save", file, e))?;
            Ok(!existed)
        })
        .await
        .map_err(|e| StoreError::Stopped(e.to_string()))?
    }

    /// Deletes saved plan `id` (a symlink is removed, never its target).
    ///
    /// # Errors
    /// [`StoreError::Template`] for a template, [`StoreError::NoSuchPlan`] for an unknown
    /// plan, [`StoreError::Full`] on a read-only disk.
    pub async fn delete(&self, id: &PlanId) -> Result<(), StoreError> {
        if template(id).is_some() {
            return Err(StoreError::Template(id.clone()));
        }
        let _one_writer = self.writing.lock().await;
        let path = self.path(id);
        let owned = id.clone();
        tokio::task::spawn_blocking(move || match path.symlink_metadata() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(StoreError::NoSuchPlan(owned))
            }
            Ok(metadata) if metadata.is_dir() => Err(StoreError::NotRegularFile {
                file: shown(&owned),
                kind: files::FileKind::Folder,
            }),
            _ => std::fs::remove_file(&path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => StoreError::NoSuchPlan(owned.clone()),
                _ => StoreError::writing("delete", shown(&owned), e),
            }),
        })
        .await
        .map_err(|e| StoreError::Stopped(e.to_string()))?
    }
}

/// `{id}.toml`.
fn file_name(id: &PlanId) -> String {
    format!("{id}.toml")
}

/// How errors name a plan's file: relative to the data dir, never the server's full path.
fn shown(id: &PlanId) -> String {
    format!("{PLANS_DIR}/{}", file_name(id))
}

/// The saved plans in `data_dir` that can be used, by id, read now (blocking): for the
/// commands that run without a server (`gongan plans`, `run`, `render`).
#[must_use]
pub fn saved_plans(data_dir: &Path) -> Vec<(PlanId, ValidPlan)> {
    read_saved(&data_dir.join(PLANS_DIR))
}

/// The saved plan `id` in `data_dir`, read now (blocking).
///
/// # Errors
/// As [`PlanStore::get`] for a saved plan.
pub fn saved_plan(data_dir: &Path, id: &PlanId) -> Result<ValidPlan, StoreError> {
    read_plan(id, &data_dir.join(PLANS_DIR).join(file_name(id)))
}

/// Reads and validates the saved plan `id` at `path`.
fn read_plan(id: &PlanId, path: &Path) -> Result<ValidPlan, StoreError> {
    let bytes = match files::read_capped(path, MAX_PLAN_BYTES) {
        Ok(bytes) => bytes,
        Err(ReadError::Missing) => return Err(StoreError::NoSuchPlan(id.clone())),
        Err(error) => return Err(error.into_store_error(shown(id))),
    };
    parse_saved(&bytes).map_err(|error| StoreError::InvalidPlan {
        id: id.clone(),
        error,
    })
}

/// A saved plan's bytes as a valid plan. Unlike [`ValidPlan::from_toml`], a syntax error
/// says only where it is and a short excerpt of the parser's message, never the offending
/// line itself: the file may not be a plan at all.
fn parse_saved(bytes: &[u8]) -> Result<ValidPlan, PlanError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        PlanError::Toml(format!(
            "the file is not UTF-8 text (byte {})",
            e.valid_up_to() + 1
        ))
    })?;
    let plan: Plan = toml::from_str(text).map_err(|e: toml::de::Error| {
        let at = e.span().map_or(0, |s| s.start).min(text.len());
        let before = text.get(..at).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        PlanError::Toml(format!(
            "line {line}, column {column}: {}",
            files::excerpt(e.message(), MAX_QUOTED_CHARS)
        ))
    })?;
    plan.validate()
}

/// The saved plans in `dir` that can be used, by id; the others are logged.
fn read_saved(dir: &Path) -> Vec<(PlanId, ValidPlan)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut saved: Vec<(PlanId, ValidPlan)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_str()?.to_owned();
            let id = PlanId::parse(name.strip_suffix(".toml")?).ok()?;
            if template(&id).is_some() {
                tracing::warn!(
                    "{PLANS_DIR}/{name} is skipped: a built-in template has the id '{id}'"
                );
                return None;
            }
            match read_plan(&id, &entry.path()) {
                Ok(plan) => Some((id, plan)),
                Err(error) => {
                    tracing::warn!("saved plan {PLANS_DIR}/{name} is skipped: {error}");
                    None
                }
            }
        })
        .collect();
    saved.sort_by(|a, b| a.0.cmp(&b.0));
    saved
}

#[cfg(all(test, unix))]
mod test {
    use super::*;

    const PLAN: &str = "name = \"Drill\"\n[[segments]]\ntitle = \"Go\"\nduration = \"5m\"\n";

    fn id(text: &str) -> PlanId {
        PlanId::parse(text).unwrap()
    }

    #[test]
    fn a_file_that_is_not_a_plan_is_not_quoted() {
        let secret = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/bin/sh\n";
        let error = parse_saved(secret.as_bytes()).unwrap_err();
        let text = StoreError::InvalidPlan {
            id: id("passwd"),
            error,
        }
        .to_string();
        assert!(text.contains("line 1, column"), "{text}");
        assert!(!text.contains("root") && !text.contains("bash"), "{text}");
        let error = parse_saved(&[0x6e, 0xff, 0xfe]).unwrap_err();
        assert!(error.to_string().contains("not UTF-8"), "{error}");
        assert!(parse_saved(PLAN.as_bytes()).is_ok());
    }

    #[tokio::test]
    async fn save_get_list_delete_and_the_templates_stay_read_only() {
        let data = tempfile::tempdir().unwrap();
        let store = PlanStore::open(data.path());
        let plan = ValidPlan::from_toml(PLAN).unwrap();
        assert!(store.put(&id("drill"), &plan).await.unwrap());
        assert!(!store.put(&id("drill"), &plan).await.unwrap());
        assert_eq!(
            store.get(&id("drill")).await.unwrap(),
            (plan.clone(), false)
        );
        let template_id = templates()[0].0.clone();
        assert!(store.get(&template_id).await.unwrap().1);
        assert!(matches!(
            store.put(&template_id, &plan).await,
            Err(StoreError::Template(_))
        ));
        assert!(matches!(
            store.delete(&template_id).await,
            Err(StoreError::Template(_))
        ));
        let list = store.list().await;
        assert_eq!(list.len(), templates().len() + 1);
        assert_eq!(list.last().unwrap().id, "drill");
        store.delete(&id("drill")).await.unwrap();
        assert!(matches!(
            store.delete(&id("drill")).await,
            Err(StoreError::NoSuchPlan(_))
        ));
        assert!(matches!(
            store.get(&id("drill")).await,
            Err(StoreError::NoSuchPlan(_))
        ));
    }

    #[tokio::test]
    async fn unusable_files_are_skipped_and_say_why_when_asked_for() {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join(PLANS_DIR);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("good.toml"), PLAN).unwrap();
        std::fs::write(
            dir.join("huge.toml"),
            vec![b'#'; MAX_PLAN_BYTES as usize + 1],
        )
        .unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.join("zero.toml")).unwrap();
        std::fs::write(dir.join("broken.toml"), "name = \n").unwrap();
        std::fs::write(dir.join(".gongan-good.toml.tmp"), "half a pl").unwrap();
        let store = PlanStore::open(data.path());
        assert!(!dir.join(".gongan-good.toml.tmp").exists());
        let saved: Vec<String> = store
            .list()
            .await
            .into_iter()
            .filter(|p| !p.template)
            .map(|p| p.id)
            .collect();
        assert_eq!(saved, ["good"]);
        let huge = store.get(&id("huge")).await.unwrap_err();
        assert!(matches!(huge, StoreError::TooLarge { .. }));
        assert_eq!(
            huge.to_string(),
            "plans/huge.toml is 1 MiB (1048577 bytes), over the 1 MiB limit; gongan does not read it"
        );
        let zero = store.get(&id("zero")).await.unwrap_err();
        assert!(
            zero.to_string()
                .starts_with("plans/zero.toml is a character device")
        );
        let broken = store.get(&id("broken")).await.unwrap_err();
        assert!(matches!(broken, StoreError::InvalidPlan { .. }), "{broken}");
        // A save replaces what was there, whatever it was.
        let plan = ValidPlan::from_toml(PLAN).unwrap();
        assert!(!store.put(&id("zero"), &plan).await.unwrap());
        assert_eq!(store.get(&id("zero")).await.unwrap().0, plan);
    }
}
