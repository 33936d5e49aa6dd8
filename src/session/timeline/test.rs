use proptest::prelude::*;

use super::*;
use crate::session::plan::{Plan, RawSegment};

const RATE: u32 = 48_000;

/// A segment for test plans: (length in ms, form, density, end, warnings).
type Spec = (u64, &'static str, &'static str, &'static str, Vec<u64>);

fn plan(specs: &[Spec]) -> ValidPlan {
    Plan {
        name: "test".into(),
        description: String::new(),
        segments: specs
            .iter()
            .enumerate()
            .map(|(i, (ms, form, density, end, warnings))| RawSegment {
                title: format!("segment {i}"),
                duration: SegmentDuration::new(Duration::from_millis(*ms)).to_string(),
                form: Some((*form).into()),
                density: Some((*density).into()),
                end: Some((*end).into()),
                warnings: warnings
                    .iter()
                    .map(|w| SegmentDuration::new(Duration::from_millis(*w)).to_string())
                    .collect(),
                notes: String::new(),
                ..RawSegment::default()
            })
            .collect(),
    }
    .validate()
    .unwrap()
}

fn secs(s: u64) -> u64 {
    s * u64::from(RATE)
}

fn run(plan: &ValidPlan, events: &[Steer]) -> Timeline {
    let history = History::from_events(events.iter().copied()).unwrap();
    timeline(plan, &history, &TimelineOptions::new(RATE))
}

fn frames_of(t: &Timeline, instrument: Instrument) -> Vec<u64> {
    t.strokes()
        .iter()
        .filter(|s| s.instrument == instrument)
        .map(|s| s.frame.0)
        .collect()
}

const BUKA: u64 = 4 * RATE as u64;

#[test]
fn a_lancaran_timebox_marks_its_quarters_and_ends_on_the_gong() {
    let p = plan(&[(20 * 60_000, "lancaran", "normal", "auto", vec![])]);
    let t = run(&p, &[]);
    assert_eq!(t.first_segment_start(), Frame(BUKA));
    let kenong: Vec<u64> = t
        .strokes()
        .iter()
        .filter(|s| s.instrument == Instrument::Kenong && s.kind != StrokeKind::Buka)
        .map(|s| s.frame.0 - BUKA)
        .collect();
    assert_eq!(kenong, [secs(300), secs(600), secs(900), secs(1200)]);
    let kempul: Vec<u64> = frames_of(&t, Instrument::Kempul)
        .into_iter()
        .map(|f| f - BUKA)
        .collect();
    assert_eq!(kempul, [secs(450), secs(750), secs(1050)]);
    assert!(
        frames_of(&t, Instrument::Ketuk).is_empty(),
        "normal density has no ketuk"
    );
    let last = t.strokes().last().unwrap();
    assert_eq!(
        (last.instrument, last.kind, last.frame),
        (
            Instrument::Gong,
            StrokeKind::SessionEnd,
            Frame(BUKA + secs(1200))
        )
    );
    assert_eq!(t.end(), Some(last.frame));
    assert_eq!(t.planned_end(), last.frame);
}

#[test]
fn the_buka_lands_on_the_gong_where_segment_zero_starts() {
    let p = plan(&[(60_000, "lancaran", "normal", "auto", vec![])]);
    let t = run(&p, &[]);
    let buka: Vec<&Stroke> = t
        .strokes()
        .iter()
        .filter(|s| s.kind == StrokeKind::Buka)
        .collect();
    assert_eq!(buka.first().unwrap().frame, Frame::ZERO);
    assert!(buka.iter().any(|s| s.instrument == Instrument::Bonang));
    let gong = buka.last().unwrap();
    assert_eq!(
        (gong.instrument, gong.frame),
        (Instrument::Gong, Frame(BUKA))
    );
    // The buka is not scaled by the speed.
    let fast = timeline(
        &p,
        &History::new(),
        &TimelineOptions::new(RATE).with_speed(Speed::new(60.0).unwrap()),
    );
    assert_eq!(fast.first_segment_start(), Frame(BUKA));
    assert_eq!(fast.end(), Some(Frame(BUKA + secs(1))));
}

#[test]
fn segments_end_on_the_suwukan_and_the_session_on_the_gong() {
    let p = plan(&[
        (60_000, "ketawang", "sparse", "auto", vec![]),
        (60_000, "bell", "sparse", "auto", vec![]),
    ]);
    let t = run(&p, &[]);
    let ends: Vec<(Instrument, StrokeKind, u64)> = t
        .strokes()
        .iter()
        .filter(|s| matches!(s.kind, StrokeKind::SegmentEnd | StrokeKind::SessionEnd))
        .map(|s| (s.instrument, s.kind, s.frame.0))
        .collect();
    assert_eq!(
        ends,
        [
            (Instrument::Suwukan, StrokeKind::SegmentEnd, BUKA + secs(60)),
            (Instrument::Gong, StrokeKind::SessionEnd, BUKA + secs(120)),
        ]
    );
    // The bell strikes once when its segment starts and not again until its gong.
    let bell: Vec<&Stroke> = t.strokes().iter().filter(|s| s.run == 1).collect();
    assert_eq!(bell.len(), 3, "{bell:?}");
    assert_eq!(bell[0].kind, StrokeKind::Beat { beat: 0, of: 1 });
    assert_eq!(bell[0].frame, Frame(BUKA + secs(60)));
}

#[test]
fn density_chooses_the_strokes() {
    let count = |density: &'static str, instrument| {
        let p = plan(&[(16_000, "ketawang", density, "auto", vec![])]);
        frames_of(&run(&p, &[]), instrument).len()
    };
    assert_eq!(count("sparse", Instrument::Kempul), 0);
    assert_eq!(count("normal", Instrument::Kempul), 1);
    assert_eq!(count("normal", Instrument::Kempyang), 0);
    assert_eq!(count("full", Instrument::Kempyang), 8);
    assert_eq!(count("full", Instrument::Ketuk), 4);
}

#[test]
fn kenong_pitch_rises_through_the_gongan() {
    let p = plan(&[(16_000, "lancaran", "sparse", "auto", vec![])]);
    let t = run(&p, &[]);
    let pitches: Vec<u8> = t
        .strokes()
        .iter()
        .filter(|s| s.instrument == Instrument::Kenong && s.kind != StrokeKind::Buka)
        .filter_map(|s| s.variant)
        .collect();
    assert_eq!(pitches, [1, 2, 4, 6]);
    assert!(t.strokes().iter().all(|s| {
        s.variant
            .is_none_or(|v| v >= 1 && v <= s.instrument.max_variant())
    }));
}

#[test]
fn warnings_sound_before_the_deadline_and_follow_an_extension() {
    let p = plan(&[(
        20 * 60_000,
        "lancaran",
        "sparse",
        "auto",
        vec![60_000, 5 * 60_000],
    )]);
    let t = run(&p, &[]);
    let warnings = |t: &Timeline| -> Vec<(u64, Instrument)> {
        t.strokes()
            .iter()
            .filter(|s| matches!(s.kind, StrokeKind::Warning { .. }))
            .map(|s| (s.frame.0 - BUKA, s.instrument))
            .collect()
    };
    assert_eq!(
        warnings(&t),
        [
            (secs(15 * 60), Instrument::Saron),
            (secs(15 * 60), Instrument::Bonang),
            (secs(19 * 60), Instrument::Saron),
            (secs(19 * 60), Instrument::Bonang),
        ]
    );
    // After the 5-minute warning, five more minutes: the 5-minute warning is true again
    // and sounds again, relative to the new deadline.
    let extended = run(
        &p,
        &[Steer::Extend {
            at: Frame(BUKA + secs(16 * 60)),
            by: Duration::from_secs(300),
        }],
    );
    let w: Vec<u64> = warnings(&extended).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        w,
        [
            secs(15 * 60),
            secs(15 * 60),
            secs(20 * 60),
            secs(20 * 60),
            secs(24 * 60),
            secs(24 * 60)
        ]
    );
}

#[test]
fn a_wait_segment_holds_in_overtime_with_gentle_reminders() {
    let p = plan(&[
        (60_000, "lancaran", "sparse", "wait", vec![]),
        (60_000, "lancaran", "sparse", "auto", vec![]),
    ]);
    let deadline = BUKA + secs(60);
    let horizon = Frame(deadline + secs(60 * 10));
    let options = TimelineOptions::new(RATE).with_horizon(horizon);
    let t = timeline(&p, &History::new(), &options);
    let gong = t
        .strokes()
        .iter()
        .find(|s| s.instrument == Instrument::Suwukan)
        .unwrap();
    assert_eq!(gong.frame, Frame(deadline));
    assert_eq!(gong.kind, StrokeKind::Beat { beat: 16, of: 16 });
    let reminders: Vec<u64> = t
        .strokes()
        .iter()
        .filter(|s| s.kind == StrokeKind::Overtime)
        .map(|s| s.frame.0 - deadline)
        .collect();
    assert_eq!(
        reminders,
        (1..=10).map(|m| secs(60 * m)).collect::<Vec<_>>()
    );
    assert_eq!(t.end(), None);
    assert_eq!(t.runs().len(), 1);
    assert_eq!(t.position_at(Frame(deadline + 1)).state, State::Overtime);
    assert_eq!(t.next_beat_after(Frame(deadline)), None);

    // Next moves on: a suwuk now, the next segment with its full length.
    let next_at = deadline + secs(150);
    let moved = timeline(
        &p,
        &History::from_events([Steer::Next { at: Frame(next_at) }]).unwrap(),
        &options,
    );
    assert_eq!(
        moved
            .strokes()
            .iter()
            .filter(|s| s.kind == StrokeKind::Overtime)
            .count(),
        2
    );
    assert!(moved.strokes().iter().any(|s| s.kind == StrokeKind::Suwuk
        && s.instrument == Instrument::Suwukan
        && s.frame == Frame(next_at)));
    assert_eq!(moved.runs()[1].start, Frame(next_at));
    assert_eq!(moved.end(), Some(Frame(next_at + secs(60))));
    assert_eq!(moved.runs()[0].end, Some(Frame(next_at)));
    assert_eq!(moved.runs()[0].ended_by, Some(RunEnd::Next));

    // Extending in overtime gives a fresh deadline with its gong.
    let extended = timeline(
        &p,
        &History::from_events([Steer::Extend {
            at: Frame(deadline + secs(90)),
            by: Duration::from_secs(120),
        }])
        .unwrap(),
        &options,
    );
    let suwukan = frames_of(&extended, Instrument::Suwukan);
    assert_eq!(suwukan, [deadline, deadline + secs(210)]);
}

#[test]
fn overtime_reminders_are_never_closer_than_five_seconds() {
    let p = plan(&[(60_000, "lancaran", "sparse", "wait", vec![])]);
    let options = TimelineOptions::new(RATE)
        .with_speed(Speed::new(1000.0).unwrap())
        .with_horizon(Frame(BUKA + secs(3600)));
    let t = timeline(&p, &History::new(), &options);
    let reminders: Vec<u64> = t
        .strokes()
        .iter()
        .filter(|s| s.kind == StrokeKind::Overtime)
        .map(|s| s.frame.0)
        .collect();
    assert!(reminders.windows(2).all(|w| w[1] - w[0] == secs(5)));
    assert!(reminders.len() <= 3600 / 5 + 1);
    // A horizon at the end of time stays bounded.
    let forever = timeline(
        &p,
        &History::new(),
        &TimelineOptions::new(RATE).with_horizon(Frame(u64::MAX)),
    );
    assert!(forever.strokes().len() <= MAX_OVERTIME_REMINDERS + 100);
}

#[test]
fn stop_ends_the_session_at_once() {
    let p = plan(&[
        (60_000, "lancaran", "full", "auto", vec![]),
        (60_000, "lancaran", "full", "auto", vec![]),
    ]);
    let at = Frame(BUKA + secs(30));
    let t = run(&p, &[Steer::Stop { at }]);
    let last = t.strokes().last().unwrap();
    assert_eq!(
        (last.frame, last.instrument, last.kind),
        (at, Instrument::Gong, StrokeKind::SessionEnd)
    );
    assert!(t.strokes().iter().all(|s| s.frame <= at));
    assert_eq!(t.end(), Some(at));
    assert!(t.is_finished_at(at));
    assert!(!t.is_finished_at(Frame(at.0 - 1)));
    assert_eq!(t.position_at(at).state, State::Finished);
    assert_eq!(t.runs().len(), 1);
}

#[test]
fn previous_restarts_the_segment_before() {
    let p = plan(&[
        (60_000, "lancaran", "sparse", "auto", vec![]),
        (60_000, "lancaran", "sparse", "auto", vec![]),
    ]);
    let at = Frame(BUKA + secs(90));
    let t = run(&p, &[Steer::Previous { at }]);
    let segments: Vec<usize> = t.runs().iter().map(|r| r.segment).collect();
    assert_eq!(segments, [0, 1, 0, 1]);
    assert_eq!(t.runs()[2].start, at);
    assert_eq!(t.end(), Some(Frame(at.0 + secs(120))));
    // From the first segment, previous restarts it.
    let first = run(
        &p,
        &[Steer::Previous {
            at: Frame(BUKA + secs(10)),
        }],
    );
    assert_eq!(first.runs()[1].segment, 0);
    assert_eq!(first.runs()[1].start, Frame(BUKA + secs(10)));
}

#[test]
fn a_pause_without_resume_silences_the_rest() {
    let p = plan(&[(60_000, "lancaran", "full", "auto", vec![])]);
    let at = Frame(BUKA + secs(20));
    let t = run(&p, &[Steer::Pause { at }]);
    assert!(t.strokes().iter().all(|s| s.frame < at));
    assert_eq!(t.end(), None);
    assert_eq!(t.position_at(Frame(at.0 + secs(1000))).state, State::Paused);
    assert_eq!(t.next_beat_after(at), None);
    // Next while paused resumes into the next segment... here the last: it ends.
    let t = run(
        &p,
        &[
            Steer::Pause { at },
            Steer::Next {
                at: Frame(at.0 + 5),
            },
        ],
    );
    assert_eq!(t.end(), Some(Frame(at.0 + 5)));
}

#[test]
fn positions_and_quantisation_points() {
    let p = plan(&[(16_000, "lancaran", "sparse", "auto", vec![])]);
    let t = run(&p, &[]);
    assert_eq!(t.position_at(Frame(0)).state, State::Buka);
    let start = BUKA;
    let pos = t.position_at(Frame(start + secs(5) + 1));
    assert_eq!(
        (pos.state, pos.segment, pos.beat, pos.of),
        (State::Running, 0, 5, 16)
    );
    assert_eq!(pos.remaining, Frame(secs(11) - 1));
    assert_eq!(
        t.next_beat_after(Frame(start + secs(5))),
        Some(Frame(start + secs(6)))
    );
    assert_eq!(t.next_beat_after(Frame(0)), Some(Frame(start + secs(1))));
    assert_eq!(
        t.next_gong_after(Frame(start)),
        Some(Frame(start + secs(16)))
    );
    assert_eq!(t.next_gong_after(Frame(start + secs(16))), None);
    assert_eq!(
        t.strokes_between(Frame(start + secs(4)), Frame(start + secs(8)))
            .len(),
        1,
        "the kenong on beat 4; beat 8's kenong is outside the half-open window"
    );
    assert!(t.is_finished_at(Frame(start + secs(16))));
}

#[test]
fn ignores_steering_that_makes_no_sense() {
    let p = plan(&[(60_000, "lancaran", "sparse", "auto", vec![])]);
    let plain = run(&p, &[]);
    let noise = run(
        &p,
        &[
            Steer::Resume { at: Frame(BUKA) },
            Steer::Next {
                at: Frame(BUKA + secs(70)),
            },
        ],
    );
    assert_eq!(noise.strokes(), plain.strokes());
}

#[test]
fn speed_accepts_factors_and_rejects_nonsense() {
    assert_eq!("60".parse::<Speed>().map(Speed::factor), Ok(60.0));
    assert_eq!("2.5x".parse::<Speed>().map(Speed::factor), Ok(2.5));
    for bad in ["0", "-1", "nan", "inf", "1e9", "fast"] {
        assert!(bad.parse::<Speed>().is_err(), "{bad}");
    }
    assert_eq!(
        Speed::new(3.0)
            .unwrap()
            .frames(Duration::from_secs(60), RATE),
        secs(20)
    );
    assert_eq!(
        Speed::new(0.01).unwrap().frames(Duration::MAX, u32::MAX),
        u64::MAX
    );
}

// ---- properties -------------------------------------------------------------------

fn form() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "lancaran",
        "ketawang",
        "ladrang",
        "gendhing",
        "bell",
        "T N . G",
        "p T N P W G",
    ])
}

fn density() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["sparse", "normal", "full"])
}

/// One auto segment of 1 s to 2 h, sometimes with a warning.
fn auto_segment() -> impl Strategy<Value = Spec> {
    (
        1_000u64..7_200_000,
        form(),
        density(),
        proptest::option::of(1u64..1000),
    )
        .prop_map(|(ms, form, density, warning)| {
            let warnings = warning
                .map(|per_mille| (ms * per_mille / 1000).max(1))
                .filter(|w| *w < ms)
                .into_iter()
                .collect();
            (ms, form, density, "auto", warnings)
        })
}

fn auto_plan() -> impl Strategy<Value = ValidPlan> {
    prop::collection::vec(auto_segment(), 1..6).prop_map(|specs| plan(&specs))
}

/// Checks the invariants every timeline keeps.
fn check_invariants(t: &Timeline) -> Result<(), TestCaseError> {
    prop_assert!(
        t.strokes().windows(2).all(|w| w[0].frame <= w[1].frame),
        "sorted"
    );
    prop_assert!(
        t.beats().windows(2).all(|w| w[0].frame <= w[1].frame),
        "beats sorted"
    );
    for s in t.strokes() {
        if s.kind == StrokeKind::Buka {
            prop_assert!(s.frame <= t.first_segment_start());
            continue;
        }
        let run = t.runs()[s.run];
        prop_assert_eq!(run.segment, s.segment);
        prop_assert!(run.start <= s.frame, "{:?} before its run {:?}", s, run);
        if let Some(end) = run.end {
            prop_assert!(s.frame <= end, "{:?} after its run {:?}", s, run);
        }
    }
    // Every run that reached its deadline ends its gongan with its gong exactly there.
    for (i, run) in t.runs().iter().enumerate() {
        if run.ended_by != Some(RunEnd::Deadline) {
            continue;
        }
        let last = t.strokes().iter().rfind(|s| s.run == i);
        prop_assert!(
            last.is_some_and(|s| s.frame == run.deadline
                && matches!(s.instrument, Instrument::Gong | Instrument::Suwukan)),
            "run {} {:?} ends with {:?}",
            i,
            run,
            last
        );
        prop_assert_eq!(Some(run.deadline), run.end);
    }
    Ok(())
}

/// The strokes of `t` from frame `from` on, `shift` frames earlier.
fn tail(
    t: &Timeline,
    from: u64,
    shift: u64,
) -> Vec<(u64, Instrument, Option<u8>, StrokeKind, usize)> {
    t.strokes()
        .iter()
        .filter(|s| s.frame.0 >= from)
        .map(|s| {
            (
                s.frame.0 - shift,
                s.instrument,
                s.variant,
                s.kind,
                s.segment,
            )
        })
        .collect()
}

proptest! {

    #[test]
    fn every_timeline_keeps_its_invariants(
        specs in prop::collection::vec((auto_segment(), any::<bool>()), 1..6),
        events in prop::collection::vec((0u64..8, 0u64..secs(3 * 3600), 0u64..600), 0..8),
    ) {
        let specs: Vec<Spec> = specs
            .into_iter()
            .map(|(mut spec, wait)| {
                if wait {
                    spec.3 = "wait";
                }
                spec
            })
            .collect();
        let p = plan(&specs);
        let mut at = 0;
        let mut history = History::new();
        for (kind, gap, by) in events {
            at += gap / 4;
            let at_frame = Frame(at);
            let event = match kind {
                0 => Steer::Pause { at: at_frame },
                1 => Steer::Resume { at: at_frame },
                2 => Steer::Next { at: at_frame },
                3 => Steer::Previous { at: at_frame },
                4 => Steer::Stop { at: at_frame },
                5 => Steer::SetLeft { at: at_frame, left: Duration::from_secs(by) },
                6 => Steer::Jump { at: at_frame, segment: (by % 7) as u32 },
                _ => Steer::Extend { at: at_frame, by: Duration::from_secs(by.max(1)) },
            };
            if history.push(event).is_err() {
                break; // after a stop
            }
        }
        let horizon = Frame(at + secs(4 * 3600));
        let t = timeline(&p, &history, &TimelineOptions::new(RATE).with_horizon(horizon));
        check_invariants(&t)?;
        // Steering only ever changes the future.
        for (i, event) in history.events().iter().enumerate() {
            let earlier = History::from_events(history.events()[..i].iter().copied()).unwrap();
            let before = timeline(&p, &earlier, &TimelineOptions::new(RATE).with_horizon(horizon));
            let cut = event.at().max(t.first_segment_start());
            let head = |t: &Timeline| t.strokes().iter().filter(|s| s.frame < cut).copied().collect::<Vec<_>>();
            prop_assert_eq!(head(&t), head(&before));
        }
    }

    #[test]
    fn an_undisturbed_plan_ends_each_segment_on_its_gong(p in auto_plan()) {
        let t = run(&p, &[]);
        check_invariants(&t)?;
        prop_assert_eq!(t.runs().len(), p.segments().len());
        prop_assert_eq!(t.end(), Some(t.planned_end()));
        for pair in t.runs().windows(2) {
            prop_assert_eq!(pair[0].end, Some(pair[1].start));
        }
    }

    #[test]
    fn extend_moves_exactly_the_future(p in auto_plan(), at_per_mille in 0u64..1000, by_ms in 1u64..3_600_000) {
        let plain = run(&p, &[]);
        let end = plain.end().unwrap().0;
        let at = BUKA + (end - BUKA) * at_per_mille / 1000;
        let by = Duration::from_millis(by_ms);
        let by_frames = Speed::NORMAL.frames(by, RATE);
        let extended = run(&p, &[Steer::Extend { at: Frame(at), by }]);
        check_invariants(&extended)?;
        // The past is untouched.
        let before = |t: &Timeline| t.strokes().iter().filter(|s| s.frame.0 < at).copied().collect::<Vec<_>>();
        prop_assert_eq!(before(&extended), before(&plain));
        // The current run's gong moves to the new deadline, later runs by exactly `by`.
        let current = plain.run_at(Frame(at)).unwrap();
        let old_deadline = plain.runs()[current].deadline.0;
        prop_assert_eq!(extended.runs()[current].deadline.0, old_deadline + by_frames);
        prop_assert_eq!(tail(&extended, old_deadline + by_frames, by_frames), tail(&plain, old_deadline, 0));
        prop_assert_eq!(extended.end().unwrap().0, end + by_frames);
    }

    #[test]
    fn pause_freezes_the_position(p in auto_plan(), at_per_mille in 0u64..1000, paused_ms in 1u64..3_600_000) {
        let plain = run(&p, &[]);
        let end = plain.end().unwrap().0;
        let at = BUKA + (end - BUKA) * at_per_mille / 1000;
        // At the pause frame itself the order of "stroke" and "pause" is a convention;
        // the property is about the frames either side.
        prop_assume!(plain.strokes().iter().all(|s| s.frame.0 != at));
        prop_assume!(plain.beats().iter().all(|b| b.frame.0 != at));
        let paused = Speed::NORMAL.frames(Duration::from_millis(paused_ms), RATE);
        let t = run(&p, &[Steer::Pause { at: Frame(at) }, Steer::Resume { at: Frame(at + paused) }]);
        check_invariants(&t)?;
        let before = |t: &Timeline| t.strokes().iter().filter(|s| s.frame.0 < at).copied().collect::<Vec<_>>();
        prop_assert_eq!(before(&t), before(&plain));
        prop_assert!(t.strokes().iter().all(|s| s.frame.0 < at || s.frame.0 >= at + paused), "silence while paused");
        prop_assert_eq!(tail(&t, at, paused), tail(&plain, at, 0));
        prop_assert_eq!(t.position_at(Frame(at + paused / 2)).state, State::Paused);
        prop_assert_eq!(t.position_at(Frame(at + paused / 2)).beat, plain.position_at(Frame(at)).beat);
    }

    #[test]
    fn next_starts_the_next_segment_at_once(specs in prop::collection::vec(auto_segment(), 2..6), at_per_mille in 0u64..1000) {
        let p = plan(&specs);
        let plain = run(&p, &[]);
        let last_start = plain.runs().last().unwrap().start.0;
        let at = BUKA + (last_start - BUKA) * at_per_mille / 1000;
        let current = plain.run_at(Frame(at)).unwrap();
        prop_assume!(plain.runs()[current].start.0 != at);
        let t = run(&p, &[Steer::Next { at: Frame(at) }]);
        check_invariants(&t)?;
        let next = &t.runs()[current + 1];
        prop_assert_eq!(next.segment, current + 1);
        prop_assert_eq!(next.start, Frame(at));
        prop_assert_eq!(t.runs()[current].end, Some(Frame(at)));
        // The next segment runs its full length, exactly as it would have.
        let planned = plain.runs()[current + 1];
        prop_assert_eq!(next.deadline.0 - next.start.0, planned.deadline.0 - planned.start.0);
        prop_assert_eq!(tail(&t, at + 1, at), tail(&plain, planned.start.0 + 1, planned.start.0));
    }

    #[test]
    fn four_hours_do_not_drift(cuts in prop::collection::vec(1u64..4 * 3600 * 1000, 0..12), rate in prop::sample::select(vec![8_000u32, 44_100, 48_000, 96_000]), form in form()) {
        let total_ms = 4 * 3600 * 1000;
        let mut cuts = cuts;
        cuts.push(0);
        cuts.push(total_ms);
        cuts.sort_unstable();
        cuts.dedup();
        let specs: Vec<Spec> = cuts.windows(2).map(|w| (w[1] - w[0], form, "full", "auto", vec![])).collect();
        let p = plan(&specs);
        let t = timeline(&p, &History::new(), &TimelineOptions::new(rate));
        let last = t.strokes().last().unwrap();
        prop_assert_eq!(last.kind, StrokeKind::SessionEnd);
        prop_assert_eq!(last.frame.0 - t.first_segment_start().0, 4 * 3600 * u64::from(rate));
    }
}

#[test]
fn a_stop_during_the_opening_phrase_ends_the_session_there() {
    let p = plan(&[(60_000, "lancaran", "normal", "auto", vec![])]);
    let at = Frame(RATE as u64); // one second into the four-second buka
    let t = run(&p, &[Steer::Stop { at }]);
    assert_eq!(
        t.end(),
        Some(at),
        "over at once, not when the phrase would land"
    );
    assert!(t.is_finished_at(at));
    assert_eq!(t.position_at(at).state, State::Finished);
    assert!(
        t.strokes().iter().all(|s| s.frame <= at),
        "nothing of the phrase after the stop"
    );
    let last = t.strokes().last().unwrap();
    assert_eq!((last.instrument, last.frame), (Instrument::Gong, at));
    assert_eq!(t.runs()[0].end, Some(at));
}

/// A plan of two 20-minute lancaran segments, the first with a wheel of four entries.
fn wheel_plan() -> ValidPlan {
    ValidPlan::from_toml(
        r#"
name = "wheel"
[[segments]]
title = "Scenario"
duration = "20m"
entries = ["Ana", "Budi", "Citra", "Dewi"]
[[segments]]
title = "Debrief"
duration = "20m"
"#,
    )
    .unwrap()
}

#[test]
fn setting_the_time_left_lands_the_gong_on_the_new_deadline_without_crowding() {
    let p = plan(&[
        (20 * 60_000, "ladrang", "full", "auto", vec![]),
        (60_000, "lancaran", "normal", "auto", vec![]),
    ]);
    let at = BUKA + secs(60);
    let t = run(
        &p,
        &[Steer::SetLeft {
            at: Frame(at),
            left: Duration::from_secs(3),
        }],
    );
    let run0 = t.runs()[0];
    assert_eq!(run0.deadline, Frame(at + secs(3)));
    assert_eq!(run0.end, Some(Frame(at + secs(3))));
    let after: Vec<&Stroke> = t
        .strokes()
        .iter()
        .filter(|s| s.run == 0 && s.frame.0 >= at)
        .collect();
    let last = after.last().unwrap();
    assert_eq!(
        (last.instrument, last.frame),
        (Instrument::Suwukan, Frame(at + secs(3)))
    );
    // Ladrang's 32 beats would come every 94 ms in 3 s: the kept ones are 250 ms apart.
    let mut frames: Vec<u64> = after.iter().map(|s| s.frame.0).collect();
    frames.dedup();
    assert!(frames.len() > 2 && frames.len() < 14, "{frames:?}");
    let gap = Speed::NORMAL.frames(MIN_BEAT_GAP, RATE);
    assert!(frames.windows(2).all(|w| w[1] - w[0] >= gap), "{frames:?}");
    // The next segment starts on the new deadline.
    assert_eq!(t.runs()[1].start, Frame(at + secs(3)));
}

#[test]
fn no_time_left_ends_the_segment_now_on_its_gong_alone() {
    let p = plan(&[
        (20 * 60_000, "lancaran", "normal", "auto", vec![60_000]),
        (60_000, "lancaran", "normal", "auto", vec![]),
    ]);
    let at = BUKA + secs(60);
    let t = run(
        &p,
        &[Steer::SetLeft {
            at: Frame(at),
            left: Duration::ZERO,
        }],
    );
    let now: Vec<Instrument> = t
        .strokes()
        .iter()
        .filter(|s| s.run == 0 && s.frame.0 == at)
        .map(|s| s.instrument)
        .collect();
    assert_eq!(
        now,
        [Instrument::Kenong, Instrument::Suwukan],
        "one gongan end, not the whole rest at once"
    );
    assert!(
        t.strokes()
            .iter()
            .all(|s| !matches!(s.kind, StrokeKind::Warning { .. }))
    );
    assert_eq!(t.runs()[1].start, Frame(at));
}

#[test]
fn a_jump_goes_to_any_segment_and_one_the_plan_lacks_is_ignored() {
    let p = plan(&[
        (60_000, "lancaran", "normal", "auto", vec![]),
        (60_000, "lancaran", "normal", "auto", vec![]),
        (60_000, "lancaran", "normal", "auto", vec![]),
    ]);
    let t = run(
        &p,
        &[
            Steer::Jump {
                at: Frame(BUKA + secs(10)),
                segment: 2,
            },
            Steer::Jump {
                at: Frame(BUKA + secs(20)),
                segment: 9,
            },
            Steer::Jump {
                at: Frame(BUKA + secs(30)),
                segment: 0,
            },
        ],
    );
    let runs: Vec<(usize, u64, Option<RunEnd>)> = t
        .runs()
        .iter()
        .map(|r| (r.segment, r.start.0, r.ended_by))
        .collect();
    assert_eq!(
        runs[..3],
        [
            (0, BUKA, Some(RunEnd::Next)),
            (2, BUKA + secs(10), Some(RunEnd::Previous)),
            (0, BUKA + secs(30), Some(RunEnd::Deadline)),
        ]
    );
    let suwuk = t
        .strokes()
        .iter()
        .filter(|s| s.kind == StrokeKind::Suwuk)
        .count();
    assert_eq!(
        suwuk, 4,
        "two jumps, each closing its segment with kenong and suwukan"
    );
}

#[test]
fn a_spin_lands_with_the_gong_on_the_picked_entry_and_moves_no_deadline() {
    let p = wheel_plan();
    let at = BUKA + secs(30);
    let plain = run(&p, &[]);
    let t = run(
        &p,
        &[Steer::Spin {
            at: Frame(at),
            entry: 2,
        }],
    );
    let spin: Vec<&Stroke> = t
        .strokes()
        .iter()
        .filter(|s| matches!(s.kind, StrokeKind::Spin { .. }))
        .collect();
    let land = at + Speed::NORMAL.frames(crate::session::wheel::SPIN_LENGTH, RATE);
    let last = spin.last().unwrap();
    assert_eq!(
        (last.instrument, last.frame, last.kind),
        (
            Instrument::Gong,
            Frame(land),
            StrokeKind::Spin { landing: true }
        )
    );
    let landing_bonang = spin
        .iter()
        .find(|s| {
            s.instrument == Instrument::Bonang && s.kind == (StrokeKind::Spin { landing: true })
        })
        .unwrap();
    assert_eq!(
        landing_bonang.variant,
        Some(3),
        "entry 2 is the bonang's third pitch"
    );
    assert!(spin.iter().all(|s| s.frame.0 > at && s.frame.0 <= land));
    let gaps: Vec<u64> = spin
        .windows(2)
        .map(|w| w[1].frame.0 - w[0].frame.0)
        .filter(|g| *g > 0)
        .collect();
    assert!(gaps.first() < gaps.last(), "it slows down: {gaps:?}");
    // Everything else is as it was.
    let others = |t: &Timeline| {
        t.strokes()
            .iter()
            .filter(|s| !matches!(s.kind, StrokeKind::Spin { .. }))
            .copied()
            .collect::<Vec<_>>()
    };
    assert_eq!(others(&t), others(&plain));
    assert_eq!(t.spins().len(), 1);
    assert_eq!((t.spins()[0].path.from, t.spins()[0].path.to), (0, 2));
}

#[test]
fn the_next_spin_starts_where_the_last_landed_and_a_stop_cuts_one_short() {
    let p = wheel_plan();
    let first = BUKA + secs(30);
    let second = first + secs(10);
    let stop = second + secs(2);
    let t = run(
        &p,
        &[
            Steer::Spin {
                at: Frame(first),
                entry: 2,
            },
            Steer::Spin {
                at: Frame(second),
                entry: 1,
            },
            Steer::Stop { at: Frame(stop) },
        ],
    );
    assert_eq!((t.spins()[1].path.from, t.spins()[1].path.to), (2, 1));
    let late = t
        .strokes()
        .iter()
        .filter(|s| matches!(s.kind, StrokeKind::Spin { .. }) && s.frame.0 > stop)
        .count();
    assert_eq!(late, 0, "the wheel stops with the session");
    // An entry the wheel lacks, or a segment without one, spins nothing.
    let t = run(
        &p,
        &[Steer::Spin {
            at: Frame(first),
            entry: 4,
        }],
    );
    assert!(t.spins().is_empty());
    let t = run(
        &p,
        &[Steer::Spin {
            at: Frame(BUKA + secs(20 * 60 + 5)),
            entry: 0,
        }],
    );
    assert!(t.spins().is_empty());
}
