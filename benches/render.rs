//! Offline render of a 60-minute plan at real length (PRODUCT.md §7: ≥ 1000× real time,
//! i.e. < 3.6 s), writing the 32-bit float WAV to a temporary file.
//! Run with `cargo bench --bench render`.

use std::time::Instant;

use gongan::audio::DEFAULT_SAMPLE_RATE;
use gongan::pack::Pack;
use gongan::session::{RenderOptions, TimelineOptions, ValidPlan, render_session};

/// An hour of the kind of session gongan paces: briefing, three timeboxes at full density
/// (the most strokes), a break and a debrief.
const PLAN: &str = r#"
name = "benchmark hour"
[[segments]]
title = "Briefing"
duration = "5m"
form = "ketawang"
density = "full"
[[segments]]
title = "Timebox 1"
duration = "15m"
density = "full"
warnings = ["5m", "1m"]
[[segments]]
title = "Timebox 2"
duration = "15m"
form = "ladrang"
density = "full"
warnings = ["5m", "1m"]
[[segments]]
title = "Break"
duration = "5m"
form = "bell"
[[segments]]
title = "Timebox 3"
duration = "10m"
density = "full"
[[segments]]
title = "Debrief"
duration = "10m"
form = "gendhing"
density = "full"
"#;

fn main() {
    let plan = ValidPlan::from_toml(PLAN).expect("the benchmark plan is valid");
    let pack = Pack::load(
        concat!(env!("CARGO_MANIFEST_DIR"), "/sounds/default").as_ref(),
        DEFAULT_SAMPLE_RATE,
    )
    .expect("the default pack loads");
    let dir = tempfile::tempdir().unwrap();
    let options = RenderOptions::new(TimelineOptions::new(DEFAULT_SAMPLE_RATE));
    let mut runs = Vec::new();
    let mut last = None;
    for run in 0..3 {
        let path = dir.path().join(format!("hour-{run}.wav"));
        let start = Instant::now();
        let report = render_session(&plan, &pack, Some(&path), &options, &mut |_, _| {}).unwrap();
        runs.push(start.elapsed().as_secs_f64());
        let bytes = std::fs::metadata(&path).unwrap().len();
        std::fs::remove_file(&path).unwrap();
        last = Some((report, bytes));
    }
    runs.sort_by(f64::total_cmp);
    let median = runs[runs.len() / 2];
    let (report, bytes) = last.unwrap();
    let audio = report.frames.as_seconds(report.sample_rate);
    println!(
        "render/60_minute_plan  median of {}: {median:.2} s for {audio:.0} s of audio ({} strokes, {:.2} GB WAV): {:.0}x real time",
        runs.len(),
        report.strokes.len(),
        bytes as f64 / 1e9,
        audio / median,
    );
}
