//! `gongan render`: a whole session, offline, into a WAV file.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use gongan::audio::DEFAULT_SAMPLE_RATE;
use gongan::session::{RenderOptions, Speed, TimelineOptions, render_session};

use super::plan_arg::load_plan;

/// Renders the plan named by `plan` to `output`, optionally writing the strokes as JSON.
pub fn run(
    plan: &str,
    output: &Path,
    events: Option<&Path>,
    speed: Speed,
    pack: &str,
) -> anyhow::Result<ExitCode> {
    let plan = load_plan(plan)?;
    let pack = super::pack_arg::load_pack(pack, DEFAULT_SAMPLE_RATE)?;
    let options = RenderOptions::new(TimelineOptions::new(DEFAULT_SAMPLE_RATE).with_speed(speed));
    let show = std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut last_percent = u64::MAX;
    let report = render_session(&plan, &pack, Some(output), &options, &mut |done, end| {
        let percent = (100 * done.0 / end.0.max(1)).min(100);
        if show && percent != last_percent {
            last_percent = percent;
            eprint!("\rrendering {}: {percent:>3} %", output.display());
            let _ = std::io::stderr().flush();
        }
    })
    .with_context(|| format!("cannot render {}", output.display()))?;
    if show {
        eprintln!();
    }
    let seconds = report.frames.as_seconds(report.sample_rate);
    let took = started.elapsed().as_secs_f64();
    println!(
        "{}: {} strokes, {} ({:.0}x real time)",
        output.display(),
        report.strokes.len(),
        clock(seconds),
        seconds / took.max(1e-9),
    );
    if let Some(path) = events {
        let json = serde_json::to_string_pretty(&report.strokes)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}: every stroke with its frame", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `h:mm:ss` or `m:ss`.
pub fn clock(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}
