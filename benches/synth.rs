//! Times rendering and writing the whole default pack (`gongan synth`), and rendering each
//! built-in pack into memory as `serve` does at start when it plays one.
//!
//! `cargo bench --bench synth`. No harness: a handful of runs and their median is enough
//! to see whether the synth stays a second-scale job.

use std::time::{Duration, Instant};

use gongan::audio::DEFAULT_SAMPLE_RATE;
use gongan::synth::{BuiltInPack, default_instruments, write_default_pack};

const RUNS: usize = 5;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut render = Vec::new();
    let mut write = Vec::new();
    let mut bytes = 0;
    let mut audio_s = 0.0;
    for _ in 0..RUNS {
        let start = Instant::now();
        audio_s = 0.0;
        for instrument in default_instruments() {
            for voice in &instrument.voices {
                let sound = voice.render(DEFAULT_SAMPLE_RATE)?;
                audio_s += sound.frames() as f64 / f64::from(DEFAULT_SAMPLE_RATE);
            }
        }
        render.push(start.elapsed());

        let dir = tempfile::tempdir()?;
        let start = Instant::now();
        let summary = write_default_pack(dir.path())?;
        write.push(start.elapsed());
        bytes = summary.total_bytes;
    }
    let render = median(render).as_secs_f64();
    let write = median(write).as_secs_f64();
    println!(
        "synth/render_default_pack  median of {RUNS}: {render:.3} s for {audio_s:.1} s of audio ({:.0}x real time)",
        audio_s / render
    );
    println!("synth/write_default_pack   median of {RUNS}: {write:.3} s, {bytes} bytes");
    // Rendering, measuring loudness and building the pack: what activating a built-in pack
    // costs when it is not cached.
    for pack in BuiltInPack::ALL {
        let mut times = Vec::new();
        for _ in 0..RUNS {
            let start = Instant::now();
            let built = pack.render(DEFAULT_SAMPLE_RATE)?;
            times.push(start.elapsed());
            assert!(built.instruments().count() > 0);
        }
        println!(
            "synth/built_in_pack/{:<8} median of {RUNS}: {:.3} s",
            pack.name(),
            median(times).as_secs_f64()
        );
    }
    Ok(())
}
