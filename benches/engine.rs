//! Engine mixing cost: 64 voices sounding at once, 48 kHz stereo (PRODUCT.md §7: ≤ 2 % of
//! one core). Run with `cargo bench --bench engine`.

use std::sync::Arc;
use std::time::Instant;

use gongan::audio::{EngineConfig, Frame, Sound, engine};

const RATE: u32 = 48_000;
const VOICES: usize = 64;
const SECONDS: u64 = 120;
const BLOCK: usize = 256;

fn main() {
    // Mono and stereo sounds long enough that all 64 voices sound for the whole run, like
    // a room of gongs ringing together (the worst case: nothing ends, nothing is skipped).
    let frames = (SECONDS as usize + 1) * RATE as usize;
    let mono = Arc::new(
        Sound::mono(
            RATE,
            (0..frames)
                .map(|i| ((i % 997) as f32 / 997.0 - 0.5) * 0.01)
                .collect(),
        )
        .unwrap(),
    );
    let stereo = Arc::new(
        Sound::from_interleaved(
            RATE,
            2,
            (0..2 * frames)
                .map(|i| ((i % 991) as f32 / 991.0 - 0.5) * 0.01)
                .collect(),
        )
        .unwrap(),
    );
    let mut runs = Vec::new();
    for _ in 0..5 {
        let (mut controller, mut renderer) = engine(EngineConfig::default());
        for v in 0..VOICES {
            let sound = if v % 4 == 0 { &stereo } else { &mono };
            controller
                .play(sound.clone(), Frame(v as u64), 0.5)
                .unwrap();
        }
        let mut block = vec![0.0f32; 2 * BLOCK];
        let blocks = SECONDS * u64::from(RATE) / BLOCK as u64;
        let start = Instant::now();
        for _ in 0..blocks {
            renderer.render(&mut block);
            std::hint::black_box(&block);
        }
        let elapsed = start.elapsed().as_secs_f64();
        assert_eq!(renderer.active_voices(), VOICES);
        runs.push(elapsed);
    }
    runs.sort_by(f64::total_cmp);
    let median = runs[runs.len() / 2];
    let audio = SECONDS as f64;
    println!(
        "engine/mix_64_voices  median of {}: {:.3} s for {audio} s of 48 kHz stereo: {:.0}x real time, {:.2} % of one core (block {BLOCK})",
        runs.len(),
        median,
        audio / median,
        100.0 * median / audio,
    );
}
