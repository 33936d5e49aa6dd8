use std::sync::Arc;

use proptest::prelude::*;

use super::*;

const RATE: u32 = 48_000;

fn config() -> EngineConfig {
    EngineConfig {
        sample_rate: RATE,
        ..EngineConfig::default()
    }
}

/// A short mono sound whose first sample is non-zero, so its onset is visible.
fn click(len: usize, level: f32) -> Arc<Sound> {
    let samples = (0..len)
        .map(|i| level * (1.0 - i as f32 / len as f32))
        .collect();
    Arc::new(Sound::mono(RATE, samples).unwrap())
}

/// Renders `frames` frames in blocks of `block` frames; returns the interleaved output.
fn render(renderer: &mut Renderer, frames: usize, block: usize) -> Vec<f32> {
    let mut out = vec![0.0; 2 * frames];
    for chunk in out.chunks_mut(2 * block) {
        renderer.render(chunk);
    }
    out
}

fn first_nonzero_frame(out: &[f32]) -> Option<usize> {
    out.iter().position(|s| *s != 0.0).map(|i| i / 2)
}

proptest! {
    /// A sound scheduled at frame F starts at F — its first non-zero sample — whatever
    /// the block size and wherever F falls in a block.
    #[test]
    fn onset_is_exact_for_any_block_size(
        block in prop::sample::select(vec![1usize, 64, 441, 4096]),
        blocks_before in 0u64..4,
        offset in prop_oneof![Just(0u64), Just(1), Just(u64::MAX), any::<u64>()],
    ) {
        let (mut controller, mut renderer) = engine(config());
        let offset = offset % block as u64;
        let at = blocks_before * block as u64 + offset;
        controller.play(click(32, 0.5), Frame(at), 1.0).unwrap();
        let out = render(&mut renderer, (at as usize / block + 2) * block, block);
        prop_assert_eq!(first_nonzero_frame(&out), Some(at as usize));
        prop_assert_eq!(out[2 * at as usize], 0.5);
        let events = controller.events();
        prop_assert_eq!(
            events[0],
            EngineEvent::Started { id: VoiceId(0), frame: Frame(at), requested: Frame(at) }
        );
    }

    /// Several sounds in one block each start on their own frame.
    #[test]
    fn onsets_inside_one_block_are_independent(mut frames in prop::collection::vec(0u64..4096, 1..8)) {
        frames.sort_unstable();
        frames.dedup();
        let (mut controller, mut renderer) = engine(config());
        for &f in &frames {
            controller.play(click(1, 0.01), Frame(f), 1.0).unwrap();
        }
        let out = render(&mut renderer, 4096, 4096);
        let onsets: Vec<u64> = (0..4096u64).filter(|&i| out[2 * i as usize] != 0.0).collect();
        prop_assert_eq!(onsets, frames);
    }
}

#[test]
fn voices_mix_by_adding() {
    let (mut controller, mut renderer) = engine(config());
    let a = click(100, 0.25);
    let b = click(50, 0.125);
    controller.play(a.clone(), Frame(10), 1.0).unwrap();
    controller.play(b.clone(), Frame(20), 2.0).unwrap();
    let out = render(&mut renderer, 256, 64);
    for frame in 0..256 {
        let mut expected = 0.0;
        if (10..110).contains(&frame) {
            expected += a.samples()[frame - 10];
        }
        if (20..70).contains(&frame) {
            expected += 2.0 * b.samples()[frame - 20];
        }
        assert_eq!(out[2 * frame], expected, "left, frame {frame}");
        assert_eq!(out[2 * frame + 1], expected, "right, frame {frame}");
    }
}

#[test]
fn stereo_sounds_keep_their_sides() {
    let (mut controller, mut renderer) = engine(config());
    let sound = Arc::new(Sound::from_interleaved(RATE, 2, vec![0.5, -0.25, 0.125, 0.0]).unwrap());
    controller.play(sound, Frame(3), 1.0).unwrap();
    let out = render(&mut renderer, 8, 8);
    assert_eq!(&out[6..10], &[0.5, -0.25, 0.125, 0.0]);
}

#[test]
fn the_sum_of_many_loud_voices_never_clips() {
    let (mut controller, mut renderer) = engine(config());
    let loud = Arc::new(
        Sound::mono(
            RATE,
            (0..4800).map(|i| (i as f32 * 0.03).sin() * 0.9).collect(),
        )
        .unwrap(),
    );
    for i in 0..40 {
        controller.play(loud.clone(), Frame(i * 7), 1.0).unwrap();
    }
    let out = render(&mut renderer, 6000, 256);
    let peak = out.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    assert!(peak <= Limiter::DEFAULT_THRESHOLD, "peak {peak}");
    assert!(
        peak > 0.85,
        "peak {peak}: the limiter should not crush the mix"
    );
}

#[test]
fn past_the_voice_cap_the_quietest_voice_fades_out() {
    let (mut controller, mut renderer) = engine(EngineConfig {
        max_voices: 4,
        ..config()
    });
    let long = |level| Arc::new(Sound::mono(RATE, vec![level; 48_000]).unwrap());
    let quiet = controller.play(long(0.01), Frame(0), 1.0).unwrap();
    for _ in 0..3 {
        controller.play(long(0.1), Frame(0), 1.0).unwrap();
    }
    render(&mut renderer, 64, 64);
    assert_eq!(renderer.active_voices(), 4);
    let newest = controller.play(long(0.1), Frame(64), 1.0).unwrap();
    let out = render(&mut renderer, 64 * 10, 64);
    let events = controller.events();
    assert!(events.contains(&EngineEvent::Stolen {
        id: quiet,
        frame: Frame(64)
    }));
    assert!(events.contains(&EngineEvent::Started {
        id: newest,
        frame: Frame(64),
        requested: Frame(64)
    }));
    // The 5 ms fade is gone after it; four loud voices remain: 0.4.
    assert_eq!(renderer.active_voices(), 4);
    assert_eq!(out[2 * 600], 0.4);
    // No click: the stolen voice ramps down, never jumping by more than its level per frame.
    let worst_step = out
        .chunks_exact(2)
        .map(|f| f[0])
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0f32, f32::max);
    assert!(worst_step <= 0.1 + 1e-6, "step {worst_step}");
}

#[test]
fn a_storm_beyond_every_slot_keeps_the_cap() {
    let (mut controller, mut renderer) = engine(EngineConfig {
        max_voices: 8,
        ..config()
    });
    let sound = click(48_000, 0.1);
    for _ in 0..200 {
        controller.play(sound.clone(), Frame(0), 1.0).unwrap();
    }
    render(&mut renderer, 64, 64);
    assert!(
        renderer.active_voices() <= 8 + 2,
        "{}",
        renderer.active_voices()
    );
    let started = controller
        .events()
        .iter()
        .filter(|e| matches!(e, EngineEvent::Started { .. }))
        .count();
    assert_eq!(started, 200);
}

#[test]
fn cancelling_a_scheduled_voice_keeps_it_silent() {
    let (mut controller, mut renderer) = engine(config());
    let id = controller.play(click(10, 0.5), Frame(1000), 1.0).unwrap();
    render(&mut renderer, 64, 64);
    controller.cancel(id).unwrap();
    let out = render(&mut renderer, 2048, 64);
    assert_eq!(first_nonzero_frame(&out), None);
    assert_eq!(
        controller.events(),
        vec![EngineEvent::Cancelled {
            id,
            frame: Frame(64)
        }]
    );
}

#[test]
fn cancelling_a_playing_voice_fades_it_quickly() {
    let (mut controller, mut renderer) = engine(config());
    let id = controller
        .play(
            Arc::new(Sound::mono(RATE, vec![0.5; 48_000]).unwrap()),
            Frame(0),
            1.0,
        )
        .unwrap();
    render(&mut renderer, 128, 64);
    controller.cancel(id).unwrap();
    let out = render(&mut renderer, 1024, 64);
    let fade = 5 * RATE as usize / 1000;
    assert!(out[0] > 0.49 && out[0] <= 0.5);
    assert!(out[2 * (fade / 2)] < 0.3 && out[2 * (fade / 2)] > 0.2);
    assert!(out[2 * fade..].iter().all(|s| *s == 0.0));
    assert_eq!(renderer.active_voices(), 0);
}

#[test]
fn a_late_voice_starts_at_once_and_says_so() {
    let (mut controller, mut renderer) = engine(config());
    render(&mut renderer, 128, 64);
    let id = controller.play(click(8, 0.5), Frame(5), 1.0).unwrap();
    let out = render(&mut renderer, 64, 64);
    assert_eq!(first_nonzero_frame(&out), Some(0));
    assert_eq!(
        controller.events()[0],
        EngineEvent::Started {
            id,
            frame: Frame(128),
            requested: Frame(5)
        }
    );
}

#[test]
fn finished_voices_are_reported_and_the_clock_advances() {
    let (mut controller, mut renderer) = engine(config());
    let clock = controller.clock();
    let id = controller.play(click(10, 0.5), Frame(60), 1.0).unwrap();
    render(&mut renderer, 128, 64);
    assert_eq!(clock.now(), Frame(128));
    assert_eq!(controller.now(), Frame(128));
    assert_eq!(
        controller.events(),
        vec![
            EngineEvent::Started {
                id,
                frame: Frame(60),
                requested: Frame(60)
            },
            EngineEvent::Finished {
                id,
                frame: Frame(70)
            },
        ]
    );
}

#[test]
fn bad_requests_are_refused_on_the_control_side() {
    let (mut controller, _renderer) = engine(config());
    let other_rate = Arc::new(Sound::mono(44_100, vec![0.1]).unwrap());
    assert_eq!(
        controller.play(other_rate, Frame(0), 1.0),
        Err(EngineError::RateMismatch {
            sound: 44_100,
            engine: RATE
        })
    );
    assert_eq!(
        controller
            .play(click(1, 0.1), Frame(0), f32::NAN)
            .unwrap_err()
            .to_string(),
        "gain NaN is not a finite, non-negative number"
    );
}

#[test]
fn a_full_schedule_rejects_instead_of_allocating() {
    let (mut controller, mut renderer) = engine(EngineConfig {
        max_scheduled: 2,
        ..config()
    });
    for i in 0..3 {
        controller
            .play(click(1, 0.1), Frame(10_000 + i), 1.0)
            .unwrap();
    }
    render(&mut renderer, 64, 64);
    assert_eq!(
        controller.events(),
        vec![EngineEvent::Rejected { id: VoiceId(2) }]
    );
}
