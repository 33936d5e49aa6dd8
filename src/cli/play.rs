//! `gongan pack play`: every instrument of a pack, once, so a team can hear it.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use gongan::audio::output::{self, OutputKind, OutputSpec, WavOutput};
use gongan::audio::{EngineConfig, EngineEvent, Frame, Sound, engine};
use gongan::pack::Pack;

/// Instruments from the highest and lightest to the gong, which closes the tour as it
/// closes a gongan. Custom instruments come before the gong, in name order.
const ORDER: [&str; 8] = [
    "kempyang", "ketuk", "saron", "bonang", "kenong", "kempul", "suwukan", "gong",
];

/// How long `pack play` waits for a failed sound card to play again before it gives up
/// (the output reopens it meanwhile; the stall watchdog has already waited
/// [`STALL`](gongan::audio::output::STALL) before calling it failed).
const OUTAGE_PATIENCE: Duration = Duration::from_secs(5);

/// Plays (or renders) each instrument of the pack `pack` names, each variant in turn,
/// `gap` seconds apart.
pub fn run(pack: &str, spec: &OutputSpec, only: &[String], gap: f64) -> anyhow::Result<ExitCode> {
    if !(gap.is_finite() && (0.05..=60.0).contains(&gap)) {
        bail!("--gap must be between 0.05 and 60 seconds, not {gap}");
    }
    let config = EngineConfig::default();
    let (mut controller, sink) = match spec {
        OutputSpec::Wav(path) => {
            let (controller, renderer) = engine(config);
            (
                controller,
                Sink::Wav(Box::new(WavOutput::create(path, renderer, 1024)?)),
            )
        }
        _ => {
            let (controller, running) = output::start(spec, config)?;
            eprintln!("playing to {}", running.describe());
            (controller, Sink::RealTime(running))
        }
    };
    let pack = super::pack_arg::load_pack(pack, controller.sample_rate())?;
    let strokes = tour(&pack, only)?;

    let rate = controller.sample_rate();
    let lead_in = Frame::from_seconds(0.3, rate);
    let step = Frame::from_seconds(gap, rate);
    let mut at = controller.now() + lead_in;
    let mut end = at;
    let mut names = Vec::new();
    for (name, sound, gain) in strokes {
        end = end.max(at + Frame(sound.frames() as u64));
        let id = controller.play(sound, at, gain)?;
        names.push((id, name));
        at += step;
    }

    match sink {
        Sink::Wav(mut wav) => {
            wav.render_until(end)?;
            let frames = wav.finish()?;
            for (_, name) in &names {
                println!("{name}");
            }
            println!("rendered {:.1} s", frames.as_seconds(rate));
        }
        Sink::RealTime(running) => {
            let mut finished = 0;
            let mut down_since: Option<Instant> = None;
            while finished < names.len() {
                for event in controller.events() {
                    match event {
                        EngineEvent::Started { id, frame, .. } => {
                            if let Some((_, name)) = names.iter().find(|(n, _)| *n == id) {
                                println!("{:>6.2} s  {name}", frame.as_seconds(rate));
                            }
                        }
                        EngineEvent::Finished { .. }
                        | EngineEvent::Stolen { .. }
                        | EngineEvent::Cancelled { .. }
                        | EngineEvent::Rejected { .. }
                        | EngineEvent::Missed { .. }
                        | EngineEvent::Withdrawn { .. } => finished += 1,
                    }
                }
                // A failed sound card reopens by itself and the tour goes on where it
                // stopped; a short tour does not wait long for a sound server that is gone.
                match running.fault() {
                    Some(fault) => {
                        let since = *down_since.get_or_insert_with(Instant::now);
                        if since.elapsed() > OUTAGE_PATIENCE {
                            match running.kind() {
                                OutputKind::Device => bail!("the sound card failed: {fault}"),
                                _ => bail!("{} is not playing: {fault}", running.describe()),
                            }
                        }
                    }
                    None => down_since = None,
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

enum Sink {
    RealTime(output::RunningOutput),
    Wav(Box<WavOutput>),
}

/// The strokes of the tour: (label, sound, gain), in [`ORDER`].
fn tour(pack: &Pack, only: &[String]) -> anyhow::Result<Vec<(String, Arc<Sound>, f32)>> {
    for name in only {
        if pack.instrument(name).is_none() {
            let known: Vec<_> = pack.instruments().map(|i| i.name()).collect();
            bail!(
                "the pack has no instrument '{name}' (it has: {})",
                known.join(", ")
            );
        }
    }
    let rank = |name: &str| {
        ORDER
            .iter()
            .position(|o| *o == name)
            .map_or((1, 0), |i| if name == "gong" { (2, i) } else { (0, i) })
    };
    let mut instruments: Vec<_> = pack
        .instruments()
        .filter(|i| only.is_empty() || only.iter().any(|o| o == i.name()))
        .collect();
    instruments.sort_by_key(|i| (rank(i.name()), i.name().to_owned()));
    let mut strokes = Vec::new();
    for instrument in instruments {
        let count = instrument.variant_count();
        for (v, sound) in instrument.sounds().iter().enumerate() {
            let label = if count > 1 {
                format!("{} {}", instrument.name(), v + 1)
            } else {
                instrument.name().to_owned()
            };
            strokes.push((label, sound.clone(), instrument.gain()));
        }
    }
    Ok(strokes)
}
