//! [`PlanStore`]: the built-in templates (read-only) and the plans saved in
//! `DATA_DIR/plans/{id}.toml`.

use std::path::{Path, PathBuf};

use serde::Serialize;
use utoipa::ToSchema;

use super::problem::ApiError;
use crate::session::{PlanId, ValidPlan, template, templates};

/// The largest saved plan file read back.
const MAX_PLAN_BYTES: u64 = 1024 * 1024;

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

/// Templates and saved plans. Writes go through a temporary file and a rename, so a
/// crash never leaves half a plan; one writer at a time.
pub struct PlanStore {
    dir: PathBuf,
    writing: tokio::sync::Mutex<()>,
}

impl PlanStore {
    /// A store keeping saved plans in `data_dir/plans` (created on the first save).
    #[must_use]
    pub fn new(data_dir: &Path) -> PlanStore {
        PlanStore {
            dir: data_dir.join("plans"),
            writing: tokio::sync::Mutex::new(()),
        }
    }

    fn path(&self, id: &PlanId) -> PathBuf {
        self.dir.join(format!("{id}.toml"))
    }

    /// Templates first, then saved plans by id. A saved file that no longer validates is
    /// left out (and logged).
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
    /// 404 when there is no such plan.
    pub async fn get(&self, id: &PlanId) -> Result<(ValidPlan, bool), ApiError> {
        if let Some(plan) = template(id) {
            return Ok((plan.clone(), true));
        }
        let path = self.path(id);
        let loaded = tokio::task::spawn_blocking(move || read_plan(&path))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        match loaded {
            Some(Ok(plan)) => Ok((plan, false)),
            Some(Err(error)) => Err(ApiError::Conflict(format!(
                "saved plan '{id}' no longer validates ({error}); PUT a new version"
            ))),
            None => Err(not_found(id)),
        }
    }

    /// Saves `plan` as `id`; true when it is new. Templates are read-only.
    ///
    /// # Errors
    /// 409 for a template's id; 500 when the disk write fails.
    pub async fn put(&self, id: &PlanId, plan: &ValidPlan) -> Result<bool, ApiError> {
        if template(id).is_some() {
            return Err(read_only(id));
        }
        let text = plan
            .to_toml()
            .map_err(|e| ApiError::Internal(format!("cannot write the plan as TOML: {e}")))?;
        let _one_writer = self.writing.lock().await;
        let dir = self.dir.clone();
        let path = self.path(id);
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            let existed = path.is_file();
            let tmp = path.with_extension("toml.tmp");
            let written = (|| {
                use std::io::Write;
                let mut file = std::fs::File::create(&tmp)?;
                file.write_all(text.as_bytes())?;
                file.sync_all()?;
                std::fs::rename(&tmp, &path)
            })();
            if written.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            written.map(|()| !existed)
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(format!("cannot save plan '{id}': {e}")))
    }

    /// Deletes saved plan `id`.
    ///
    /// # Errors
    /// 409 for a template, 404 for an unknown plan.
    pub async fn delete(&self, id: &PlanId) -> Result<(), ApiError> {
        if template(id).is_some() {
            return Err(read_only(id));
        }
        let _one_writer = self.writing.lock().await;
        match std::fs::remove_file(self.path(id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(not_found(id)),
            Err(e) => Err(ApiError::Internal(format!(
                "cannot delete plan '{id}': {e}"
            ))),
        }
    }
}

fn not_found(id: &PlanId) -> ApiError {
    ApiError::NotFound(format!("no plan '{id}'; GET /v1/plans lists them"))
}

fn read_only(id: &PlanId) -> ApiError {
    ApiError::Conflict(format!(
        "'{id}' is a built-in template and cannot be changed; save your version under another id"
    ))
}

fn read_plan(path: &Path) -> Option<Result<ValidPlan, String>> {
    let size = std::fs::metadata(path).ok()?.len();
    if size > MAX_PLAN_BYTES {
        return Some(Err("the file is larger than 1 MiB".into()));
    }
    let text = std::fs::read_to_string(path).ok()?;
    Some(ValidPlan::from_toml(&text).map_err(|e| e.to_string().replace('\n', "; ")))
}

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
                return None;
            }
            match read_plan(&entry.path())? {
                Ok(plan) => Some((id, plan)),
                Err(error) => {
                    tracing::warn!("saved plan {name} is skipped: {error}");
                    None
                }
            }
        })
        .collect();
    saved.sort_by(|a, b| a.0.cmp(&b.0));
    saved
}
