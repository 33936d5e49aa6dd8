//! The engine through its public API: no allocation in the audio callback, offline WAV.

use std::sync::Arc;

use gongan::audio::output::WavOutput;
use gongan::audio::{EngineConfig, EngineEvent, Frame, Sound, engine};

use crate::support::read_wav;

/// assert_no_alloc's violation counter is global: tests that read it take turns (those in
/// other modules too).
pub static ALLOC_CHECK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn tone(frames: usize, level: f32) -> Arc<Sound> {
    let samples = (0..frames)
        .map(|i| level * (0.3 + (i as f32 * 0.05).sin() * 0.5))
        .collect();
    Arc::new(Sound::mono(48_000, samples).unwrap())
}

/// `render` must not allocate or free: not when voices start, end, get stolen or
/// cancelled, nor when its report queue is full and sounds must wait to be handed back.
#[test]
fn render_never_allocates() {
    let _turn = ALLOC_CHECK.lock().unwrap_or_else(|e| e.into_inner());
    let (mut controller, mut renderer) = engine(EngineConfig {
        max_voices: 8,
        max_scheduled: 64,
        queue_capacity: 64,
        ..EngineConfig::default()
    });
    let sounds: Vec<_> = (0..4).map(|i| tone(100 + 300 * i, 0.1)).collect();
    let mut block = vec![0.0f32; 2 * 256];
    assert_no_alloc::reset_violation_count();
    for round in 0..200u64 {
        // Keep the queues busy: short and long voices, past the voice cap, with cancels,
        // and only drain the reports now and then so the report queue fills up.
        let now = controller.now().0;
        for (i, sound) in sounds.iter().enumerate() {
            let at = Frame(now + (i as u64 * 97) % 300);
            if let Ok(id) = controller.play(sound.clone(), at, 0.5) {
                if round % 3 == 0 {
                    let _ = controller.cancel(id);
                }
            }
        }
        assert_no_alloc::assert_no_alloc(|| renderer.render(&mut block));
        if round % 50 == 49 {
            controller.events();
        }
    }
    // All the `Arc<Sound>`s in flight are still accounted for.
    drop(controller.events());
    assert_eq!(assert_no_alloc::violation_count(), 0);
}

/// The check above can fail: an allocation inside the guarded closure is counted.
#[test]
fn the_allocation_check_catches_an_allocation() {
    let _turn = ALLOC_CHECK.lock().unwrap_or_else(|e| e.into_inner());
    assert_no_alloc::reset_violation_count();
    assert_no_alloc::assert_no_alloc(|| {
        let v = vec![1u8; 64];
        std::hint::black_box(v);
    });
    assert!(assert_no_alloc::violation_count() > 0);
    assert_no_alloc::reset_violation_count();
}

/// The offline output writes exactly what the renderer produced, with onsets at their
/// scheduled frames.
#[test]
fn wav_output_keeps_every_sample_and_onset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.wav");
    let (mut controller, renderer) = engine(EngineConfig::default());
    let sound = tone(500, 0.2);
    let onsets = [0u64, 1, 4095, 4096, 10_001];
    for &f in &onsets {
        controller.play(sound.clone(), Frame(f), 1.0).unwrap();
    }
    let mut out = WavOutput::create(&path, renderer, 4096).unwrap();
    out.render_until(Frame(20_000)).unwrap();
    assert_eq!(out.finish().unwrap(), Frame(20_000));
    let (samples, channels, rate) = read_wav(&path);
    assert_eq!((channels, rate, samples.len()), (2, 48_000, 40_000));
    let started: Vec<u64> = controller
        .events()
        .into_iter()
        .filter_map(|e| match e {
            EngineEvent::Started { frame, .. } => Some(frame.0),
            _ => None,
        })
        .collect();
    assert_eq!(started, onsets);
    // The first onset is at frame 0 with the sound's first sample, exactly.
    assert_eq!(samples[0], sound.samples()[0]);
    // Between the 4096 voice's end and 10_001 there is silence; 10_001 starts exactly.
    assert!(samples[2 * 4596..2 * 10_001].iter().all(|s| *s == 0.0));
    assert_eq!(samples[2 * 10_001], sound.samples()[0]);
}
