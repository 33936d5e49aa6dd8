//! The `PLAN` argument of `run` and `render`: a plan file, or a template's id.

use std::path::Path;

use anyhow::{Context, bail};
use gongan::session::{PlanId, ValidPlan, template, templates};

/// Loads a plan from a TOML file, or the built-in template with that id.
pub fn load_plan(arg: &str) -> anyhow::Result<ValidPlan> {
    let path = Path::new(arg);
    if path.is_file() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return ValidPlan::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    if let Ok(id) = PlanId::parse(
        arg.trim_end_matches(".toml")
            .rsplit('/')
            .next()
            .unwrap_or(arg),
    ) && let Some(plan) = template(&id)
        && !arg.contains('/')
    {
        return Ok(plan.clone());
    }
    let ids: Vec<_> = templates().iter().map(|(id, _)| id.as_str()).collect();
    bail!(
        "no plan file '{arg}' and no template of that name (templates: {})",
        ids.join(", ")
    )
}
