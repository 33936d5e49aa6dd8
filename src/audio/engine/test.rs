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

/// A constant level, long enough to hear a volume change ride on it.
fn level(len: usize, value: f32) -> Arc<Sound> {
    Arc::new(Sound::mono(RATE, vec![value; len]).unwrap())
}

fn volume(db: f32, muted: bool) -> Volume {
    Volume {
        level: VolumeDb::new(db).unwrap(),
        muted,
    }
}

/// Issue 11: the master volume scales the mix, reached through a ramp with no step
/// larger than the ramp's (no click), and starting at the block after it was set.
#[test]
fn the_master_volume_ramps_to_its_gain_without_a_step() {
    let (mut controller, mut renderer) = engine(config());
    controller.play(level(48_000, 0.5), Frame(0), 1.0).unwrap();
    let before = render(&mut renderer, 256, 256);
    assert!(
        before.iter().all(|s| *s == 0.5),
        "unity leaves samples as they are"
    );

    controller.set_volume(volume(-6.0, false)).unwrap();
    assert_eq!(controller.volume(), volume(-6.0, false));
    let ramp = (VOLUME_RAMP_MS * RATE / 1000) as usize;
    let out = render(&mut renderer, ramp + 1024, 64);
    let left: Vec<f32> = out.iter().step_by(2).copied().collect();
    let target = 0.5 * 10f32.powf(-6.0 / 20.0);
    assert!((left[ramp - 1] - target).abs() < 1e-6, "{}", left[ramp - 1]);
    assert!(
        left[ramp..].iter().all(|s| *s == target),
        "steady after the ramp"
    );
    let largest_step = left
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0f32, f32::max);
    let even_step = (0.5 - target) / ramp as f32;
    assert!(
        largest_step <= even_step * 1.01,
        "a step of {largest_step} where a {ramp}-frame ramp moves {even_step} a frame"
    );
    assert!(left[0] < 0.5 && left[0] > target, "the ramp starts at once");
}

/// Mute is not pause: a muted engine renders silence, yet voices start, play to their end
/// and report it as usual; unmuting brings back the level it had.
#[test]
fn a_muted_engine_renders_silence_and_keeps_time() {
    let (mut controller, mut renderer) = engine(config());
    controller.set_volume(volume(-12.0, true)).unwrap();
    render(&mut renderer, 4800, 480);
    controller.play(level(1000, 0.5), Frame(5000), 1.0).unwrap();
    let out = render(&mut renderer, 4800, 480);
    assert!(out.iter().all(|s| *s == 0.0), "muted is silent");
    assert_eq!(
        controller.events(),
        vec![
            EngineEvent::Started {
                id: VoiceId(0),
                frame: Frame(5000),
                requested: Frame(5000)
            },
            EngineEvent::Finished {
                id: VoiceId(0),
                frame: Frame(6000)
            }
        ]
    );
    controller.set_volume(volume(-12.0, false)).unwrap();
    controller.play(level(4800, 0.5), Frame(9600), 1.0).unwrap();
    let out = render(&mut renderer, 4800, 480);
    let expected = 0.5 * 10f32.powf(-12.0 / 20.0);
    assert!((out[2 * 4799] - expected).abs() < 1e-6, "{}", out[2 * 4799]);
}

/// A volume above unity drives the mix into the limiter, never past its ceiling.
#[test]
fn a_loud_volume_is_still_limited() {
    let (mut controller, mut renderer) = engine(config());
    controller.set_volume(volume(6.0, false)).unwrap();
    controller.play(level(4800, 0.8), Frame(0), 1.0).unwrap();
    let out = render(&mut renderer, 4800, 480);
    let peak = out.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    assert!(peak <= Limiter::DEFAULT_THRESHOLD + 1e-6, "{peak}");
    assert!(peak > 0.8, "louder than the sound itself: {peak}");
}

/// A change in the middle of a ramp goes on from where the gain is, not from where the
/// last ramp began: no jump back.
#[test]
fn a_new_volume_mid_ramp_goes_on_from_the_current_gain() {
    let (mut controller, mut renderer) = engine(config());
    controller.play(level(48_000, 0.5), Frame(0), 1.0).unwrap();
    controller.set_volume(volume(-60.0, false)).unwrap();
    let first = render(&mut renderer, 64, 64);
    controller.set_volume(volume(0.0, false)).unwrap();
    let second = render(&mut renderer, 64, 64);
    let last = first[first.len() - 2];
    let next = second[0];
    assert!(last < 0.5 && next > last, "{last} then {next}");
    assert!(next - last < 0.01, "jumped from {last} to {next}");
}

/// A loud bed (so the limiter works) and a sound scheduled at `late_at` frames: rendered
/// once with the sound known from the start, once with it scheduled only after the blocks
/// covering `late_at` were rendered and then written into them by [`Renderer::rewrite`].
/// Returns both outputs from the rewrite's first frame on, and where the rewrite began.
fn with_and_without_rewrite(
    block: usize,
    late_at: u64,
    volume_db: f32,
) -> (Vec<f32>, Vec<f32>, Option<Frame>) {
    let history = 4 * block;
    let bed = click(20 * block, 0.8);
    let cue = click(3 * block, 0.7);
    let rendered = 2 * block + history / 2;

    let (mut known, mut reference) = engine(config());
    known.set_volume(volume(volume_db, false)).unwrap();
    known.play(bed.clone(), Frame(5), 1.0).unwrap();
    known.play(cue.clone(), Frame(late_at), 0.9).unwrap();
    let expected = render(&mut reference, rendered + 4 * block, block);

    let (mut late, mut renderer) = engine(config());
    renderer.keep_history(history);
    late.set_volume(volume(volume_db, false)).unwrap();
    late.play(bed, Frame(5), 1.0).unwrap();
    let mut actual = render(&mut renderer, rendered, block);
    late.play(cue, Frame(late_at), 0.9).unwrap();
    let mut out = vec![0.0; 2 * history];
    let from = renderer.rewrite(Frame(0), &mut out);
    if let Some(from) = from {
        let from = from.0 as usize;
        actual[2 * from..].copy_from_slice(&out[..2 * (rendered - from)]);
    }
    actual.extend(render(&mut renderer, 4 * block, block));
    (expected, actual, from)
}

proptest! {
    /// A sound written into audio already rendered sounds exactly as if it had been
    /// scheduled there all along — through the master gain and the limiter, and on into
    /// the blocks after — wherever it falls among the blocks.
    #[test]
    fn a_rewrite_sounds_as_if_the_sound_had_been_there_all_along(
        block in prop::sample::select(vec![64usize, 441, 480]),
        back in 1u64..1000,
    ) {
        let rendered = 2 * block as u64 + 2 * block as u64;
        let late_at = rendered - back.min(2 * block as u64);
        let (expected, actual, from) = with_and_without_rewrite(block, late_at, 0.0);
        prop_assert_eq!(from, Some(Frame(late_at)));
        prop_assert!(expected.iter().any(|s| s.abs() >= Limiter::DEFAULT_THRESHOLD - 1e-6));
        prop_assert_eq!(expected, actual);
    }
}

#[test]
fn a_rewrite_under_a_ramping_volume_follows_the_ramp() {
    let (expected, actual, from) = with_and_without_rewrite(480, 1500, -6.0);
    assert_eq!(from, Some(Frame(1500)));
    let worst = expected
        .iter()
        .zip(&actual)
        .map(|(e, a)| (e - a).abs())
        .fold(0.0f32, f32::max);
    // The gain multiplies the new sound on its own instead of in the sum: rounding only.
    assert!(worst < 1e-6, "differs by {worst}");
}

#[test]
fn a_rewrite_never_reaches_before_what_the_output_can_still_change() {
    let (mut controller, mut renderer) = engine(config());
    renderer.keep_history(960);
    render(&mut renderer, 960, 480);
    controller.play(click(32, 0.5), Frame(100), 1.0).unwrap();
    let mut out = vec![0.0; 2 * 960];
    // The output can change frames from 700 on: the sound starts there, late, and says so.
    assert_eq!(renderer.rewrite(Frame(700), &mut out), Some(Frame(700)));
    assert_eq!(out[0], 0.5);
    assert_eq!(
        controller.events(),
        vec![
            EngineEvent::Started {
                id: VoiceId(0),
                frame: Frame(700),
                requested: Frame(100)
            },
            // Short enough to end inside the rewritten frames, and reported so.
            EngineEvent::Finished {
                id: VoiceId(0),
                frame: Frame(732)
            }
        ]
    );
}

#[test]
fn nothing_due_inside_the_rendered_audio_leaves_it_alone() {
    let (mut controller, mut renderer) = engine(config());
    let mut out = vec![0.0; 2 * 960];
    // No history kept: this renderer's output cannot rewrite.
    render(&mut renderer, 960, 480);
    controller.play(click(32, 0.5), Frame(500), 1.0).unwrap();
    assert_eq!(renderer.rewrite(Frame(0), &mut out), None);

    let (mut controller, mut renderer) = engine(config());
    renderer.keep_history(960);
    render(&mut renderer, 960, 480);
    // Due only after what was rendered: the next block starts it, on its frame.
    controller.play(click(32, 0.5), Frame(1000), 1.0).unwrap();
    assert_eq!(renderer.rewrite(Frame(0), &mut out), None);
    let next = render(&mut renderer, 480, 480);
    assert_eq!(first_nonzero_frame(&next), Some(40));
    // And the output can change nothing any more: the sound waits for the next block.
    controller.play(click(32, 0.5), Frame(1200), 1.0).unwrap();
    assert_eq!(renderer.rewrite(Frame(1440), &mut out), None);
    assert_eq!(
        first_nonzero_frame(&render(&mut renderer, 480, 480)),
        Some(0)
    );
}

#[test]
fn a_sound_scheduled_between_a_rewrite_and_the_next_block_waits_to_be_written_in_place() {
    let (mut controller, mut renderer) = engine(config());
    renderer.keep_history(960);
    render(&mut renderer, 960, 480);
    let mut out = vec![0.0; 2 * 960];
    // The output rewrites before each block; nothing is due yet.
    assert_eq!(renderer.rewrite(Frame(0), &mut out), None);
    // Scheduled inside the rendered audio just after that rewrite took the commands...
    controller.play(click(32, 0.5), Frame(500), 1.0).unwrap();
    // ...the next block does not start it late at its first frame,
    let next = render(&mut renderer, 480, 480);
    assert_eq!(first_nonzero_frame(&next), None);
    assert_eq!(controller.events(), vec![]);
    // and the next rewrite starts it on its own frame.
    assert_eq!(renderer.rewrite(Frame(0), &mut out), Some(Frame(500)));
    assert_eq!(out[0], 0.5);
    // Blocks not preceded by a rewrite take the commands themselves.
    render(&mut renderer, 480, 480);
    controller.play(click(32, 0.5), Frame(2000), 1.0).unwrap();
    assert_eq!(
        first_nonzero_frame(&render(&mut renderer, 480, 480)),
        Some(80)
    );
}

#[test]
fn a_sound_scheduled_inside_queued_audio_wakes_a_rewriting_output() {
    let (mut controller, mut renderer) = engine(config());
    let woken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = woken.clone();
    controller.set_rewriting(Duration::from_millis(4), move || {
        count.fetch_add(1, Ordering::Relaxed);
    });
    render(&mut renderer, 960, 480);
    // Ahead of the rendered audio: the next block plays it, no need to wake anyone.
    controller.play(click(8, 0.5), Frame(2000), 1.0).unwrap();
    assert_eq!(woken.load(Ordering::Relaxed), 0);
    controller.play(click(8, 0.5), Frame(500), 1.0).unwrap();
    assert_eq!(woken.load(Ordering::Relaxed), 1);
}

#[test]
fn a_rewriting_output_lets_sounds_start_inside_audio_it_has_handed_on() {
    let (mut controller, mut renderer) = engine(config());
    // Frame 0 was heard 10 ms ago; 960 frames (20 ms) are rendered, so 10 ms are queued.
    let mut block = vec![0.0; 2 * 960];
    renderer.render_heard(&mut block, HostTime::now() - Duration::from_millis(10));
    controller.sync_clock();
    let queued_end = controller.earliest_heard();
    assert!(
        controller
            .frame_for(HostTime::now() + Duration::from_millis(5))
            .is_none()
    );

    controller.set_rewriting(Duration::from_millis(4), || {});
    let earliest = controller.earliest_heard();
    assert!(
        earliest < queued_end,
        "the rewriting output is not heard sooner"
    );
    let soon = controller
        .frame_for(HostTime::now() + Duration::from_millis(5))
        .expect("a frame inside the queued audio");
    assert!((700..900).contains(&soon.0), "{soon:?}");
}
