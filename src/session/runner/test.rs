//! Steering a [`Runner`]: random command sequences on random small plans (proptest), and
//! the edge cases written out.
//!
//! The runner is driven on the virtual host clock an offline render uses (session frame 0
//! at [`HostTime::ZERO`]), so every instant is exact and nothing waits for real time.
//! The engine behind it is never rendered while the script runs: its frame clock stays at
//! 0 and its output clock, never anchored, reads engine frames as time from the same
//! epoch, so every stroke sent is simply queued. What reaches the engine is only looked
//! at for a resumed session, whose fresh engine is anchored at the resume instant and
//! rendered over one look-ahead window (see [`first_pump_strokes`]).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use proptest::prelude::*;

use super::*;
use crate::audio::{EngineConfig, Renderer, Sound, engine};
use crate::pack::{self, Manifest};
use crate::session::SESSION_RATE;
use crate::session::duration::SegmentDuration;
use crate::session::plan::{Plan, RawSegment};
use crate::session::record::{Action, JournalEntry};
use crate::session::timeline::{Instrument, Speed, StrokeKind};

/// The session's rate: the live one, since a [`SessionRecord`] counts its frames at it.
const RATE: u32 = SESSION_RATE;
/// The engine's rate. The runner maps session instants to engine frames through the
/// output clock, so it need not be the session's; a low one makes rendering a window
/// and synthesising the pack cost next to nothing.
const ENGINE_RATE: u32 = 1_000;
/// The conductor's default look-ahead.
const LOOKAHEAD: Duration = Duration::from_millis(300);
/// The opening phrase, which the speed never scales.
const BUKA: Duration = Duration::from_secs(4);

/// Every instrument the timeline strikes, so the test pack leaves no stroke silent.
const INSTRUMENTS: [Instrument; 8] = [
    Instrument::Gong,
    Instrument::Suwukan,
    Instrument::Kempul,
    Instrument::Kenong,
    Instrument::Ketuk,
    Instrument::Kempyang,
    Instrument::Bonang,
    Instrument::Saron,
];

/// A plan of `segments` as (seconds, holds at its deadline), all lancaran.
fn plan(segments: &[(u64, bool)]) -> ValidPlan {
    raw_plan(segments).validate().unwrap()
}

/// [`plan`], before it is validated (to change it first).
fn raw_plan(segments: &[(u64, bool)]) -> Plan {
    Plan {
        name: "steering".into(),
        description: String::new(),
        segments: segments
            .iter()
            .enumerate()
            .map(|(i, (seconds, wait))| RawSegment {
                title: format!("segment {i}"),
                duration: SegmentDuration::new(Duration::from_secs(*seconds)).to_string(),
                form: Some("lancaran".into()),
                density: Some("normal".into()),
                end: Some(if *wait { "wait" } else { "auto" }.into()),
                warnings: Vec::new(),
                notes: String::new(),
                ..RawSegment::default()
            })
            .collect(),
    }
}

/// A fixed UTC origin, so snapshots of two runners on the same clock compare equal.
fn clock() -> SessionClock {
    SessionClock::new(
        HostTime::ZERO,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_339_800),
        RATE,
    )
}

fn options(speed: Speed) -> TimelineOptions {
    TimelineOptions::new(RATE).with_speed(speed)
}

fn session_id() -> SessionId {
    SessionId::parse("20261122-093000-0001").unwrap()
}

fn facilitator() -> Actor {
    Actor::new("test").unwrap()
}

/// An engine whose queues hold every command a whole scripted session sends, since the
/// script never renders it.
fn test_engine() -> (Controller, Renderer) {
    engine(EngineConfig {
        sample_rate: ENGINE_RATE,
        max_scheduled: 1 << 14,
        queue_capacity: 1 << 14,
        ..EngineConfig::default()
    })
}

/// A pack of ten-sample blips, one per variant of every instrument the timeline strikes:
/// in memory, at the engine's rate.
fn test_pack() -> Pack {
    let blip: Vec<f32> = (0..10)
        .map(|i| {
            let i = i as f32;
            0.5 * (1.0 + i).sin() * (1.0 - i / 10.0)
        })
        .collect();
    let sound = Arc::new(Sound::mono(ENGINE_RATE, blip).unwrap());
    let instruments = INSTRUMENTS.iter().map(|instrument| {
        let variants = usize::from(instrument.max_variant().max(1));
        pack::Instrument::new(
            instrument.name().to_owned(),
            vec![sound.clone(); variants],
            0.0,
        )
        .unwrap()
    });
    let manifest = Manifest {
        name: "blips".into(),
        description: String::new(),
        author: String::new(),
        licence: String::new(),
        instruments: BTreeMap::new(),
        roles: BTreeMap::new(),
    };
    Pack::from_instruments(PathBuf::from("(test)"), manifest, instruments)
}

fn at_seconds(seconds: f64) -> HostTime {
    HostTime::ZERO + Duration::from_secs_f64(seconds)
}

/// The `at` of a steering event.
fn steering_at(event: &SessionEvent) -> Option<f64> {
    match event {
        SessionEvent::Paused { at, .. }
        | SessionEvent::Resumed { at, .. }
        | SessionEvent::Skipped { at, .. }
        | SessionEvent::Extended { at, .. }
        | SessionEvent::TimeLeftSet { at, .. }
        | SessionEvent::Jumped { at, .. }
        | SessionEvent::Spin { at, .. }
        | SessionEvent::Stopped { at, .. } => Some(at.seconds),
        _ => None,
    }
}

/// The journal a conductor would have written for a session steered by `applied`: its
/// start, then each steer, in order.
fn record_of(runner: &Runner, applied: &[Steer]) -> SessionRecord {
    let clock = runner.clock();
    let entry = |at: Frame, action: Action| JournalEntry {
        session: runner.id().clone(),
        at,
        utc: clock.utc_of(at),
        actor: facilitator(),
        action,
    };
    let started = entry(
        Frame::ZERO,
        Action::Started {
            plan: runner.plan().clone(),
            speed: runner.options().speed.factor(),
        },
    );
    let steered = applied
        .iter()
        .map(|steer| entry(steer.at(), Action::Steered { steer: *steer }));
    SessionRecord::from_entries(std::iter::once(started).chain(steered))
        .unwrap()
        .unwrap()
}

/// What `runner`'s first pump at `now` sends, as the strokes its engine starts: a fresh
/// engine (a restarted process's) whose output hears its frame 0 at `now`, rendered past
/// the look-ahead window. Each is `(planned session frame, instrument)`, sorted.
fn first_pump_strokes(runner: &mut Runner, now: HostTime, pack: &Pack) -> Vec<(Frame, Instrument)> {
    let (mut controller, mut renderer) = test_engine();
    renderer.render_heard(&mut [], now);
    controller.sync_clock();
    let _ = runner.pump(now, LOOKAHEAD, &mut controller, pack);
    // The window plus a margin for the rounding of instants to engine frames.
    let frames = Frame::from_duration(LOOKAHEAD, ENGINE_RATE).0 as usize + 10;
    renderer.render(&mut vec![0.0; 2 * frames]);
    let mut strokes: Vec<_> = controller
        .events()
        .iter()
        .filter_map(|event| match runner.on_engine_event(event) {
            Some(SessionEvent::Stroke {
                planned,
                instrument,
                ..
            }) => Some((planned, instrument)),
            _ => None,
        })
        .collect();
    strokes.sort_by_key(|(frame, instrument)| (*frame, instrument.name()));
    strokes
}

/// The strokes the timeline has at frames `from..to`, as [`first_pump_strokes`] lists them.
fn planned_strokes(timeline: &Timeline, from: Frame, to: Frame) -> Vec<(Frame, Instrument)> {
    let mut strokes: Vec<_> = timeline
        .strokes_between(from, to)
        .iter()
        .map(|s| (s.frame, s.instrument))
        .collect();
    strokes.sort_by_key(|(frame, instrument)| (*frame, instrument.name()));
    strokes
}

/// The snapshot agrees with the timeline at `now`.
fn check_snapshot(runner: &Runner, now: HostTime) -> Result<Snapshot, TestCaseError> {
    let snapshot = runner.snapshot(now);
    let at = runner.session_frame(now);
    prop_assert_eq!(
        snapshot.state == State::Finished,
        runner.timeline().is_finished_at(at),
        "state {:?} at frame {}",
        snapshot.state,
        at
    );
    prop_assert_eq!(runner.is_over(now), runner.timeline().is_finished_at(at));
    prop_assert!(
        snapshot.remaining_seconds.is_finite() && snapshot.remaining_seconds >= 0.0,
        "remaining {}",
        snapshot.remaining_seconds
    );
    prop_assert!(snapshot.overtime_seconds >= 0.0);
    prop_assert!(snapshot.segment < runner.plan().segments().len());
    Ok(snapshot)
}

/// When a command comes, after the one before.
#[derive(Debug, Clone, Copy)]
enum Gap {
    /// At the same instant.
    Zero,
    /// A few seconds: enough to land in the buka or right after another command.
    Millis(u64),
    /// A share (per mille) of a fifth of the planned session: a dozen commands then
    /// spread over about its length, so some land after its end.
    Share(u64),
}

impl Gap {
    fn after(self, now: HostTime, planned_end: Duration) -> HostTime {
        now + match self {
            Gap::Zero => Duration::ZERO,
            Gap::Millis(ms) => Duration::from_millis(ms),
            Gap::Share(permille) => planned_end / 5 * permille as u32 / 1000,
        }
    }
}

fn gap() -> impl Strategy<Value = Gap> {
    prop_oneof![
        1 => Just(Gap::Zero),
        2 => (0u64..5_000).prop_map(Gap::Millis),
        5 => (0u64..=1000).prop_map(Gap::Share),
    ]
}

fn command() -> impl Strategy<Value = SteerCommand> {
    prop_oneof![
        3 => Just(SteerCommand::Pause),
        3 => Just(SteerCommand::Resume),
        2 => Just(SteerCommand::Next),
        2 => Just(SteerCommand::Previous),
        3 => (1_000u64..=600_000).prop_map(|ms| SteerCommand::Extend(Duration::from_millis(ms))),
        2 => (1_000u64..=600_000).prop_map(|ms| SteerCommand::Shorten(Duration::from_millis(ms))),
        2 => (0u64..=600_000).prop_map(|ms| SteerCommand::SetLeft(Duration::from_millis(ms))),
        2 => (0usize..5).prop_map(SteerCommand::Jump),
        1 => Just(SteerCommand::Stop),
    ]
}

fn segments() -> impl Strategy<Value = Vec<(u64, bool)>> {
    prop::collection::vec((10u64..=300, any::<bool>()), 1..=4)
}

fn speed() -> impl Strategy<Value = Speed> {
    prop_oneof![Just(1.0), Just(60.0)].prop_map(|factor| Speed::new(factor).unwrap())
}

/// How long the server was down before a session is taken up, after its last command.
#[derive(Debug, Clone)]
enum Down {
    /// A share (per mille) of half the planned session.
    Share(u64),
    /// Near one of the strokes still to come: this many microseconds after it (negative:
    /// before it, so it is in the first look-ahead window; a little after it, so it is
    /// within the lateness the engine would still forgive, and must not be sent).
    NearStroke(prop::sample::Index, i64),
}

impl Down {
    fn until(&self, runner: &Runner, last: HostTime) -> HostTime {
        let clock = runner.clock();
        match self {
            Down::Share(permille) => {
                let planned_end = runner.timeline().planned_end().as_duration(RATE);
                last + planned_end / 2 * *permille as u32 / 1000
            }
            Down::NearStroke(index, micros) => {
                let ahead = runner
                    .timeline()
                    .strokes()
                    .iter()
                    .filter(|s| clock.instant_of(s.frame) >= last)
                    .collect::<Vec<_>>();
                if ahead.is_empty() {
                    return last;
                }
                let stroke = clock.instant_of(index.get(&ahead).frame);
                let offset = Duration::from_micros(micros.unsigned_abs());
                let at = if *micros < 0 {
                    stroke.saturating_sub(offset)
                } else {
                    stroke + offset
                };
                at.max(last)
            }
        }
    }
}

fn down() -> impl Strategy<Value = Down> {
    prop_oneof![
        1 => (0u64..=1000).prop_map(Down::Share),
        3 => (any::<prop::sample::Index>(), -400_000i64..=30_000)
            .prop_map(|(index, micros)| Down::NearStroke(index, micros)),
    ]
}

/// 64 cases unless `PROPTEST_CASES` asks for more.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 64;
    }
    config
}

/// What a scripted session left behind.
struct Played {
    runner: Runner,
    applied: Vec<Steer>,
    /// The instant of the last command.
    last: HostTime,
}

/// Plays `script` on a session of `segments` at `speed`, checking properties 1, 2 and 4
/// after every command and at instants between commands.
fn play(
    segments: &[(u64, bool)],
    speed: Speed,
    script: &[(Gap, SteerCommand)],
    pack: &Pack,
) -> Result<Played, TestCaseError> {
    let options = options(speed);
    let mut runner = Runner::new(session_id(), plan(segments), options, clock());
    let planned_end = runner.timeline().planned_end().as_duration(RATE);
    let (mut controller, _renderer) = test_engine();
    let by = facilitator();
    let mut applied = Vec::new();
    let mut last_steered: Option<f64> = None;
    let mut now = HostTime::ZERO;
    let instants: Vec<HostTime> = script
        .iter()
        .scan(HostTime::ZERO, |now, (gap, _)| {
            *now = gap.after(*now, planned_end);
            Some(*now)
        })
        .collect();
    for (i, (_, command)) in script.iter().enumerate() {
        now = instants[i];
        let timeline = runner.timeline().clone();
        let history = runner.history().clone();
        let snapshot = runner.snapshot(now);
        match runner.check(*command, now) {
            Ok(steer) => {
                // Property 1: what check accepts, apply does, at the command's instant
                // (during the opening phrase: as it lands, unless it is a stop).
                let expected = if snapshot.state == State::Buka && *command != SteerCommand::Stop {
                    timeline
                        .first_segment_start()
                        .max(runner.session_frame(now))
                } else {
                    runner.session_frame(now)
                };
                prop_assert_eq!(steer.at(), expected);
                let event = runner.apply(steer, &by, &mut controller);
                prop_assert!(
                    event.is_ok(),
                    "{:?} accepted but not applied: {:?}",
                    steer,
                    event
                );
                applied.push(steer);
                // Property 4: steering events never go back in time.
                let at = event.ok().as_ref().and_then(steering_at);
                prop_assert!(at.is_some(), "{:?} gave no steering event", steer);
                let at = at.unwrap_or_default();
                prop_assert!(
                    last_steered.is_none_or(|last| last <= at),
                    "{:?} at {} s after a steer at {:?} s",
                    command,
                    at,
                    last_steered
                );
                last_steered = Some(at);
                // What the session is doing where the command took effect, before and
                // after it (the opening phrase defers a command to its landing).
                let before = timeline.position_at(steer.at()).state;
                let state = runner.timeline().position_at(steer.at()).state;
                let deferred = snapshot.state == State::Buka;
                match command {
                    SteerCommand::Pause => prop_assert_eq!(state, State::Paused),
                    // A stop ends the session there and then, whatever it was doing.
                    SteerCommand::Stop => {
                        prop_assert_eq!(state, State::Finished);
                        prop_assert_eq!(
                            runner.check(SteerCommand::Stop, now),
                            Err(SteerError::Finished)
                        );
                    }
                    // Resuming, or moving on, ends a pause.
                    SteerCommand::Resume
                    | SteerCommand::Next
                    | SteerCommand::Previous
                    | SteerCommand::Jump(_) => {
                        prop_assert_ne!(state, State::Paused, "after {:?}", command);
                    }
                    // The time left is what was asked (plan time, so divided by the
                    // speed), or what there was less what was taken off; a pause holds.
                    SteerCommand::SetLeft(left) if !deferred => {
                        prop_assert_eq!(state == State::Paused, before == State::Paused);
                        let after = runner.snapshot(now);
                        let expected = left.as_secs_f64() / speed.factor();
                        if expected > 0.01 {
                            prop_assert!(
                                (after.remaining_seconds - expected).abs() < 1e-3,
                                "{} s left after {:?}",
                                after.remaining_seconds,
                                command
                            );
                        }
                    }
                    SteerCommand::Shorten(by) if !deferred => {
                        prop_assert_eq!(state == State::Paused, before == State::Paused);
                        let after = runner.snapshot(now);
                        let expected =
                            snapshot.remaining_seconds - by.as_secs_f64() / speed.factor();
                        if expected > 0.01 && after.segment == snapshot.segment {
                            prop_assert!(
                                (after.remaining_seconds - expected).abs() < 1e-3,
                                "{} s left after {:?} from {} s; expected {}",
                                after.remaining_seconds,
                                command,
                                snapshot.remaining_seconds,
                                expected
                            );
                        }
                    }
                    SteerCommand::SetLeft(_) | SteerCommand::Shorten(_) | SteerCommand::Spin(_) => {
                        prop_assert_eq!(state == State::Paused, before == State::Paused);
                    }
                    // A paused session extended stays paused; the time left grows by the
                    // extension (plan time, so divided by the speed), or, in overtime,
                    // becomes it.
                    SteerCommand::Extend(_) if deferred => {
                        prop_assert_eq!(state == State::Paused, before == State::Paused);
                    }
                    SteerCommand::Extend(by) => {
                        prop_assert_eq!(state == State::Paused, before == State::Paused);
                        let by = by.as_secs_f64() / speed.factor();
                        let expected = match snapshot.state {
                            State::Overtime => by,
                            _ => snapshot.remaining_seconds + by,
                        };
                        let remaining = runner.snapshot(now).remaining_seconds;
                        prop_assert!(
                            (remaining - expected).abs() < 1e-3,
                            "{} s left after {:?} from {:?} with {} s left; expected {} s",
                            remaining,
                            command,
                            snapshot.state,
                            snapshot.remaining_seconds,
                            expected
                        );
                    }
                }
            }
            Err(error) => {
                // Property 1: a refused command changes nothing, even through `steer`.
                let again = runner.steer(*command, now, &by, &mut controller);
                prop_assert_eq!(again.err(), Some(error));
                prop_assert_eq!(runner.timeline(), &timeline);
                prop_assert_eq!(runner.history(), &history);
                prop_assert_eq!(runner.snapshot(now), snapshot);
            }
        }
        let _ = runner.pump(now, LOOKAHEAD, &mut controller, pack);
        // Property 2, at the command and on to the next one (or a while past the last).
        let after = check_snapshot(&runner, now)?;
        let until = instants
            .get(i + 1)
            .copied()
            .unwrap_or(now + planned_end / 4);
        let span = until.saturating_since(now);
        for probe in [
            now + span / 3,
            now + span * 2 / 3,
            until.saturating_sub(Duration::from_nanos(1)),
        ] {
            if probe < now {
                continue;
            }
            let later = check_snapshot(&runner, probe)?;
            if after.state == State::Paused {
                // A pause holds until someone resumes (or moves on): the time left stands.
                prop_assert_eq!(later.state, State::Paused, "at {:?}", probe);
                prop_assert_eq!(later.remaining_seconds, after.remaining_seconds);
            }
        }
    }
    Ok(Played {
        runner,
        applied,
        last: now,
    })
}

proptest! {
    #![proptest_config(config())]

    /// Properties 1, 2 and 4: `check` never panics, what it accepts `apply` does, what it
    /// refuses changes nothing; the snapshot agrees with the timeline; a pause holds the
    /// time left; steering events come in time order.
    #[test]
    fn steering_keeps_the_session_consistent(
        segments in segments(),
        speed in speed(),
        script in prop::collection::vec((gap(), command()), 1..=12),
    ) {
        play(&segments, speed, &script, &test_pack())?;
    }

    /// Property 3, crash safety: a session taken up from its journal at any later instant
    /// is the session that was running — same timeline, same snapshot — and its first pump
    /// sends exactly the strokes of the look-ahead window, none planned before the resume.
    #[test]
    fn a_resumed_session_is_the_session_that_was_running(
        segments in segments(),
        speed in speed(),
        script in prop::collection::vec((gap(), command()), 0..=12),
        down in down(),
    ) {
        let pack = test_pack();
        let Played { runner, applied, last } = play(&segments, speed, &script, &pack)?;
        let now = down.until(&runner, last);
        let record = record_of(&runner, &applied);
        let options = TimelineOptions::new(RATE).with_speed(record.speed);
        let mut resumed = Runner::resumed(&record, options, *runner.clock(), now);
        prop_assert_eq!(resumed.history(), runner.history());
        prop_assert_eq!(resumed.timeline(), runner.timeline());
        prop_assert_eq!(resumed.snapshot(now), runner.snapshot(now));
        let from = resumed.session_frame(now);
        let to = resumed.session_frame(now + LOOKAHEAD);
        let sent = first_pump_strokes(&mut resumed, now, &pack);
        prop_assert!(
            sent.iter().all(|(planned, _)| *planned >= from),
            "strokes planned before the resume at {}: {:?}",
            from,
            sent
        );
        prop_assert_eq!(sent, planned_strokes(runner.timeline(), from, to));
    }
}

/// Steering during the opening phrase is taken, never refused: a pause and a resume
/// pressed while it plays take effect as it lands, and the first segment runs its whole
/// length after them.
#[test]
fn steering_during_the_buka_takes_effect_as_it_lands() {
    let mut runner = Runner::new(
        session_id(),
        plan(&[(60, false), (60, false)]),
        options(Speed::NORMAL),
        clock(),
    );
    let (mut controller, _renderer) = test_engine();
    let pack = test_pack();
    let _ = runner.pump(HostTime::ZERO, LOOKAHEAD, &mut controller, &pack);
    let now = at_seconds(1.0);
    assert_eq!(runner.snapshot(now).state, State::Buka);
    let lands = runner.timeline().first_segment_start();
    assert!(lands > runner.session_frame(now));
    let paused = runner
        .steer(SteerCommand::Pause, now, &facilitator(), &mut controller)
        .unwrap();
    assert!(matches!(paused, SessionEvent::Paused { .. }));
    assert_eq!(runner.history().last(), Some(&Steer::Pause { at: lands }));
    // Still the opening until it lands; paused from then on.
    assert_eq!(runner.snapshot(now).state, State::Buka);
    let resumed = runner
        .steer(
            SteerCommand::Resume,
            at_seconds(1.5),
            &facilitator(),
            &mut controller,
        )
        .unwrap();
    assert!(matches!(resumed, SessionEvent::Resumed { .. }));
    let next = runner.check(SteerCommand::Next, at_seconds(2.0)).unwrap();
    assert_eq!(next, Steer::Next { at: lands });
    // The first segment's deadline is unmoved: a zero-length pause at its start.
    let first = &runner.timeline().runs()[0];
    assert_eq!(first.start, lands);
    assert_eq!(
        first.deadline.0 - first.start.0,
        60 * u64::from(runner.timeline().sample_rate())
    );
}

/// Stopping during the opening phrase ends the session at once: the buka does not land
/// first, and nothing more can be steered.
#[test]
fn stop_during_the_buka_ends_the_session_at_once() {
    let mut runner = Runner::new(
        session_id(),
        plan(&[(60, false)]),
        options(Speed::NORMAL),
        clock(),
    );
    let (mut controller, _renderer) = test_engine();
    let pack = test_pack();
    let _ = runner.pump(HostTime::ZERO, LOOKAHEAD, &mut controller, &pack);
    let now = at_seconds(1.5);
    assert_eq!(runner.snapshot(now).state, State::Buka);
    // Another command would wait for the phrase to land.
    assert_eq!(
        runner.check(SteerCommand::Next, now),
        Ok(Steer::Next {
            at: runner.timeline().first_segment_start()
        })
    );
    let event = runner
        .steer(SteerCommand::Stop, now, &facilitator(), &mut controller)
        .unwrap();
    assert!(matches!(event, SessionEvent::Stopped { .. }));
    assert_eq!(runner.timeline().end(), Some(runner.session_frame(now)));
    assert_eq!(runner.snapshot(now).state, State::Finished);
    assert!(runner.is_over(now));
    for command in [
        SteerCommand::Stop,
        SteerCommand::Pause,
        SteerCommand::Next,
        SteerCommand::Extend(Duration::from_secs(60)),
    ] {
        assert_eq!(runner.check(command, now), Err(SteerError::Finished));
    }
    // The end is announced on the next pump, where the stop happened.
    let events = runner.pump(
        now + Duration::from_millis(10),
        LOOKAHEAD,
        &mut controller,
        &pack,
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, SessionEvent::Finished { at } if at.seconds == 1.5)),
        "{events:?}"
    );
    assert!(runner.is_finished());
    // No segment ever started, and the rest of the phrase is gone.
    assert!(
        runner
            .timeline()
            .strokes()
            .iter()
            .all(|s| s.frame <= runner.session_frame(now))
    );
}

/// A pause exactly on a `wait` segment's deadline: the session is paused with nothing
/// left, and once resumed it holds in overtime.
#[test]
fn pause_at_the_deadline_of_a_wait_segment() {
    let mut runner = Runner::new(
        session_id(),
        plan(&[(30, true), (30, false)]),
        options(Speed::NORMAL),
        clock(),
    );
    let (mut controller, _renderer) = test_engine();
    let by = facilitator();
    let deadline = runner.timeline().runs()[0].deadline;
    assert_eq!(deadline.as_duration(RATE), BUKA + Duration::from_secs(30));
    let now = runner.clock().instant_of(deadline);
    assert_eq!(runner.snapshot(now).state, State::Overtime);
    runner
        .steer(SteerCommand::Pause, now, &by, &mut controller)
        .unwrap();
    let paused = runner.snapshot(now);
    assert_eq!(paused.state, State::Paused);
    assert_eq!(paused.segment, 0);
    assert_eq!(paused.remaining_seconds, 0.0);
    let later = runner.snapshot(now + Duration::from_secs(45));
    assert_eq!(later.state, State::Paused);
    assert_eq!(later.remaining_seconds, 0.0);
    // The deadline's strokes (kenong and gong suwukan) sounded as the pause took hold,
    // and sound only there, however long the pause: the deadline that moves when it ends
    // is not struck again.
    let deadline_strokes = |runner: &Runner| {
        let strokes: Vec<_> = runner
            .timeline()
            .strokes()
            .iter()
            .filter(|s| matches!(s.kind, StrokeKind::Beat { beat, of } if beat == of))
            .map(|s| (s.frame, s.instrument))
            .collect();
        strokes
    };
    let struck = vec![
        (deadline, Instrument::Kenong),
        (deadline, Instrument::Suwukan),
    ];
    assert_eq!(deadline_strokes(&runner), struck);
    let resume = now + Duration::from_secs(45);
    runner
        .steer(SteerCommand::Resume, resume, &by, &mut controller)
        .unwrap();
    let resumed = runner.snapshot(resume + Duration::from_secs(1));
    assert_eq!(resumed.state, State::Overtime);
    assert_eq!(resumed.segment, 0);
    assert_eq!(resumed.remaining_seconds, 0.0);
    // The pause is not overtime: the hold counts from the resume.
    assert_eq!(resumed.overtime_seconds, 1.0);
    assert_eq!(deadline_strokes(&runner), struck);
    // Overtime reminders come after the pause, not during it.
    assert!(
        runner
            .timeline()
            .strokes()
            .iter()
            .filter(|s| s.kind == StrokeKind::Overtime)
            .all(|s| s.frame > runner.session_frame(resume))
    );
    // It still waits for the facilitator.
    assert_eq!(
        runner.snapshot(resume + Duration::from_secs(600)).state,
        State::Overtime
    );
    runner
        .steer(
            SteerCommand::Next,
            resume + Duration::from_secs(2),
            &by,
            &mut controller,
        )
        .unwrap();
    assert_eq!(runner.snapshot(resume + Duration::from_secs(3)).segment, 1);
}

/// Extending a segment holding in overtime gives it a fresh deadline that long after the
/// extension; when that passes it holds again.
#[test]
fn extend_in_overtime_sets_a_fresh_deadline() {
    let mut runner = Runner::new(
        session_id(),
        plan(&[(30, true), (30, false)]),
        options(Speed::NORMAL),
        clock(),
    );
    let (mut controller, _renderer) = test_engine();
    let deadline = runner
        .clock()
        .instant_of(runner.timeline().runs()[0].deadline);
    let now = deadline + Duration::from_secs(20);
    let before = runner.snapshot(now);
    assert_eq!(before.state, State::Overtime);
    assert_eq!(before.overtime_seconds, 20.0);
    runner
        .steer(
            SteerCommand::Extend(Duration::from_secs(90)),
            now,
            &facilitator(),
            &mut controller,
        )
        .unwrap();
    let after = runner.snapshot(now);
    assert_eq!(after.state, State::Running);
    assert_eq!(after.segment, 0);
    assert_eq!(after.remaining_seconds, 90.0);
    assert_eq!(after.overtime_seconds, 0.0);
    // The plan's table shows what the extension gave the segment.
    assert_eq!(after.segments[0].extended_seconds, 90.0);
    assert_eq!(after.segments[1].extended_seconds, 0.0);
    assert_eq!(before.segments[0].extended_seconds, 0.0);
    assert_eq!(
        after.deadline_seconds,
        Some(runner.session_frame(now).as_seconds(RATE) + 90.0)
    );
    let held = runner.snapshot(now + Duration::from_secs(100));
    assert_eq!(held.state, State::Overtime);
    assert_eq!(held.segment, 0);
    assert_eq!(held.overtime_seconds, 10.0);
}

/// The names of `events`, in order.
fn kinds(events: &[SessionEvent]) -> Vec<&'static str> {
    events
        .iter()
        .map(|e| match e {
            SessionEvent::SegmentStarted { .. } => "segment_started",
            SessionEvent::TimeWarning { .. } => "time_warning",
            SessionEvent::Overtime { .. } => "overtime",
            SessionEvent::Missed { .. } => "missed",
            SessionEvent::Finished { .. } => "finished",
            _ => "other",
        })
        .collect()
}

/// A session holding in overtime tells it once: a pause and a resume that leave it holding
/// do not tell it again; an extension that gives it a fresh deadline does, when that
/// passes.
#[test]
fn overtime_is_announced_once_for_each_deadline_it_holds_at() {
    let mut runner = Runner::new(
        session_id(),
        plan(&[(30, true), (30, false)]),
        options(Speed::NORMAL),
        clock(),
    );
    let (mut controller, _renderer) = test_engine();
    let pack = test_pack();
    let by = facilitator();
    let deadline = runner
        .clock()
        .instant_of(runner.timeline().runs()[0].deadline);
    let mut told = Vec::new();
    let mut pump = |runner: &mut Runner, controller: &mut Controller, seconds: u64| {
        let now = deadline + Duration::from_secs(seconds);
        told.extend(kinds(&runner.pump(now, LOOKAHEAD, controller, &pack)));
    };
    pump(&mut runner, &mut controller, 1);
    let steer = |runner: &mut Runner, controller: &mut Controller, command, seconds: u64| {
        let now = deadline + Duration::from_secs(seconds);
        runner.steer(command, now, &by, controller).unwrap();
    };
    steer(&mut runner, &mut controller, SteerCommand::Pause, 5);
    pump(&mut runner, &mut controller, 6);
    steer(&mut runner, &mut controller, SteerCommand::Resume, 15);
    pump(&mut runner, &mut controller, 16);
    pump(&mut runner, &mut controller, 20);
    assert_eq!(
        runner.snapshot(deadline + Duration::from_secs(20)).state,
        State::Overtime
    );
    let extend = SteerCommand::Extend(Duration::from_secs(10));
    steer(&mut runner, &mut controller, extend, 20);
    pump(&mut runner, &mut controller, 25);
    pump(&mut runner, &mut controller, 31);
    let overtimes = told.iter().filter(|k| **k == "overtime").count();
    assert_eq!(overtimes, 2, "{told:?}");
}

/// Moving on from an overtime does not tell it again in the moment before the command
/// takes effect (the conductor steers a little ahead of now, so the session still holds
/// in the overtime already told while the next segment is on its way).
#[test]
fn moving_on_from_overtime_does_not_tell_it_again() {
    let mut runner = Runner::new(
        session_id(),
        plan(&[(30, true), (30, true)]),
        options(Speed::NORMAL),
        clock(),
    );
    let (mut controller, _renderer) = test_engine();
    let pack = test_pack();
    let deadline = runner
        .clock()
        .instant_of(runner.timeline().runs()[0].deadline);
    let mut told = kinds(&runner.pump(
        deadline + Duration::from_secs(1),
        LOOKAHEAD,
        &mut controller,
        &pack,
    ));
    assert_eq!(told, ["segment_started", "overtime"]);
    // Next, taking effect 100 ms from now; the runner is pumped before and after that.
    let now = deadline + Duration::from_secs(5);
    runner
        .steer(
            SteerCommand::Next,
            now + Duration::from_millis(100),
            &facilitator(),
            &mut controller,
        )
        .unwrap();
    told = kinds(&runner.pump(now, LOOKAHEAD, &mut controller, &pack));
    told.extend(kinds(&runner.pump(
        now + Duration::from_millis(200),
        LOOKAHEAD,
        &mut controller,
        &pack,
    )));
    assert_eq!(told, ["segment_started"], "{told:?}");
}

/// Warnings are told from the timeline, once per warning (its chord of two strokes is one
/// warning), in order with the segments — even when the clock jumped past them all at once
/// (a stall: the engine, not the timeline, then reports their strokes missed).
#[test]
fn warnings_are_announced_in_order_even_when_the_clock_jumps_past_them() {
    let mut raw = raw_plan(&[(120, false), (30, false)]);
    raw.segments[0].warnings = vec!["1m".into(), "30s".into()];
    let plan = raw.validate().unwrap();
    let mut runner = Runner::new(session_id(), plan, options(Speed::NORMAL), clock());
    let (mut controller, _renderer) = test_engine();
    let pack = test_pack();
    let first = runner.pump(at_seconds(1.0), LOOKAHEAD, &mut controller, &pack);
    assert!(!kinds(&first).contains(&"time_warning"));
    // A stall from 1 s to 140 s: both warnings, the deadline and the next segment's start
    // passed unheard.
    let events = runner.pump(at_seconds(140.0), LOOKAHEAD, &mut controller, &pack);
    let told = kinds(&events);
    assert_eq!(
        told.iter().filter(|k| **k == "time_warning").count(),
        2,
        "{told:?}"
    );
    let leads: Vec<f64> = events
        .iter()
        .filter_map(|e| match e {
            SessionEvent::TimeWarning {
                segment: 0,
                lead_seconds,
                ..
            } => Some(*lead_seconds),
            _ => None,
        })
        .collect();
    assert_eq!(leads, [60.0, 30.0]);
    let second_segment = told.iter().rposition(|k| *k == "segment_started").unwrap();
    let last_warning = told.iter().rposition(|k| *k == "time_warning").unwrap();
    assert!(last_warning < second_segment, "{told:?}");
    // Nothing is told twice.
    let again = runner.pump(at_seconds(141.0), LOOKAHEAD, &mut controller, &pack);
    assert!(!kinds(&again).contains(&"time_warning"));
}

/// A session replaced by the next one just before its final gong: the conductor asks it
/// to conclude at the new session's start, and its end is told (once), not lost.
#[test]
fn a_session_concluded_at_its_end_tells_it_once() {
    let mut runner = Runner::new(
        session_id(),
        plan(&[(30, false)]),
        options(Speed::NORMAL),
        clock(),
    );
    let (mut controller, _renderer) = test_engine();
    let pack = test_pack();
    let end = runner.clock().instant_of(runner.timeline().end().unwrap());
    // The last pump came 40 ms before the end.
    let before = runner.pump(
        end - Duration::from_millis(40),
        LOOKAHEAD,
        &mut controller,
        &pack,
    );
    assert!(!kinds(&before).contains(&"finished"));
    assert!(runner.is_over(end + Duration::from_millis(10)));
    let told = runner.conclude(end + Duration::from_millis(10));
    assert_eq!(kinds(&told), ["finished"]);
    assert!(runner.is_finished());
    assert!(runner.conclude(end + Duration::from_millis(20)).is_empty());
}

/// What a session of an unsteered `plan` taken up at session frame `frame` sends on its
/// first pumps (the strokes' planned frames) and what it announces.
fn resumed_at(plan: &ValidPlan, frame: Frame) -> (Vec<Frame>, Vec<SessionEvent>) {
    let original = Runner::new(session_id(), plan.clone(), options(Speed::NORMAL), clock());
    let record = record_of(&original, &[]);
    let now = clock().instant_of(frame);
    let mut resumed = Runner::resumed(&record, options(Speed::NORMAL), clock(), now);
    let (mut controller, _renderer) = test_engine();
    let pack = test_pack();
    let mut events = resumed.pump(now, LOOKAHEAD, &mut controller, &pack);
    events.extend(resumed.pump(
        now + Duration::from_millis(10),
        LOOKAHEAD,
        &mut controller,
        &pack,
    ));
    let sent = resumed.in_flight.values().map(|s| s.frame).collect();
    (sent, events)
}

/// A session taken up exactly on the frame a segment starts plays that segment's first
/// strokes (they are not before the resume), so it must announce the segment too, as it
/// does when taken up one frame earlier. Likewise for a `wait` segment's overtime.
#[test]
fn a_session_resumed_on_a_segment_start_announces_it() {
    let plan = plan(&[(30, false), (30, true)]);
    let timeline = Runner::new(session_id(), plan.clone(), options(Speed::NORMAL), clock())
        .timeline()
        .clone();
    let started = |events: &[SessionEvent], segment: usize| {
        events
            .iter()
            .any(|e| matches!(e, SessionEvent::SegmentStarted { segment: s, .. } if *s == segment))
    };
    let overtime = |events: &[SessionEvent]| {
        events
            .iter()
            .any(|e| matches!(e, SessionEvent::Overtime { .. }))
    };
    for (run, segment) in [(0, 0), (1, 1)] {
        let start = timeline.runs()[run].start;
        // One frame early: the strokes on the start are sent and the start announced.
        let (sent, events) = resumed_at(&plan, Frame(start.0 - 1));
        assert!(
            sent.contains(&start) && started(&events, segment),
            "{events:?}"
        );
        // On the start: the same strokes are sent, so the start must be announced.
        let (sent, events) = resumed_at(&plan, start);
        assert!(
            sent.contains(&start),
            "the strokes on the resume frame are sent"
        );
        assert!(
            started(&events, segment),
            "segment {segment} starts at {start}, where the session was taken up, with its \
             strokes but unannounced: {events:?}"
        );
    }
    let deadline = timeline.runs()[1].deadline;
    let (sent, events) = resumed_at(&plan, Frame(deadline.0 - 1));
    assert!(sent.contains(&deadline) && overtime(&events), "{events:?}");
    let (sent, events) = resumed_at(&plan, deadline);
    assert!(sent.contains(&deadline), "the deadline strokes are sent");
    assert!(
        overtime(&events),
        "overtime begins at {deadline}, where the session was taken up, unannounced: \
         {events:?}"
    );
}

/// A session of one segment with a wheel of three entries and a rotation of three people.
fn wheel_runner(draw: &str) -> Runner {
    let plan = ValidPlan::from_toml(&format!(
        r#"
name = "wheel"
[[segments]]
title = "Scenario"
duration = "30s"
entries = ["Disk full", "DNS", "Expired certificate"]
draw = "{draw}"
rotation = ["Ana", "Budi", "Citra"]
[[segments]]
title = "Debrief"
duration = "30s"
"#
    ))
    .unwrap();
    Runner::new(session_id(), plan, options(Speed::NORMAL), clock())
}

#[test]
fn a_wheel_drawn_without_repetition_gives_every_entry_once_a_round() {
    let mut runner = wheel_runner("without-repetition");
    let (mut controller, _renderer) = test_engine();
    let mut picks = Vec::new();
    for i in 0..4u64 {
        // The same roll every time: only what is left to draw changes the pick.
        let now = at_seconds(5.0 + 6.0 * i as f64);
        let event = runner
            .steer(SteerCommand::Spin(0), now, &facilitator(), &mut controller)
            .unwrap();
        let SessionEvent::Spin {
            spin: Some(spin), ..
        } = event
        else {
            panic!("a spin event: {event:?}");
        };
        assert_eq!(spin.start_seconds, 5.0 + 6.0 * i as f64);
        assert_eq!(spin.land_seconds, spin.start_seconds + 5.0);
        picks.push(spin.entry);
    }
    assert_eq!(
        picks,
        ["Disk full", "DNS", "Expired certificate", "Disk full"],
        "each once, then a new round"
    );
    let wheel = runner.snapshot(at_seconds(24.0)).wheel.unwrap();
    assert_eq!(wheel.drawn, ["Disk full"]);
    assert_eq!(wheel.last.unwrap().entry, "Disk full");
    // The picks are in the history the journal keeps.
    let spins: Vec<u32> = runner
        .history()
        .events()
        .iter()
        .filter_map(|e| match e {
            Steer::Spin { entry, .. } => Some(*entry),
            _ => None,
        })
        .collect();
    assert_eq!(spins, [0, 1, 2, 0]);
}

#[test]
fn a_wheel_with_repetition_may_land_anywhere_and_a_segment_without_one_refuses() {
    let mut runner = wheel_runner("with-repetition");
    let (mut controller, _renderer) = test_engine();
    for (roll, expected) in [(4u64, "DNS"), (4, "DNS"), (2, "Expired certificate")] {
        runner
            .steer(
                SteerCommand::Spin(roll),
                at_seconds(6.0),
                &facilitator(),
                &mut controller,
            )
            .unwrap();
        assert_eq!(
            runner
                .snapshot(at_seconds(6.0))
                .wheel
                .unwrap()
                .last
                .unwrap()
                .entry,
            expected
        );
    }
    // The debrief has no wheel.
    let history = runner.history().clone();
    let refused = runner.check(SteerCommand::Spin(0), at_seconds(40.0));
    assert_eq!(refused, Err(SteerError::NoWheel("Debrief".into())));
    assert_eq!(runner.history(), &history);
    assert!(runner.snapshot(at_seconds(40.0)).wheel.is_none());
}

#[test]
fn turns_of_a_rotation_are_announced_with_who_comes_next() {
    let mut runner = wheel_runner("with-repetition");
    let (mut controller, _renderer) = test_engine();
    let pack = test_pack();
    let mut turns = Vec::new();
    for tenth in 0..=400u32 {
        let now = at_seconds(f64::from(tenth) / 10.0);
        for event in runner.pump(now, LOOKAHEAD, &mut controller, &pack) {
            if let SessionEvent::Turn {
                person, next, at, ..
            } = event
            {
                turns.push((person, next, at.seconds));
            }
        }
    }
    let want = |person: &str, next: Option<&str>, seconds: f64| {
        (person.to_owned(), next.map(str::to_owned), seconds)
    };
    assert_eq!(
        turns,
        [
            want("Ana", Some("Budi"), 4.0),
            want("Budi", Some("Citra"), 14.0),
            want("Citra", None, 24.0),
        ]
    );
    let turn = runner.snapshot(at_seconds(15.0)).turn.unwrap();
    assert_eq!(
        (turn.person.as_str(), turn.turn, turn.of, turn.ends_seconds),
        ("Budi", 1, 3, 24.0)
    );
    assert!(
        runner.snapshot(at_seconds(35.0)).turn.is_none(),
        "the debrief has no rotation"
    );
}

#[test]
fn time_comes_off_a_segment_but_not_one_past_its_deadline() {
    let mut runner = Runner::new(
        session_id(),
        plan(&[(60, true), (60, false)]),
        options(Speed::NORMAL),
        clock(),
    );
    let (mut controller, _renderer) = test_engine();
    runner
        .steer(
            SteerCommand::Shorten(Duration::from_secs(20)),
            at_seconds(14.0),
            &facilitator(),
            &mut controller,
        )
        .unwrap();
    // 50 s were left at 14 s; 30 s are.
    assert!((runner.snapshot(at_seconds(14.0)).remaining_seconds - 30.0).abs() < 1e-6);
    runner
        .steer(
            SteerCommand::SetLeft(Duration::from_secs(5)),
            at_seconds(20.0),
            &facilitator(),
            &mut controller,
        )
        .unwrap();
    assert_eq!(runner.snapshot(at_seconds(26.0)).state, State::Overtime);
    assert_eq!(
        runner.check(
            SteerCommand::Shorten(Duration::from_secs(60)),
            at_seconds(26.0)
        ),
        Err(SteerError::NothingLeft)
    );
    // A time left in overtime is a fresh deadline.
    runner
        .steer(
            SteerCommand::SetLeft(Duration::from_secs(10)),
            at_seconds(30.0),
            &facilitator(),
            &mut controller,
        )
        .unwrap();
    assert!((runner.snapshot(at_seconds(30.0)).remaining_seconds - 10.0).abs() < 1e-6);
    assert_eq!(
        runner.check(SteerCommand::Jump(2), at_seconds(31.0)),
        Err(SteerError::NoSuchSegment {
            number: 3,
            count: 2
        })
    );
    runner
        .steer(
            SteerCommand::Jump(1),
            at_seconds(31.0),
            &facilitator(),
            &mut controller,
        )
        .unwrap();
    assert_eq!(runner.snapshot(at_seconds(31.0)).segment, 1);
}

#[test]
fn segments_with_the_same_wheel_share_its_draws_and_its_resting_place() {
    let plan = ValidPlan::from_toml(
        r#"
name = "rounds"
[[segments]]
title = "Round 1"
duration = "30s"
entries = ["Deploys", "DNS", "Feature flags"]
draw = "without-repetition"
[[segments]]
title = "Round 2"
duration = "30s"
entries = ["Deploys", "DNS", "Feature flags"]
draw = "without-repetition"
"#,
    )
    .unwrap();
    let mut runner = Runner::new(session_id(), plan, options(Speed::NORMAL), clock());
    let (mut controller, _renderer) = test_engine();
    let by = facilitator();
    runner
        .steer(SteerCommand::Spin(0), at_seconds(5.0), &by, &mut controller)
        .unwrap();
    runner
        .steer(
            SteerCommand::Spin(0),
            at_seconds(40.0),
            &by,
            &mut controller,
        )
        .unwrap();
    let wheel = runner.snapshot(at_seconds(50.0)).wheel.unwrap();
    assert_eq!(
        wheel.drawn,
        ["Deploys", "DNS"],
        "round 2 does not draw round 1's topic"
    );
    let last = wheel.last.unwrap();
    assert_eq!((last.segment, last.from, last.index), (1, 0, 1));
}
