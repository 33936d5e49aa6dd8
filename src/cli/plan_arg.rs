//! The `PLAN` argument of `run` and `render`: a plan file, a template's id, or the id of a
//! plan saved in the data dir (from the page or `PUT /v1/plans/{id}`); and `gongan plans`,
//! which lists the last two.

use std::path::Path;

use anyhow::{Context, bail};
use gongan::session::{PlanId, SegmentDuration, ValidPlan, template, templates};
use gongan::store::StoreError;
use gongan::store::plans::{saved_plan, saved_plans};

use super::clean;
use super::history::default_data_dir as data_dir;
use super::table::table;

/// Loads a plan from a TOML file, the built-in template with that id, or the plan saved
/// with that id in the data dir `gongan serve` uses (looked up only then: a plan file
/// needs no home directory).
pub fn load_plan(arg: &str) -> anyhow::Result<ValidPlan> {
    let path = Path::new(arg);
    if path.is_file() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return ValidPlan::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    if !arg.contains('/')
        && let Ok(id) = PlanId::parse(arg.trim_end_matches(".toml"))
    {
        if let Some(plan) = template(&id) {
            return Ok(plan.clone());
        }
        match saved_plan(&data_dir()?, &id) {
            Ok(plan) => return Ok(plan),
            Err(StoreError::NoSuchPlan(_)) => {}
            Err(error) => bail!("{}", clean(&error.to_string())),
        }
    }
    let mut ids: Vec<String> = templates()
        .iter()
        .map(|(id, _)| id.as_str().to_owned())
        .collect();
    if let Ok(data_dir) = data_dir() {
        ids.extend(
            saved_plans(&data_dir)
                .into_iter()
                .map(|(id, _)| id.as_str().to_owned()),
        );
    }
    bail!(
        "no plan file '{}' and no template or saved plan of that id (there are: {})",
        clean(arg),
        ids.join(", ")
    )
}

/// `gongan plans`: the templates, then the plans saved in `data_dir`.
pub fn list(data_dir: &Path) -> String {
    let row = |id: &PlanId, plan: &ValidPlan, kind: &str| {
        [
            id.as_str().to_owned(),
            clean(plan.name()),
            plan.segments().len().to_string(),
            SegmentDuration::new(plan.total_duration()).to_string(),
            kind.to_owned(),
        ]
    };
    let mut rows: Vec<[String; 5]> = templates()
        .iter()
        .map(|(id, plan)| row(id, plan, "template"))
        .collect();
    let saved = saved_plans(data_dir);
    rows.extend(saved.iter().map(|(id, plan)| row(id, plan, "saved")));
    let mut out = table(["ID", "NAME", "SEGMENTS", "LENGTH", ""], &rows);
    if saved.is_empty() {
        out.push_str(&format!(
            "\nNo saved plans in {} yet: save one from the page, or PUT /v1/plans/ID.\n",
            data_dir.display()
        ));
    }
    out
}
