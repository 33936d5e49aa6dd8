//! Offline render of a 60-minute plan at real length (PRODUCT.md §7: ≥ 1000× real time,
//! i.e. < 3.6 s), writing the 32-bit float WAV to a temporary file.
//! Run with `cargo bench --bench render`.
//!
//! Two plans, measured side by side with their runs interleaved (so work that shares the
//! cores slows both alike): a dense hour, which exercises the mixer, and an hour that is
//! mostly silence, which exercises what the engine does between strokes — the limiter's
//! envelope decaying for minutes, where a denormal once cost 90 % of the time.

use std::path::Path;
use std::time::Instant;

use gongan::audio::DEFAULT_SAMPLE_RATE;
use gongan::pack::Pack;
use gongan::session::{RenderOptions, TimelineOptions, ValidPlan, render_session};

/// An hour of the kind of session gongan paces: briefing, three timeboxes at full density
/// (the most strokes), a break and a debrief.
const DENSE: &str = r#"
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

/// An hour that is mostly silence: one long timebox with only kenong and gong, so the
/// engine spends nearly all of it rendering nothing.
const MOSTLY_SILENCE: &str = r#"
name = "benchmark silent hour"
[[segments]]
title = "Heads down"
duration = "60m"
density = "sparse"
"#;

const RUNS: usize = 3;

/// One plan under measurement and what its runs found.
struct Case {
    name: &'static str,
    plan: ValidPlan,
    seconds: Vec<f64>,
    audio: f64,
    strokes: usize,
    bytes: u64,
}

impl Case {
    fn new(name: &'static str, toml: &str) -> Case {
        Case {
            name,
            plan: ValidPlan::from_toml(toml).expect("the benchmark plan is valid"),
            seconds: Vec::with_capacity(RUNS),
            audio: 0.0,
            strokes: 0,
            bytes: 0,
        }
    }

    /// Renders the plan once into `path`, times it, and deletes the file at once: an hour
    /// of float stereo is 1.4 GB, and the disk must not fill over several runs.
    fn run(&mut self, pack: &Pack, options: &RenderOptions, path: &Path) {
        let start = Instant::now();
        let report = render_session(&self.plan, pack, Some(path), options, &mut |_, _| {})
            .expect("the benchmark plan renders");
        self.seconds.push(start.elapsed().as_secs_f64());
        self.bytes = std::fs::metadata(path).unwrap().len();
        std::fs::remove_file(path).unwrap();
        self.audio = report.frames.as_seconds(report.sample_rate);
        self.strokes = report.strokes.len();
    }

    fn print(&self) {
        let mut runs = self.seconds.clone();
        runs.sort_by(f64::total_cmp);
        let (min, median, max) = (runs[0], runs[runs.len() / 2], runs[runs.len() - 1]);
        println!(
            "render/60_minute_plan/{:<14} median of {}: {median:.2} s (runs {min:.2}–{max:.2} s) \
             for {:.0} s of audio ({} strokes, {:.2} GB WAV): {:.0}x real time ({:.0}–{:.0}x)",
            self.name,
            runs.len(),
            self.audio,
            self.strokes,
            self.bytes as f64 / 1e9,
            self.audio / median,
            self.audio / max,
            self.audio / min,
        );
    }
}

fn main() {
    let pack = Pack::load(
        concat!(env!("CARGO_MANIFEST_DIR"), "/sounds/default").as_ref(),
        DEFAULT_SAMPLE_RATE,
    )
    .expect("the default pack loads");
    let dir = tempfile::tempdir().unwrap();
    let options = RenderOptions::new(TimelineOptions::new(DEFAULT_SAMPLE_RATE));
    let mut cases = [
        Case::new("dense", DENSE),
        Case::new("mostly_silence", MOSTLY_SILENCE),
    ];
    for run in 0..RUNS {
        for case in &mut cases {
            let path = dir.path().join(format!("{}-{run}.wav", case.name));
            case.run(&pack, &options, &path);
        }
    }
    for case in &cases {
        case.print();
    }
}
