//! The built-in plan templates, embedded in the binary so `gongan plans` and the server
//! work from any directory. The files in `plans/` are the source; a test checks that the
//! embedded text is what is on disk and that every template validates.

use std::sync::OnceLock;

use super::plan::{PlanId, ValidPlan};

/// `(id, TOML text)` of every built-in template, in the order `gongan plans` lists them.
/// The id is the file stem in `plans/`.
pub const TEMPLATE_SOURCES: [(&str, &str); 8] = [
    (
        "practice-of-practice",
        include_str!("../../plans/practice-of-practice.toml"),
    ),
    (
        "wheel-of-misfortune",
        include_str!("../../plans/wheel-of-misfortune.toml"),
    ),
    (
        "chaos-game-day",
        include_str!("../../plans/chaos-game-day.toml"),
    ),
    (
        "incident-data-collection",
        include_str!("../../plans/incident-data-collection.toml"),
    ),
    (
        "morning-vistas",
        include_str!("../../plans/morning-vistas.toml"),
    ),
    (
        "decision-requirements-table",
        include_str!("../../plans/decision-requirements-table.toml"),
    ),
    (
        "knowledge-elicitation",
        include_str!("../../plans/knowledge-elicitation.toml"),
    ),
    (
        "wheel-of-expertise",
        include_str!("../../plans/wheel-of-expertise.toml"),
    ),
];

/// The built-in templates as validated plans, parsed once on first use.
///
/// A template that failed to validate would be left out (and logged) rather than panic;
/// the test suite makes sure none does.
#[must_use]
pub fn templates() -> &'static [(PlanId, ValidPlan)] {
    static TEMPLATES: OnceLock<Vec<(PlanId, ValidPlan)>> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        TEMPLATE_SOURCES
            .iter()
            .filter_map(|(id, text)| {
                let parsed = PlanId::parse(id).map_err(|e| e.to_string()).and_then(|id| {
                    Ok((id, ValidPlan::from_toml(text).map_err(|e| e.to_string())?))
                });
                parsed
                    .map_err(|err| {
                        tracing::error!(template = id, "built-in template is invalid: {err}")
                    })
                    .ok()
            })
            .collect()
    })
}

/// The built-in template with this id.
#[must_use]
pub fn template(id: &PlanId) -> Option<&'static ValidPlan> {
    templates()
        .iter()
        .find(|(template_id, _)| template_id == id)
        .map(|(_, plan)| plan)
}
