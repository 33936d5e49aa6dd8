//! Offline session renders checked sample by sample, steering on the offline output, zero
//! drift over four hours, and no burst after a stall.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gongan::audio::Frame;
use gongan::pack::Pack;
use gongan::session::{
    History, Instrument, RenderOptions, SessionEvent, Steer, SteerCommand, StrokeKind,
    TimelineOptions, ValidPlan, render_session, timeline,
};

use crate::support::read_wav;

const RATE: u32 = 48_000;

/// Instruments and variant counts the timeline strikes.
const INSTRUMENTS: [(&str, usize); 8] = [
    ("gong", 1),
    ("suwukan", 1),
    ("kempul", 1),
    ("kenong", 6),
    ("ketuk", 1),
    ("kempyang", 1),
    ("bonang", 5),
    ("saron", 7),
];

/// A pack of short clicks, one shape per instrument and variant, so every stroke's
/// onset is its first non-zero sample and a wrong instrument or pitch changes samples.
pub fn click_pack(dir: &Path) -> PathBuf {
    let pack = dir.join("clicks");
    std::fs::create_dir_all(&pack).unwrap();
    let mut manifest = String::from("name = \"clicks\"\n");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    for (i, (name, variants)) in INSTRUMENTS.iter().enumerate() {
        let mut files = Vec::new();
        for v in 1..=*variants {
            let file = format!("{name}-{v}.wav");
            let mut writer = hound::WavWriter::create(pack.join(&file), spec).unwrap();
            let len = 4 + i;
            for k in 0..len {
                let s = (0.5 + 0.03 * v as f32) * (1.0 - k as f32 / len as f32);
                writer.write_sample(s).unwrap();
            }
            writer.finalize().unwrap();
            files.push(format!("\"{file}\""));
        }
        manifest.push_str(&format!(
            "[instruments.{name}]\nvariants = [{}]\ngain_db = -20.0\n",
            files.join(", ")
        ));
    }
    std::fs::write(pack.join("pack.toml"), manifest).unwrap();
    pack
}

const GOLDEN: &str = r#"
name = "golden"
[[segments]]
title = "One"
duration = "16s"
form = "lancaran"
density = "full"
warnings = ["4s"]
[[segments]]
title = "Two"
duration = "8s"
form = "ketawang"
density = "full"
"#;

/// The mix a render must produce: each stroke's click at exactly its frame.
fn expected_mix(
    pack: &Pack,
    strokes: &[(Frame, Instrument, Option<u8>, f32)],
    frames: usize,
) -> Vec<f32> {
    let mut out = vec![0.0f32; 2 * frames];
    for &(frame, instrument, variant, gain_db) in strokes {
        let inst = pack.instrument(instrument.name()).unwrap();
        let sound = inst.sound(variant.map(u32::from)).unwrap();
        let gain = inst.gain() * 10f32.powf(gain_db / 20.0);
        for (k, s) in sound.samples().iter().enumerate() {
            let i = frame.0 as usize + k;
            if i < frames {
                out[2 * i] += s * gain;
                out[2 * i + 1] += s * gain;
            }
        }
    }
    out
}

fn assert_same_mix(actual: &[f32], expected: &[f32]) {
    assert_eq!(actual.len(), expected.len(), "render length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= 1e-6,
            "sample {i} (frame {}): rendered {a}, planned {e}",
            i / 2
        );
    }
}

fn render(
    plan: &ValidPlan,
    pack: &Pack,
    path: &Path,
    steering: Vec<(Frame, SteerCommand)>,
) -> gongan::session::RenderReport {
    let mut options = RenderOptions::new(TimelineOptions::new(RATE));
    options.steering = steering;
    render_session(plan, pack, Some(path), &options, &mut |_, _| {}).unwrap()
}

/// Asserts the render started exactly the timeline's strokes (frame, instrument, pitch),
/// in order, and returns them with their gains for building the expected mix.
fn assert_rendered_as_planned(
    report: &gongan::session::RenderReport,
    planned: &gongan::session::Timeline,
) -> Vec<(Frame, Instrument, Option<u8>, f32)> {
    let rendered: Vec<_> = report
        .strokes
        .iter()
        .map(|s| (s.frame, s.instrument, s.variant))
        .collect();
    let expected: Vec<_> = planned
        .strokes()
        .iter()
        .map(|s| (s.frame, s.instrument, s.variant))
        .collect();
    assert_eq!(rendered, expected);
    planned
        .strokes()
        .iter()
        .map(|s| (s.frame, s.instrument, s.variant, s.gain_db))
        .collect()
}

/// Issue 12: a spin of a segment's wheel, in sound. The server's pick (from the roll) is
/// the entry the spin event names; the render holds the bonang run slowing down and, on
/// the landing, the gong with the bonang pitch of that entry — sample for sample the
/// timeline of the journaled pick.
#[test]
fn a_spin_lands_with_the_gong_on_the_entry_the_server_picked() {
    let dir = tempfile::tempdir().unwrap();
    let pack = Pack::load(&click_pack(dir.path()), RATE).unwrap();
    let plan = ValidPlan::from_toml(
        r#"
name = "Wheel of Misfortune"
[[segments]]
title = "Scenario"
duration = "30s"
entries = ["Disk full", "DNS", "Expired certificate", "Noisy neighbour", "Lost quorum"]
"#,
    )
    .unwrap();
    let s = |secs: f64| Frame::from_seconds(secs, RATE);
    let path = dir.path().join("spin.wav");
    let report = render(&plan, &pack, &path, vec![(s(6.0), SteerCommand::Spin(8))]);

    let spin = report
        .events
        .iter()
        .find_map(|e| match e {
            SessionEvent::Spin { spin, .. } => spin.clone(),
            _ => None,
        })
        .expect("a spin event");
    // A roll of 8 among five entries drawn with repetition: the fourth.
    assert_eq!((spin.index, spin.entry.as_str()), (3, "Noisy neighbour"));
    assert_eq!((spin.start_seconds, spin.land_seconds), (6.0, 11.0));

    let history = History::from_events([Steer::Spin {
        at: s(6.0),
        entry: 3,
    }])
    .unwrap();
    let expected = timeline(&plan, &history, &TimelineOptions::new(RATE));
    let strokes = assert_rendered_as_planned(&report, &expected);
    let (samples, ..) = read_wav(&path);
    assert_same_mix(&samples, &expected_mix(&pack, &strokes, samples.len() / 2));

    let run: Vec<_> = report
        .strokes
        .iter()
        .filter(|x| matches!(x.kind, StrokeKind::Spin { .. }))
        .collect();
    assert!(run.len() > 10, "a run of bonang strokes: {}", run.len());
    let landing: Vec<_> = run
        .iter()
        .filter(|x| x.frame == s(11.0))
        .map(|x| (x.instrument, x.variant))
        .collect();
    assert_eq!(
        landing,
        [(Instrument::Bonang, Some(4)), (Instrument::Gong, None)],
        "lands on entry 3's pitch, with the gong"
    );
    let gaps: Vec<u64> = run
        .windows(2)
        .map(|w| w[1].frame.0 - w[0].frame.0)
        .filter(|g| *g > 0)
        .collect();
    assert!(
        gaps.windows(2).all(|g| g[1] >= g[0]),
        "slowing down: {gaps:?}"
    );
}

/// The golden render: every sample is the planned strokes' clicks, each starting exactly
/// at its planned frame (first non-zero sample), whatever the block size.
#[test]
fn a_render_puts_every_stroke_on_its_planned_frame() {
    let dir = tempfile::tempdir().unwrap();
    let pack = Pack::load(&click_pack(dir.path()), RATE).unwrap();
    let plan = ValidPlan::from_toml(GOLDEN).unwrap();
    let planned = timeline(&plan, &History::new(), &TimelineOptions::new(RATE));
    let path = dir.path().join("golden.wav");
    let report = render(&plan, &pack, &path, vec![]);

    let planned_strokes = assert_rendered_as_planned(&report, &planned);
    assert!(
        planned_strokes.len() > 40,
        "a full-density plan has many strokes"
    );

    let (samples, channels, rate) = read_wav(&path);
    assert_eq!((channels, rate), (2, RATE));
    assert_same_mix(
        &samples,
        &expected_mix(&pack, &planned_strokes, samples.len() / 2),
    );
    // First non-zero sample of each stroke is its planned frame.
    for &(frame, ..) in &planned_strokes {
        let f = frame.0 as usize;
        assert_ne!(samples[2 * f], 0.0, "nothing at planned frame {f}");
    }
    // The session's last stroke is the gong ageng, on the plan's final deadline.
    let last = planned.strokes().last().unwrap();
    assert_eq!(last.instrument, Instrument::Gong);
    assert_eq!(last.kind, StrokeKind::SessionEnd);
    assert_eq!(
        last.frame,
        planned.first_segment_start() + Frame(24 * u64::from(RATE))
    );
}

/// Pause, resume, extend, next, previous and stop on the offline output: the rendered
/// strokes are the steered timeline's, sample for sample.
#[test]
fn steering_moves_the_rendered_strokes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let pack = Pack::load(&click_pack(dir.path()), RATE).unwrap();
    let plan = ValidPlan::from_toml(GOLDEN).unwrap();
    let s = |secs: f64| Frame::from_seconds(secs, RATE);
    let steering = vec![
        (s(7.0), SteerCommand::Pause),
        (s(9.5), SteerCommand::Resume),
        (s(11.0), SteerCommand::Extend(Duration::from_secs(6))),
        (s(20.0), SteerCommand::Next),
        (s(23.0), SteerCommand::Previous),
        (s(30.0), SteerCommand::Stop),
    ];
    let mut history = History::new();
    for &(at, command) in &steering {
        history
            .push(match command {
                SteerCommand::Pause => Steer::Pause { at },
                SteerCommand::Resume => Steer::Resume { at },
                SteerCommand::Extend(by) => Steer::Extend { at, by },
                SteerCommand::Next => Steer::Next { at },
                SteerCommand::Previous => Steer::Previous { at },
                SteerCommand::Stop => Steer::Stop { at },
                other => unreachable!("not in this script: {other:?}"),
            })
            .unwrap();
    }
    let steered = timeline(&plan, &history, &TimelineOptions::new(RATE));
    let path = dir.path().join("steered.wav");
    let report = render(&plan, &pack, &path, steering);

    let expected = assert_rendered_as_planned(&report, &steered);
    let (samples, ..) = read_wav(&path);
    assert_same_mix(&samples, &expected_mix(&pack, &expected, samples.len() / 2));

    // Nothing sounds while paused.
    let paused = &samples[2 * s(7.0).0 as usize + 64..2 * s(9.5).0 as usize];
    assert!(
        paused.iter().all(|x| *x == 0.0),
        "a stroke sounded during the pause"
    );
    // The session ends with the gong ageng exactly where it was stopped.
    let last = report.strokes.last().unwrap();
    assert_eq!((last.frame, last.instrument), (s(30.0), Instrument::Gong));
    assert!(report.strokes.iter().all(|x| x.frame <= s(30.0)));
    // Every steering command shows up as an event, in order.
    let steered_events = report
        .events
        .iter()
        .filter(|e| {
            matches!(
                e,
                SessionEvent::Paused { .. }
                    | SessionEvent::Resumed { .. }
                    | SessionEvent::Extended { .. }
                    | SessionEvent::Skipped { .. }
                    | SessionEvent::Stopped { .. }
            )
        })
        .count();
    assert_eq!(steered_events, 6);
}

/// A four-hour session rendered at real length does not drift: the engine starts the last
/// gong exactly 4 h × rate frames after segment 0's start.
#[test]
fn four_hours_render_with_zero_drift() {
    let dir = tempfile::tempdir().unwrap();
    let pack = Pack::load(&click_pack(dir.path()), RATE).unwrap();
    let plan = ValidPlan::from_toml(
        r#"
name = "four hours"
[[segments]]
title = "a"
duration = "1h"
density = "sparse"
[[segments]]
title = "b"
duration = "1h30m"
density = "sparse"
[[segments]]
title = "c"
duration = "1h29m59s"
density = "sparse"
[[segments]]
title = "d"
duration = "1s"
density = "sparse"
"#,
    )
    .unwrap();
    let mut options = RenderOptions::new(TimelineOptions::new(RATE));
    options.block_frames = 8192;
    let report = render_session(&plan, &pack, None, &options, &mut |_, _| {}).unwrap();
    let planned = timeline(&plan, &History::new(), &TimelineOptions::new(RATE));
    let last = report.strokes.last().unwrap();
    assert_eq!(last.kind, StrokeKind::SessionEnd);
    assert_eq!(
        last.frame,
        planned.first_segment_start() + Frame(4 * 3600 * u64::from(RATE))
    );
    // And every stroke on the way started exactly where the timeline put it.
    let frames: Vec<_> = report.strokes.iter().map(|s| s.frame).collect();
    let planned_frames: Vec<_> = planned.strokes().iter().map(|s| s.frame).collect();
    assert_eq!(frames, planned_frames);
}

/// The default pack has every instrument and pitch the timeline strikes, so no stroke of
/// a session falls back to another pitch or goes silent with it.
#[test]
fn the_default_pack_covers_every_stroke_the_timeline_makes() {
    let pack = Pack::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("sounds/default"),
        RATE,
    )
    .unwrap();
    for instrument in [
        Instrument::Gong,
        Instrument::Suwukan,
        Instrument::Kempul,
        Instrument::Kenong,
        Instrument::Ketuk,
        Instrument::Kempyang,
        Instrument::Bonang,
        Instrument::Saron,
    ] {
        let inst = pack
            .instrument(instrument.name())
            .unwrap_or_else(|| panic!("the default pack has no {instrument}"));
        assert!(
            inst.variant_count() >= usize::from(instrument.max_variant()),
            "{instrument}: the timeline strikes pitches up to {}, the pack has {}",
            instrument.max_variant(),
            inst.variant_count()
        );
    }
}

const WAITING: &str = r#"
name = "waiting"
[[segments]]
title = "Hold"
duration = "8s"
form = "lancaran"
density = "full"
end = "wait"
[[segments]]
title = "After"
duration = "8s"
form = "lancaran"
density = "full"
"#;

/// The length of the airhorn in the team pack below: a flat run of samples no click of
/// the click pack has (they are short ramps).
const AIRHORN_FRAMES: usize = 50;

/// A team's pack made from the click pack: no kenong, an `airhorn` (a flat block), and
/// `[roles] overtime = "airhorn"`.
fn team_pack(dir: &Path, clicks: &Path) -> PathBuf {
    let team = dir.join("team");
    std::fs::create_dir_all(&team).unwrap();
    let mut manifest = String::from("name = \"team\"\n[roles]\novertime = \"airhorn\"\n");
    for (name, variants) in INSTRUMENTS.iter().filter(|(name, _)| *name != "kenong") {
        let files: Vec<String> = (1..=*variants)
            .map(|v| {
                let file = format!("{name}-{v}.wav");
                std::fs::copy(clicks.join(&file), team.join(&file)).unwrap();
                format!("\"{file}\"")
            })
            .collect();
        manifest.push_str(&format!(
            "[instruments.{name}]\nvariants = [{}]\ngain_db = -20.0\n",
            files.join(", ")
        ));
    }
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(team.join("airhorn.wav"), spec).unwrap();
    for _ in 0..AIRHORN_FRAMES {
        writer.write_sample(0.9f32).unwrap();
    }
    writer.finalize().unwrap();
    manifest.push_str("[instruments.airhorn]\nfile = \"airhorn.wav\"\ngain_db = -20.0\n");
    std::fs::write(team.join("pack.toml"), manifest).unwrap();
    team
}

/// A pack that remaps a role rings its own instrument for it (overtime → airhorn), and an
/// instrument it lacks (kenong) is heard from the default pack instead of going silent.
#[test]
fn a_packs_roles_ring_its_own_instruments_and_missing_ones_fall_back() {
    let dir = tempfile::tempdir().unwrap();
    let clicks = click_pack(dir.path());
    // The click pack stands in for the default pack, so every sample can be told apart.
    let default = Pack::load(&clicks, RATE).unwrap();
    let bare = Pack::load(&team_pack(dir.path(), &clicks), RATE).unwrap();
    let team = bare.clone().with_fallback(&default);
    assert_eq!(team.fallbacks(), ["kenong"]);
    assert!(bare.fallbacks().is_empty());
    let plan = ValidPlan::from_toml(WAITING).unwrap();
    let (with_fallback, without) = (dir.path().join("team.wav"), dir.path().join("bare.wav"));
    let report = render(&plan, &team, &with_fallback, vec![]);
    let bare_report = render(&plan, &bare, &without, vec![]);
    // Without the fallback the pack's missing kenong is never struck.
    let kenongs = |r: &gongan::session::RenderReport| {
        r.strokes
            .iter()
            .filter(|s| s.instrument == Instrument::Kenong)
            .count()
    };
    assert!(kenongs(&report) > 0);
    assert_eq!(kenongs(&bare_report), 0);
    let (samples, ..) = read_wav(&with_fallback);
    let (bare_samples, ..) = read_wav(&without);
    let left = |samples: &[f32], frame: usize| samples.get(2 * frame).copied().unwrap_or(0.0);
    // Frames where exactly one stroke starts.
    let alone = |frame: Frame| report.strokes.iter().filter(|s| s.frame == frame).count() == 1;

    let overtime: Vec<Frame> = report
        .strokes
        .iter()
        .filter(|s| s.kind == StrokeKind::Overtime)
        .map(|s| s.frame)
        .collect();
    assert!(!overtime.is_empty(), "the render holds in overtime first");
    for frame in overtime.iter().filter(|f| alone(**f)) {
        let f = frame.0 as usize;
        let first = left(&samples, f);
        assert!(first > 0.0, "the airhorn is heard at {f}");
        assert!(
            (f..f + AIRHORN_FRAMES).all(|k| left(&samples, k) == first),
            "a flat airhorn block at overtime frame {f}"
        );
    }

    let kenong_alone: Vec<usize> = report
        .strokes
        .iter()
        .filter(|s| s.instrument == Instrument::Kenong && alone(s.frame))
        .map(|s| s.frame.0 as usize)
        .collect();
    assert!(!kenong_alone.is_empty(), "the plan strikes kenong alone");
    for &f in &kenong_alone {
        assert_ne!(
            left(&samples, f),
            0.0,
            "the kenong at {f} falls back and is heard"
        );
        assert_eq!(
            left(&bare_samples, f),
            0.0,
            "without a fallback it is silent at {f}"
        );
    }
}
